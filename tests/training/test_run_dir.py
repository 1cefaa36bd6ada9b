"""The run directory under reruns, kills, divergence and resumes: nothing is lost, nothing is silently wrong."""

from __future__ import annotations

import json
import threading

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import senet_lib.training.loop as loop_module
from senet_lib.checkpoint import read_meta
from senet_lib.training.config import TrainConfig
from senet_lib.training.loop import train
from senet_lib.training.rundir import RunDirBusy, hold_run_dir
from senet_lib.training.segments import UNRECORDED, describe
from tests.training.test_train import tiny_config


def quick(run_dir, **overrides) -> TrainConfig:
    """Two epochs of resnet20 on 100 synthetic images: about a second."""
    return tiny_config(run_dir, **{"model": "resnet20", "epochs": 2, "train_subset": 100, **overrides})


def kill_at(epoch_to_kill: int, step_to_kill: int = 0):
    def on_step(epoch, step):
        if (epoch, step) == (epoch_to_kill, step_to_kill):
            raise KeyboardInterrupt("simulated kill")

    return on_step


def epochs_logged(run_dir) -> list[int]:
    return [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def strict_json(path):
    """Parse ``path`` as strict JSON (or JSON lines): a bare NaN or Infinity fails the test."""
    text = path.read_text()
    lines = text.splitlines() if path.suffix == ".jsonl" else [text]
    return [
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{path.name} holds {c}")) for line in lines
    ]


def test_a_finished_run_is_never_overwritten(tmp_path):
    run = tmp_path / "run"
    train(quick(run))
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(FileExistsError, match="holds this run, finished .*nothing was changed"):
        train(quick(run))
    with pytest.raises(FileExistsError, match=r"holds another run \(lr 0.05 -> 0.1\); nothing was changed"):
        train(quick(run, lr=0.1))
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_an_unfinished_run_asks_for_resume_and_a_run_without_a_finished_epoch_starts_over(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(quick(run), on_step=kill_at(1))
    with pytest.raises(FileExistsError, match=f"unfinished run of this recipe .*--resume {run}"):
        train(quick(run))
    with pytest.raises(KeyboardInterrupt):
        train(quick(tmp_path / "early"), on_step=kill_at(0, 1))
    assert train(quick(tmp_path / "early", lr=0.1))["epochs"] == 2  # nothing was kept, so nothing is lost


def test_default_run_dirs_are_named_by_the_recipe():
    a = TrainConfig(model="se_resnet20", dataset="../shared/datasets/cifar10-jpeg-train.tar.gz")
    assert a.resolved_run_dir().parent.name == "runs"
    assert a.resolved_run_dir().name == f"se_resnet20-cifar10-jpeg-train-s0-{a.recipe_id()}"
    assert TrainConfig.from_dict(a.to_dict()).resolved_run_dir() == a.resolved_run_dir()
    assert TrainConfig(dataset=a.dataset, lr=0.2).resolved_run_dir() != a.resolved_run_dir()
    assert TrainConfig(dataset=a.dataset, progress=False, data_dir="/x").recipe_id() == a.recipe_id()
    assert (
        TrainConfig(dataset=a.dataset, seed=1)
        .resolved_run_dir()
        .name.startswith("se_resnet20-cifar10-jpeg-train-s1-")
    )


def test_resuming_a_finished_run_returns_its_summary_or_rebuilds_a_lost_one(tmp_path):
    run = tmp_path / "run"
    summary = train(quick(run))
    assert train(quick(run), resume=True) == summary
    (run / "summary.json").unlink()  # lost: the grid runner resumes such a run to get it back
    rebuilt = train(quick(run), resume=True)
    assert (
        rebuilt["final_val_acc"] == summary["final_val_acc"]
        and rebuilt["best_val_acc"] == summary["best_val_acc"]
    )
    assert epochs_logged(run) == [1, 2]


def test_a_run_resumes_only_with_its_own_recipe(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(quick(run, epochs=3), on_step=kill_at(1))
    with pytest.raises(ValueError, match=r"started with another recipe \(lr 0.05 -> 0.2\)"):
        train(quick(run, epochs=3, lr=0.2), resume=True)
    with pytest.raises(
        FileNotFoundError, match="holds no config.json, so it is not a training run directory"
    ):
        train(quick(tmp_path / "never", epochs=3), resume=True)
    with pytest.raises(KeyboardInterrupt):
        train(quick(tmp_path / "early"), on_step=kill_at(0, 1))
    with pytest.raises(FileNotFoundError, match="no epoch of .* has finished, so there is nothing to resume"):
        train(quick(tmp_path / "early"), resume=True)


def test_a_resume_never_repeats_epochs_in_the_metrics_and_removes_orphan_temp_files(tmp_path, monkeypatch):
    """Killed after epoch 2's metrics line but before its training state: the resume trains epoch 2 again and
    logs it once; the temporary file the kill left behind is removed."""
    run = tmp_path / "run"
    real_save = torch.save

    def killed_while_saving_epoch_2(obj, target, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("epoch") == 2 and "optimizer" in obj:
            (run / ".latest_state.pt.4242-0badf00d.tmp").write_bytes(b"half a file")
            raise KeyboardInterrupt("simulated kill")
        return real_save(obj, target, *args, **kwargs)

    monkeypatch.setattr(torch, "save", killed_while_saving_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train(quick(run, epochs=3))
    monkeypatch.setattr(torch, "save", real_save)
    assert epochs_logged(run) == [1, 2]
    train(quick(run, epochs=3), resume=True)
    assert epochs_logged(run) == [1, 2, 3]
    assert not list(run.glob(".*.tmp"))


def test_the_run_records_which_process_trained_which_epochs(tmp_path):
    """A run continued by other processes (on another machine, say) names each one with the epochs it kept; a
    process killed before finishing an epoch is not named."""
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(quick(run, epochs=3, threads=1), on_step=kill_at(1))  # keeps epoch 1
    with pytest.raises(KeyboardInterrupt):
        train(quick(run, epochs=3, threads=1), resume=True, on_step=kill_at(1, 1))  # keeps nothing
    summary = train(quick(run, epochs=3, threads=2), resume=True)
    segments = summary["segments"]
    assert [s["epochs"] for s in segments] == [[1, 1], [2, 3]]
    assert [s["threads"] for s in segments] == [1, 2] and segments[1] == {
        "epochs": [2, 3],
        **summary["runtime"],
        "started_at": segments[1]["started_at"],
    }
    assert read_meta(run / "latest")["segments"] == segments
    assert describe(segments, "threads") == "1 (epochs 1-1), 2 (epochs 2-3)"
    assert describe(segments, "precision") == summary["runtime"]["precision"]  # the same in both
    torch.set_num_threads(1)


def test_a_diverged_epoch_is_never_saved_and_json_stays_strict(tmp_path, monkeypatch):
    """BatchNorm running_var at inf (as lr=3000 does) while the training loss is finite: the epoch is refused."""
    run, built = tmp_path / "run", []
    real_create = loop_module.create_model
    monkeypatch.setattr(
        loop_module, "create_model", lambda *a, **k: built.append(real_create(*a, **k)) or built[-1]
    )

    def poison(epoch, step):
        if epoch == 1 and step == 1:
            bn = next(m for m in built[0].modules() if isinstance(m, nn.BatchNorm2d))
            bn.running_var.fill_(float("inf"))

    with pytest.raises(
        FloatingPointError, match=r"after epoch 2, 1 weight and buffer tensors hold NaN/inf"
    ) as err:
        train(quick(run, epochs=3), on_step=poison)
    assert f"the last good state is epoch 1 in {run}" in str(err.value)
    assert epochs_logged(run) == [1]
    assert (
        read_meta(run / "latest")["metrics"]["epoch"] == 1
        and read_meta(run / "best")["metrics"]["epoch"] == 1
    )
    assert all(torch.isfinite(t).all() for t in load_file(run / "latest.safetensors").values())
    for path in [run / "metrics.jsonl", run / "latest.json", run / "best.json", run / "config.json"]:
        strict_json(path)


def test_divergence_in_the_first_epoch_does_not_point_to_a_checkpoint_that_does_not_exist(tmp_path):
    with pytest.raises(FloatingPointError) as err:
        train(quick(tmp_path / "nan", lr=1e6, schedule="step"))
    assert "no epoch was saved before it, so the run has no checkpoint to go back to" in str(err.value)
    assert "latest" not in str(err.value) and not (tmp_path / "nan" / "latest.json").exists()


def test_one_process_trains_in_a_run_dir_at_a_time(tmp_path):
    run, errors = tmp_path / "run", []

    def second_trainer():  # a thread stands in for another process (flock: one owner per open file)
        try:
            train(quick(run))
        except RunDirBusy as err:
            errors.append(err)

    with hold_run_dir(run):
        with hold_run_dir(run):  # nested in one thread: free
            pass
        thread = threading.Thread(target=second_trainer)
        thread.start()
        thread.join()
    assert len(errors) == 1 and "in use by another process" in str(errors[0])
    assert not (run / "config.json").exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"batch_size": 500},
            r"batch_size 500 is larger than the 100 training images.*--batch-size 100 or less",
        ),
        ({"weight_decay": -1e-4}, r"weight_decay must be >= 0"),
        ({"threads": -1}, r"threads must be >= 0"),
        (
            {"model": "se_resnet20", "model_options": {"reduction": "abc"}},
            r"SE option reduction must be a number",
        ),
    ],
)
def test_configs_that_cannot_be_meant_are_refused_before_any_file_is_written(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        train(quick(tmp_path / "run", **overrides))
    assert not (tmp_path / "run").exists()


def test_a_run_dir_written_before_this_change_still_resumes(tmp_path):
    """Runs started by the previous code (and continued later with --resume) keep working: config.json with
    ints where floats are meant, format-1 sidecars, no lock file; latest_state.pt holds the same keys."""
    from senet_lib.cli import main as senet

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(quick(run, epochs=3, warmup_epochs=1.0), on_step=kill_at(1))
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "warmup_epochs": 1, "lr": 0.05}, indent=2))
    for stem in ("latest", "best"):
        sidecar = json.loads((run / f"{stem}.json").read_text())
        sidecar["checkpoint"] = {**sidecar["checkpoint"], "format_version": 1}
        del sidecar["checkpoint"]["rebuild_sha256"]
        (run / f"{stem}.json").write_text(json.dumps(sidecar, indent=2))
    (run / ".lock").unlink()
    (run / "runtime.jsonl").unlink()
    state = torch.load(run / "latest_state.pt", weights_only=True)
    assert (
        set(state) == {"model", "optimizer", "scheduler", "rng", "epoch", "best_acc"} and state["epoch"] == 1
    )
    assert read_meta(run / "latest")["metrics"]["epoch"] == 1
    assert senet(["train", "--resume", str(run), "--no-progress"]) == 0
    assert epochs_logged(run) == [1, 2, 3]
    summary = json.loads((run / "summary.json").read_text())
    assert [(s["epochs"], s["device"]) for s in summary["segments"]] == [
        ([1, 1], UNRECORDED),
        ([2, 3], summary["runtime"]["device"]),
    ]


def test_a_value_shared_by_consecutive_processes_reads_as_one_span():
    """Three processes, the first two in bf16: ``bf16 (epochs 1-26), fp32 (epochs 27-34)``, not the bf16 twice."""
    segments = [
        {"epochs": [1, 2], "precision": "bf16", "threads": 1},
        {"epochs": [3, 26], "precision": "bf16", "threads": 2},
        {"epochs": [27, 34], "precision": "fp32", "threads": 1},
    ]
    assert describe(segments, "precision") == "bf16 (epochs 1-26), fp32 (epochs 27-34)"
    assert describe(segments, "threads") == "1 (epochs 1-2), 2 (epochs 3-26), 1 (epochs 27-34)"
    assert describe(segments[:2], "precision") == "bf16" and describe([], "precision") is None
    assert describe(segments[2:], "device") == UNRECORDED
    older = [{"precision": "bf16", "threads": 2}]  # an older summary: one runtime, no epochs
    assert describe(older, "precision") == "bf16"

"""`senet train` / `experiments` under a hostile but fair user: one clear `error:` line (exit 2) for every user
error, Ctrl-C that says how to resume, a full disk that keeps the last good state; never a traceback."""

from __future__ import annotations

import errno
import json
import os

import pytest
import torch

import senet_lib.cli.training as cli_training
from senet_lib.cli import main as senet
from senet_lib.paths import REPO_ROOT
from tests.data.test_data import write_image_folder

TINY = [
    "--model", "resnet20", "--dataset", "synthetic", "--epochs", "2", "--batch-size", "50", "--train-subset",
    "100", "--lr", "0.05", "--schedule", "cosine", "--device", "cpu", "--threads", "1", "--no-progress",
]  # fmt: skip


def train_args(run_dir, *more) -> list[str]:
    return ["train", *TINY, "--run-dir", str(run_dir), *more]


def error_of(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def interrupt_at(monkeypatch, epoch_to_stop: int, step_to_stop: int = 0) -> None:
    """Make the next `senet train` get Ctrl-C at that epoch and step."""
    real_train = cli_training.train

    def on_step(epoch, step):
        if (epoch, step) == (epoch_to_stop, step_to_stop):
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_training, "train", lambda cfg, resume: real_train(cfg, resume, on_step=on_step))


def test_ctrl_c_says_how_to_resume(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    interrupt_at(monkeypatch, 1)
    assert senet(train_args(run)) == 130
    err = error_of(capsys)
    assert "interrupted (Ctrl-C). The run keeps its last finished epoch (1)" in err
    assert f"continue it with `python -m senet_lib train --resume {run}`" in err
    monkeypatch.undo()
    assert senet(["train", "--resume", str(run), "--no-progress"]) == 0
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_ctrl_c_in_the_first_epoch_says_nothing_was_kept(tmp_path, monkeypatch, capsys):
    interrupt_at(monkeypatch, 0, 1)
    assert senet(train_args(tmp_path / "run")) == 130
    err = error_of(capsys)
    assert "No epoch of" in err and "run the same command again to start over" in err


def test_resume_refuses_flags_that_change_the_recipe(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    interrupt_at(monkeypatch, 1)
    senet(train_args(run))
    monkeypatch.undo()
    capsys.readouterr()
    assert senet(["train", "--resume", str(run), "--lr", "0.5", "--batch-size", "20"]) == 2
    err = error_of(capsys)
    assert "a resumed run keeps its recipe" in err and "batch_size 50 -> 20, lr 0.05 -> 0.5" in err
    assert senet(["train", "--resume", str(run), "--reduction", "4"]) == 2
    assert "model_options {} -> {'reduction': 4.0}" in error_of(capsys)
    assert senet(["train", "--resume", str(run), *TINY]) == 0  # the same recipe again is fine


def _full_disk_when_saving_the_state_of(monkeypatch, epoch_to_fail: int) -> None:
    """The disk fills while epoch N's training state is written: torch's own zip writer would say
    `enforce fail at inline_container.cc`; a plain file write says ENOSPC."""
    real_save, real_fsync, saving = torch.save, os.fsync, []

    def save(obj, target, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("epoch") == epoch_to_fail and "optimizer" in obj:
            if isinstance(target, (str, os.PathLike)):
                raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 2304 vs 2192")
            saving.append(True)
        return real_save(obj, target, *args, **kwargs)

    def fsync(fd):
        if saving:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(os, "fsync", fsync)


def test_a_full_disk_keeps_the_last_good_state_and_says_how_to_go_on(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    _full_disk_when_saving_the_state_of(monkeypatch, 2)
    assert senet(train_args(run)) == 2
    err = error_of(capsys)
    assert f"error: the disk is full: the disk filled up while saving epoch 2 in {run}" in err
    assert (
        f"its training state still holds epoch 1: free some space, then continue with --resume {run}" in err
    )
    monkeypatch.undo()
    assert senet(["train", "--resume", str(run), "--no-progress"]) == 0


def test_a_full_disk_at_the_first_epoch_is_not_called_an_unfinished_epoch(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    _full_disk_when_saving_the_state_of(monkeypatch, 1)
    assert senet(train_args(run)) == 2
    assert "no epoch's training state was saved yet: free some space, then start the run again" in error_of(
        capsys
    )
    monkeypatch.undo()
    assert senet(["train", "--resume", str(run)]) == 2
    err = error_of(capsys)
    assert (
        "holds epoch 1 in its latest checkpoint but no training state" in err
        and "has not finished" not in err
    )
    assert "run the same command without --resume to train it again" in err
    assert senet(train_args(run)) == 0  # as both messages say


@pytest.mark.parametrize(
    "more, message",
    [
        (["--batch-size", "500"], "batch_size 500 is larger than the 100 training images"),
        (["--weight-decay", "-0.1"], "weight_decay must be >= 0"),
        (["--threads", "-1"], "threads must be >= 0"),
        (
            ["--model", "se_resnet20", "--model-option", "reduction=abc"],
            "SE option reduction must be a number",
        ),
        (["--lr", "1e6", "--schedule", "step"], "training diverged"),
        (["--train-subset", "5"], "train_subset=5 cannot hold one image of each of the 10 classes"),
    ],
    ids=[
        "batch > dataset",
        "negative weight decay",
        "threads -1",
        "reduction=abc",
        "divergence",
        "train_subset",
    ],
)
def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys, more, message):
    assert senet(train_args(tmp_path / "run", *more)) == 2
    err = error_of(capsys)
    assert err.startswith("error: ") and message in err and "val_size" not in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        senet(["--debug", *train_args(tmp_path / "run", "--weight-decay", "-1")])


def test_a_one_class_dataset_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SENET_DATA", str(tmp_path / "data"))
    images = write_image_folder(tmp_path / "one", classes=("ant",), per_class=6)
    assert senet(train_args(tmp_path / "run", "--dataset", str(images), "--val-size", "2")) == 2
    assert "has 1 class (ant): a classifier needs at least 2" in error_of(capsys)


def test_config_files_with_strings_and_a_lone_milestone_train(tmp_path, capsys):
    config = tmp_path / "recipe.yaml"
    config.write_text('epochs: "2"\nlr: "0.05"\nschedule: step\nmilestones: 0.5\n')
    assert senet(train_args(tmp_path / "run", "--config", str(config))) == 0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["epochs"] == 2 and saved["lr"] == 0.05 and saved["milestones"] == [0.5]


def test_experiments_need_at_least_one_seed(tmp_path, capsys):
    assert (
        senet(["experiments", "run", str(REPO_ROOT / "experiments/ablation_gate.yaml"), "--seeds", "0"]) == 2
    )
    assert "seeds must be >= 1" in error_of(capsys)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["latency", "-n", "0"], "argument -n: must be >= 1"),
        (["latency", "--threads", "-1"], "--threads: must be >= 0"),
    ],
)
def test_latency_refuses_impossible_counts(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        senet(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err

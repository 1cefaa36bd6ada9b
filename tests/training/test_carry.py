"""Carrying runs to another machine through git: an unfinished one in committable parts, resumed bit-exactly;
a finished one's results, so that a grid trains only what was left."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import senet_lib.training.experiments as experiments
from senet_lib.cli import main as senet
from senet_lib.paths import REPO_ROOT
from senet_lib.training.carry import MANIFEST_FILE, pack_run, pack_runs, read_carried, unpack_run, unpack_runs
from senet_lib.training.experiments import grid_runs, load_grid, run_grid
from senet_lib.training.loop import train
from senet_lib.training.rundir import STATE_FILE
from senet_lib.training.segments import read_lines
from tests.training.test_experiments import GRID
from tests.training.test_run_dir import epochs_logged, kill_at, quick

#: The runs committed between sessions (experiments/README.md, Runs longer than a session).
CARRIED = sorted(p.parent for p in (REPO_ROOT / "experiments" / "carried").rglob(MANIFEST_FILE))


def three_epochs(run_dir):
    return quick(run_dir, epochs=3)


@pytest.fixture
def unfinished(tmp_path):
    """A three-epoch run killed in its third epoch (two epochs kept)."""
    run = tmp_path / "machine-a" / "run"
    with pytest.raises(KeyboardInterrupt):
        train(three_epochs(run), on_step=kill_at(2, 1))
    return run


def test_a_carried_run_resumes_to_the_weights_of_an_uninterrupted_one(tmp_path, unfinished):
    train(three_epochs(tmp_path / "whole"))
    carried = tmp_path / "repo" / "carried"
    manifest = pack_run(unfinished, carried, part_bytes=200_000)
    assert manifest["epoch"] == 2 and manifest["epochs"] == 3 and manifest["model"] == "resnet20"
    assert len(manifest["parts"]) > 1
    assert all((carried / name).stat().st_size <= 200_000 for name in manifest["parts"])
    assert json.loads((carried / "config.json").read_text())["run_dir"] == ""  # no path of machine A
    assert [line["first_epoch"] for line in read_lines(carried)] == [1]  # where epochs 1-2 ran travels too
    shutil.rmtree(tmp_path / "machine-a")  # the old machine is gone; only the repository came along

    moved = tmp_path / "machine-b" / "run"
    unpack_run(carried, moved)
    assert epochs_logged(moved) == [1, 2]
    summary = train(three_epochs(moved), resume=True)
    assert [s["epochs"] for s in summary["segments"]] == [[1, 2], [3, 3]]  # machine A's epochs, then B's
    whole = load_file(tmp_path / "whole" / "latest.safetensors")
    resumed = load_file(moved / "latest.safetensors")
    assert whole.keys() == resumed.keys()
    assert all(torch.equal(whole[key], resumed[key]) for key in whole)
    assert epochs_logged(moved) == [1, 2, 3]


def test_packing_again_replaces_the_parts_a_finished_run_packs_its_results_and_an_empty_one_is_refused(
    tmp_path, unfinished
):
    carried = tmp_path / "carried"
    first = pack_run(unfinished, carried, part_bytes=100_000)
    second = pack_run(unfinished, carried, part_bytes=10**9)
    assert len(first["parts"]) > 1 and second["parts"] == [f"{STATE_FILE}.part000"]
    assert sorted(p.name for p in carried.glob("*.part*")) == second["parts"]  # no stale part is left
    other = tmp_path / "other"
    with pytest.raises(KeyboardInterrupt):
        train(quick(other, epochs=3, lr=0.1), on_step=kill_at(1, 0))
    before = {p.name: p.read_bytes() for p in carried.iterdir()}
    with pytest.raises(
        FileExistsError, match=r"holds another carried run \(lr 0.05 -> 0.1\); nothing was changed"
    ):
        pack_run(other, carried)
    assert {p.name: p.read_bytes() for p in carried.iterdir()} == before

    summary = train(three_epochs(unfinished), resume=True)
    finished = pack_run(unfinished, carried)  # the results only: what a grid's tables read
    assert finished["finished"] and finished["parts"] == [] and not list(carried.glob("*.part*"))
    moved = tmp_path / "moved"
    unpack_run(carried, moved)
    assert json.loads((moved / "summary.json").read_text())["final_val_acc"] == summary["final_val_acc"]
    assert epochs_logged(moved) == [1, 2, 3] and not (moved / STATE_FILE).exists()
    with pytest.raises(FileExistsError, match="holds this run, finished"):
        train(three_epochs(moved))
    with pytest.raises(FileNotFoundError, match="no finished epoch to carry"):
        pack_run(tmp_path / "empty", carried)


def test_a_grid_carried_to_a_fresh_machine_trains_only_what_was_left(tmp_path, monkeypatch):
    """Machine A finishes one run of a grid and part of the other; machine B gets the repository only, resumes
    the unfinished run, never trains the finished one again, and tabulates both."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    two_epochs = {"epochs": 2}
    machine_a, machine_b, carried = tmp_path / "a", tmp_path / "b", tmp_path / "repo" / "carried" / "grid"
    run_grid(grid, seeds=1, out_dir=machine_a, progress=False, overrides=two_epochs, only=["SE r=4"])
    left = grid_runs(*load_grid(grid)[:3], seeds=1, out_dir=machine_a, progress=False, overrides=two_epochs)[
        1, 0
    ]
    with pytest.raises(KeyboardInterrupt):
        train(left, on_step=kill_at(1, 0))
    (machine_a / "runs" / "grid" / "never-started").mkdir()  # a folder without config.json: not a run

    packed = pack_runs(machine_a / "runs" / "grid", carried)
    assert {name: m["finished"] for name, m in packed.items()} == {
        name: name != Path(left.run_dir).name for name in packed
    } and len(packed) == 2
    assert unpack_runs(carried, machine_b / "runs" / "grid").keys() == packed.keys()

    calls = []

    def recorded(cfg, resume=False):
        calls.append((Path(cfg.run_dir).name, resume))
        return train(cfg, resume=resume)

    monkeypatch.setattr(experiments, "train", recorded)
    rows = run_grid(grid, seeds=1, out_dir=machine_b, progress=False, overrides=two_epochs)
    assert calls == [(Path(left.run_dir).name, True)]
    assert [row.label for row in rows] == ["SE r=4", "SE r/4"] and all(len(row.errors) == 1 for row in rows)
    assert unpack_runs(carried, machine_b / "runs" / "grid") == dict.fromkeys(
        packed
    )  # kept: left as they are


def test_a_missing_or_altered_part_and_an_occupied_target_are_refused_and_change_nothing(
    tmp_path, unfinished
):
    carried = tmp_path / "carried"
    manifest = pack_run(unfinished, carried, part_bytes=100_000)
    last = carried / manifest["parts"][-1]
    data = last.read_bytes()
    last.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ValueError, match="do not join into the state"):
        unpack_run(carried, tmp_path / "new")
    last.unlink()
    with pytest.raises(FileNotFoundError, match=f"lacks {last.name}"):
        unpack_run(carried, tmp_path / "new")
    assert not (tmp_path / "new" / STATE_FILE).exists()
    with pytest.raises(FileNotFoundError, match=f"no {MANIFEST_FILE}"):
        unpack_run(tmp_path, tmp_path / "new")

    pack_run(unfinished, carried)
    before = {p.name: p.read_bytes() for p in unfinished.iterdir() if p.is_file()}
    with pytest.raises(FileExistsError, match="already holds a run .*nothing was changed"):
        unpack_run(carried, unfinished)
    assert {p.name: p.read_bytes() for p in unfinished.iterdir() if p.is_file()} == before


def test_carry_from_the_command_line(tmp_path, unfinished, capsys):
    carried, moved = tmp_path / "carried", tmp_path / "moved"
    assert senet(["carry", "pack", str(unfinished), str(carried)]) == 0
    assert f"{unfinished}: epoch 2 of 3 (resnet20, " in capsys.readouterr().out
    assert senet(["carry", "unpack", str(carried), str(moved)]) == 0
    assert "train --resume RUN_DIR" in capsys.readouterr().out
    assert senet(["carry", "unpack", str(carried), str(moved)]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert senet(["train", "--resume", str(moved), "--no-progress"]) == 0
    assert epochs_logged(moved) == [1, 2, 3]


@pytest.mark.parametrize("carried", CARRIED, ids=[p.name for p in CARRIED])
def test_each_committed_carried_run_is_whole_and_resumable(carried):
    """What the next session unpacks: every part there and joining into the state, the curve up to its epoch."""
    manifest, state = read_carried(carried)
    assert all((carried / name).stat().st_size <= 4 * 2**20 for name in manifest["parts"])
    config = json.loads((carried / "config.json").read_text())
    assert config["run_dir"] == "" and config["model"] == manifest["model"]
    assert epochs_logged(carried) == list(range(1, manifest["epoch"] + 1))
    if manifest["finished"]:
        assert manifest["epoch"] == config["epochs"] and (carried / "summary.json").is_file()
    else:
        assert 0 < manifest["epoch"] < config["epochs"] == manifest["epochs"]
        saved = torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)
        assert saved["epoch"] == manifest["epoch"]
    # no training process recorded past the carried epoch
    assert read_lines(carried) == read_lines(carried, up_to_epoch=manifest["epoch"])

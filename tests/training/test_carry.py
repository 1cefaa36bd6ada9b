"""Carrying an unfinished run to another machine: packed into committable parts, unpacked, resumed bit-exactly."""

from __future__ import annotations

import io
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from senet_lib.cli import main as senet
from senet_lib.paths import REPO_ROOT
from senet_lib.training.carry import MANIFEST_FILE, pack_run, read_carried, unpack_run
from senet_lib.training.loop import train
from senet_lib.training.rundir import STATE_FILE
from tests.training.test_run_dir import epochs_logged, kill_at, quick

#: The unfinished long runs committed between sessions (experiments/README.md, Runs longer than a session).
CARRIED = sorted(p.parent for p in (REPO_ROOT / "experiments" / "carried").glob(f"*/{MANIFEST_FILE}"))


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
    shutil.rmtree(tmp_path / "machine-a")  # the old machine is gone; only the repository came along

    moved = tmp_path / "machine-b" / "run"
    unpack_run(carried, moved)
    assert epochs_logged(moved) == [1, 2]
    train(three_epochs(moved), resume=True)
    whole = load_file(tmp_path / "whole" / "latest.safetensors")
    resumed = load_file(moved / "latest.safetensors")
    assert whole.keys() == resumed.keys()
    assert all(torch.equal(whole[key], resumed[key]) for key in whole)
    assert epochs_logged(moved) == [1, 2, 3]


def test_packing_again_replaces_the_parts_and_a_finished_or_empty_run_is_refused(tmp_path, unfinished):
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
    train(three_epochs(unfinished), resume=True)
    with pytest.raises(ValueError, match="finished run .*nothing to carry"):
        pack_run(unfinished, carried)
    with pytest.raises(FileNotFoundError, match="no finished epoch to carry"):
        pack_run(tmp_path / "empty", carried)


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
    assert "packed epoch 2 of 3 (resnet20" in capsys.readouterr().out
    assert senet(["carry", "unpack", str(carried), str(moved)]) == 0
    assert f"--resume {moved}" in capsys.readouterr().out
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
    assert 0 < manifest["epoch"] < config["epochs"] == manifest["epochs"]
    assert epochs_logged(carried) == list(range(1, manifest["epoch"] + 1))
    saved = torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)
    assert saved["epoch"] == manifest["epoch"]

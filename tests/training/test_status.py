"""`senet status`: where a run stands, read without touching the run directory."""

from __future__ import annotations

import os

import pytest

from senet_lib.cli import main as senet
from senet_lib.training.loop import train
from senet_lib.training.rundir import hold_run_dir
from senet_lib.training.status import format_status, run_dirs, run_status, training_pid
from tests.training.test_run_dir import kill_at, quick


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A grid-like folder: one run killed in its third epoch (two kept), one finished."""
    root = tmp_path_factory.mktemp("grid")
    with pytest.raises(KeyboardInterrupt):
        train(quick(root / "unfinished", epochs=3), on_step=kill_at(2))
    train(quick(root / "finished"))
    return root


def test_an_unfinished_run_says_its_epoch_pace_and_where_it_ran(runs):
    status = run_status(runs / "unfinished")
    assert (status["epoch"], status["epochs"], status["pid"], status["summary"]) == (2, 3, None, None)
    assert status["pace_epochs"] == [1, 2] and status["seconds_to_go"] == pytest.approx(
        status["seconds_per_epoch"]
    )
    assert [s["epochs"] for s in status["segments"]] == [[1, 2]]
    text = format_status(status)
    assert "epoch 2 of 3, not training now" in text and "to go: 1 epoch, about" in text
    assert f"{status['segments'][0]['device']}, {status['segments'][0]['precision']}, epochs 1-2" in text


def test_a_run_held_by_a_process_names_it(runs):
    run = runs / "unfinished"
    with hold_run_dir(run):  # stands in for a trainer: this process holds the lock
        assert training_pid(run) == os.getpid()
        assert f"training now (pid {os.getpid()})" in format_status(run_status(run))
    assert training_pid(run) is None


def test_a_finished_run_gives_its_final_epoch_and_a_grid_folder_every_run(runs, capsys):
    assert [p.name for p in run_dirs(runs)] == ["finished", "unfinished"]
    summary = run_status(runs / "finished")["summary"]
    assert senet(["status", str(runs)]) == 0
    out = capsys.readouterr().out
    assert f"finished: final-epoch val acc {summary['final_val_acc']:.2%}" in out and "epoch 2 of 3" in out


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    assert senet(["status", str(tmp_path)]) == 2
    assert "holds no config.json, so it is not a run directory" in capsys.readouterr().err

"""`senet status`: where a run stands, read without touching the run directory."""

from __future__ import annotations

import os
import shutil

import pytest

from senet_lib.cli import main as senet
from senet_lib.training.experiments import grid_runs, load_grid, run_grid
from senet_lib.training.loop import train
from senet_lib.training.rundir import hold_run_dir
from senet_lib.training.status import (
    format_grid_status,
    format_status,
    grid_status,
    grid_time_to_go,
    run_dirs,
    run_status,
    training_pid,
)
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


GRID = """
name: g
base: {dataset: synthetic, model: resnet20, epochs: 2, batch_size: 50, train_subset: 100, device: cpu, lr: 0.05,
       schedule: cosine, threads: 1}
rows:
  - {label: done}
  - {label: elsewhere, lr: 0.04}
  - {label: part, lr: 0.03}
  - {label: fresh, lr: 0.02}
"""


def test_a_grid_status_lists_every_run_its_config_asks_for(tmp_path, capsys):
    """Finished here, finished on another machine (only its committed run record here), part-way (stopped, or
    held by a trainer) and never started: each run of the config in its state, and the epochs left."""
    config = tmp_path / "g.yaml"
    config.write_text(GRID)
    run_grid(
        config, seeds=1, out_dir=tmp_path, progress=False, only=["done", "elsewhere"]
    )  # writes g_runs.csv
    name, base, rows, _ = load_grid(config)
    runs = grid_runs(name, base, rows, seeds=1, out_dir=tmp_path, progress=False)
    shutil.rmtree(runs[1, 0].run_dir)  # finished on another machine: its folder is not here
    with pytest.raises(KeyboardInterrupt):
        train(runs[2, 0], on_step=kill_at(1))  # killed in its second epoch: epoch 1 of 2 kept
    assert [run["state"] for run in grid_status(config, seeds=1, out_dir=tmp_path)] == [
        "finished",
        "finished elsewhere",
        "stopped",
        "not started",
    ]
    with hold_run_dir(runs[2, 0].run_dir):  # stands in for its trainer
        grid = grid_status(config, seeds=1, out_dir=tmp_path)
        text = format_grid_status(grid)
    pace = grid[2]["status"]["seconds_per_epoch"]  # the run training now sets its model's pace
    assert grid_time_to_go(grid) == {"hours": pytest.approx(3 * pace / 3600), "runners": 1, "complete": True}
    lines = text.splitlines()
    assert lines[0] == (
        "[g] 4 runs: 1 finished, 1 finished elsewhere, 1 training, 1 not started; 3 of 8 epochs to go, "
        f"about {3 * pace / 3600:.1f} h with 1 runner at its runs' recent pace"
    )
    assert lines[1].startswith("  done seed 0: finished, final-epoch val acc ")
    assert "from the committed run record" in lines[2]
    assert lines[3].startswith(f"  part seed 0: training now (pid {os.getpid()}), epoch 1 of 2, val acc ")
    assert lines[4] == "  fresh seed 0: not started (2 epochs)"
    assert senet(["experiments", "status", str(config), "--seeds", "1", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 stopped" in out and "part seed 0: stopped at epoch 1 of 2" in out and "resumes it" in out
    assert (
        senet(
            [
                "experiments",
                "status",
                str(config),
                "--seeds",
                "1",
                "--out-dir",
                str(tmp_path),
                "--row",
                "fresh",
            ]
        )
        == 0
    )
    # no run of the grid here has a pace yet: no time estimate
    assert capsys.readouterr().out.startswith("[g] 1 runs: 1 not started; 2 of 2 epochs to go\n")


def test_a_grid_time_to_go_is_a_lower_bound_while_a_model_left_has_no_pace():
    """Runs of a model never trained here count as 'at least'; the runners training now share the epochs left."""

    def run(model, state, epoch, epochs, pace=None):
        status = None if state == "not started" else {"epoch": epoch, "seconds_per_epoch": pace}
        return {"model": model, "state": state, "epochs": epochs, "status": status}

    grid = [
        run("resnet20", "finished", 4, 4, pace=100.0),
        run("resnet20", "training", 1, 4, pace=300.0),  # the pace now, not the finished run's
        run("resnet20", "training", 2, 4, pace=500.0),
        run("resnet20", "not started", 0, 4),
        run("resnet56", "not started", 0, 10),
    ]
    hours = (3 + 2 + 4) * 400 / 2 / 3600  # resnet20's epochs left at the median pace now, over two runners
    assert grid_time_to_go(grid) == {"hours": pytest.approx(hours), "runners": 2, "complete": False}
    assert grid_time_to_go(grid[:1] + grid[4:]) is None  # nothing left has a pace here

"""The experiments runner: each run keyed by its full resolved config, never reused after a recipe change or
shared between rows, one process per run, and a finished run whose summary was lost is finished again."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

import senet_lib.training.experiments as experiments
from senet_lib.checkpoint import read_meta
from senet_lib.cli import main as senet
from senet_lib.training.experiments import grid_runs, load_grid, run_grid, write_grid_tables
from senet_lib.training.rundir import hold_run_dir
from senet_lib.training.status import format_grid_status, grid_status

GRID = """
name: grid
base: {dataset: synthetic, epochs: 1, batch_size: 50, train_subset: 100, device: cpu, lr: 0.05, schedule: cosine,
       threads: 1}
rows:
  - {label: SE r=4, model: se_resnet20, model_options: {reduction: 4}}
  - {label: SE r/4, model: se_resnet20, model_options: {reduction: 8}}
"""


@pytest.fixture
def grid(tmp_path) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(GRID)
    return path


def fake_train(calls: list):
    """A stand-in for train(): records the config and writes the summary a finished run has."""

    def train(cfg, resume=False):
        calls.append((cfg.run_dir, resume))
        summary = {"final_val_acc": 0.5 + cfg.model_options["reduction"] / 100}
        (Path(cfg.run_dir) / "summary.json").write_text(json.dumps(summary))
        return summary

    return train


def test_labels_that_slugify_alike_get_their_own_runs_and_a_recipe_change_trains_anew(
    grid, tmp_path, monkeypatch
):
    run_grid(grid, seeds=1, out_dir=tmp_path, progress=False)
    first = [cfg.run_dir for cfg in _runs(grid, tmp_path)]
    reductions = [read_meta(Path(run, "best"))["model"]["reduction"] for run in first]
    assert reductions == [4, 8]  # "SE r=4" and "SE r/4" (both se_r_4) trained apart

    calls = []
    monkeypatch.setattr(experiments, "train", fake_train(calls))
    run_grid(grid, seeds=1, out_dir=tmp_path, progress=False)  # the same recipe: every run is finished
    assert calls == []
    run_grid(grid, seeds=1, out_dir=tmp_path, progress=False, overrides={"epochs": 2, "lr": 0.2})
    assert len(calls) == 2 and not {run for run, _ in calls} & set(first)  # new runs, trained from scratch
    assert all(Path(run, "best.json").is_file() for run in first)  # the old ones stay as they were


def test_duplicate_labels_are_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: dup\nrows:\n  - {label: a, model: resnet20}\n  - {label: a, model: resnet32}\n")
    with pytest.raises(ValueError, match="two rows of .* are labelled 'a'"):
        load_grid(path)


def test_two_runners_share_a_grid_without_training_a_run_twice(grid, tmp_path, monkeypatch):
    """Another runner owns the first run: this one trains the second, waits, then reads the first's result."""
    runs = _runs(grid, tmp_path)
    calls, started = [], threading.Event()

    def other_runner():
        with hold_run_dir(runs[0].run_dir):
            started.set()
            time.sleep(1.0)
            Path(runs[0].run_dir, "summary.json").write_text(json.dumps({"final_val_acc": 0.75}))

    monkeypatch.setattr(experiments, "train", fake_train(calls))
    thread = threading.Thread(target=other_runner)
    thread.start()
    started.wait()
    rows = run_grid(grid, seeds=1, out_dir=tmp_path, progress=False)
    thread.join()
    assert calls == [(runs[1].run_dir, False)]  # the first run was left to its owner
    assert rows[0].errors == [pytest.approx(25.0)] and rows[1].errors == [pytest.approx(42.0)]


def test_a_runner_that_need_not_wait_moves_on_and_leaves_the_tables_to_the_last_runner(
    grid, tmp_path, monkeypatch, capsys
):
    """wait=False: with only another process's run left, the runner returns at once and writes no table (a
    partial one would hide the held run); the other runner, finishing last, reads both and writes the tables."""
    runs = _runs(grid, tmp_path)
    calls = []
    monkeypatch.setattr(experiments, "train", fake_train(calls))
    table = tmp_path / "results" / "grid.csv"
    with hold_run_dir(runs[0].run_dir):  # the other runner trains the first run
        done = threading.Event()
        thread = threading.Thread(
            target=lambda: (run_grid(grid, seeds=1, out_dir=tmp_path, progress=False, wait=False), done.set())
        )
        thread.start()
        assert done.wait(timeout=30), "the runner waited for the held run"
        thread.join()
        assert calls == [(runs[1].run_dir, False)] and not table.exists()
        assert "SE r=4 seed 0: other processes train them); no tables written" in capsys.readouterr().out
        Path(runs[0].run_dir, "summary.json").write_text(json.dumps({"final_val_acc": 0.75}))
    rows = run_grid(grid, seeds=1, out_dir=tmp_path, progress=False, wait=False)  # the last runner
    assert len(calls) == 1 and [row.errors for row in rows] == [[pytest.approx(25.0)], [pytest.approx(42.0)]]
    assert [line.split(",")[0] for line in table.read_text().splitlines()[1:]] == ["SE r=4", "SE r/4"]


def test_a_finished_run_whose_summary_was_lost_is_finished_again(grid, tmp_path):
    run_grid(grid, seeds=1, out_dir=tmp_path, progress=False, only=["SE r=4"])
    run_dir = Path(_runs(grid, tmp_path)[0].run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").unlink()
    rows = run_grid(grid, seeds=1, out_dir=tmp_path, progress=False, only=["SE r=4"])
    assert rows[0].errors == [pytest.approx(100 * (1 - summary["final_val_acc"]))]


def test_a_grid_run_row_by_row_ends_with_one_table_of_all_its_rows(grid, tmp_path, monkeypatch):
    """--row trains only its rows, but the tables keep every row that has finished: the depth-56 rows run in a
    later session must not wipe the depth-20 rows from the committed table; an unfinished row is left out."""
    calls = []
    monkeypatch.setattr(experiments, "train", fake_train(calls))
    table = tmp_path / "results" / "grid.csv"
    first = run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r=4"])
    assert [row.label for row in first] == ["SE r=4"] and len(calls) == 2
    assert [line.split(",")[0] for line in table.read_text().splitlines()[1:]] == ["SE r=4"]
    Path(_runs(grid, tmp_path)[1].run_dir).mkdir(parents=True)  # the other row: started, not finished
    run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r=4"])
    assert len(calls) == 2 and [line.split(",")[0] for line in table.read_text().splitlines()[1:]] == [
        "SE r=4"
    ]
    second = run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r/4"])
    assert [row.label for row in second] == ["SE r/4"] and len(calls) == 4
    lines = table.read_text().splitlines()[1:]
    assert [line.split(",")[0] for line in lines] == ["SE r=4", "SE r/4"]
    assert lines[0].split(",")[2] == "46.00" and lines[1].split(",")[2] == "42.00"  # 1 - (0.5 + r / 100)


def test_rows_finished_on_another_machine_stay_in_the_tables_from_their_committed_records(
    grid, tmp_path, monkeypatch
):
    """The depth-20 runs of se_vs_plain finished on a machine that is gone; the depth-56 rows, run on this one,
    must not drop them from the committed tables. Records are matched by run folder name (row, seed and full
    recipe), so after a recipe change they are not reused."""
    calls = []
    monkeypatch.setattr(experiments, "train", fake_train(calls))
    results = tmp_path / "results"
    run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r=4"])
    for cfg in _runs(grid, tmp_path, seeds=2)[
        :2
    ]:  # the old machine's run folders are gone; the tables remain
        shutil.rmtree(cfg.run_dir)
    before = (results / "grid_runs.csv").read_text().splitlines()
    run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r/4"])
    assert len(calls) == 4  # SE r=4 was not trained again
    lines = (results / "grid.csv").read_text().splitlines()[1:]
    assert [line.split(",")[0] for line in lines] == ["SE r=4", "SE r/4"]
    assert lines[0].split(",")[2] == "46.00"  # from the records: 1 - (0.5 + 4 / 100)
    after = (results / "grid_runs.csv").read_text().splitlines()
    assert (
        after[:3] == before[:3] and len(after) == 5
    )  # header, SE r=4's two lines as they were, SE r/4's two
    run_grid(
        grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r=4"]
    )  # asked for again: still finished
    assert len(calls) == 4 and (results / "grid_runs.csv").read_text().splitlines() == after
    # another recipe: SE r=4's records are for the old one, so they are not reused and the row waits to be run
    run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r/4"], overrides={"lr": 0.2})
    assert [line.split(",")[0] for line in (results / "grid.csv").read_text().splitlines()[1:]] == ["SE r/4"]


OTHER = """
name: other
base: {dataset: synthetic, epochs: 1, batch_size: 50, train_subset: 100, device: cpu, lr: 0.05, schedule: cosine,
       threads: 1}
pairs:
  - [r = 16, reference]
rows:
  - {label: reference, model: se_resnet20, model_options: {reduction: 4}}
  - {label: r = 16, model: se_resnet20, model_options: {reduction: 16}}
"""


def test_a_run_another_grid_finished_with_the_same_recipe_and_seed_is_read_from_there_not_trained_twice(
    grid, tmp_path, monkeypatch, capsys
):
    """recipe_techniques' reference row is se_vs_plain's SE-ResNet-20 (the same full recipe and seed): its runs are
    read from that grid, here or from its committed records, under this grid's label, and named in its table;
    after a recipe change nothing is shared."""
    calls = []
    monkeypatch.setattr(experiments, "train", fake_train(calls))
    other = tmp_path / "other.yaml"
    other.write_text(OTHER)
    run_grid(
        grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r=4"]
    )  # "reference" of the other grid
    shared = [Path(cfg.run_dir).name for cfg in _runs(grid, tmp_path, seeds=2)[:2]]
    rows = run_grid(other, seeds=2, out_dir=tmp_path, progress=False)
    assert len(calls) == 4 and all(Path(run).parent.name == "other" for run, _ in calls[2:])  # r = 16 only
    assert [row.errors for row in rows] == [[pytest.approx(46.0)] * 2, [pytest.approx(34.0)] * 2]
    assert (
        f"reference seed 0: the same run (full recipe and seed) as grid's {shared[0]}"
        in capsys.readouterr().out
    )
    results = tmp_path / "results"
    lines = (results / "other_runs.csv").read_text().splitlines()[1:]
    assert [line.split(",")[:3] for line in lines[:2]] == [
        ["reference", "0", shared[0]],
        ["reference", "1", shared[1]],
    ]
    table = (results / "other.md").read_text()
    assert (
        f"reference, seed 1: the same run (full recipe and seed) as grid's `{shared[1]}`, trained once."
        in table
    )
    assert "| r = 16 − reference | 2 | -12.00 ± 0.00 |" in (results / "other_pairs.md").read_text()

    shutil.rmtree(tmp_path / "runs" / "grid")  # the shared runs finished on another machine: records only
    status = grid_status(other, seeds=2, out_dir=tmp_path)
    assert [(run["state"], run["shared_with"]) for run in status[:2]] == [("finished elsewhere", "grid")] * 2
    assert (
        f"; it is grid's {shared[0]} (the same full recipe and seed), not trained twice"
        in format_grid_status(status)
    )
    run_grid(other, seeds=2, out_dir=tmp_path, progress=False)
    assert len(calls) == 4 and (results / "other_runs.csv").read_text().splitlines()[1:] == lines

    run_grid(other, seeds=1, out_dir=tmp_path, progress=False, overrides={"lr": 0.2})  # another recipe
    assert len(calls) == 6 and all(Path(run).parent.name == "other" for run, _ in calls[4:])


def test_tables_of_a_grid_part_way_through_hold_its_finished_rows_and_say_how_many_are_to_come(
    grid, tmp_path, monkeypatch, capsys
):
    """`experiments tables` trains nothing: before any row has finished it writes nothing; then the finished rows
    only (a row with a seed to go is left out), with a note that the grid is part-way and how to see the rest."""
    calls = []
    monkeypatch.setattr(experiments, "train", fake_train(calls))
    results = tmp_path / "results"
    assert senet(["experiments", "tables", str(grid), "--seeds", "2", "--out-dir", str(tmp_path)]) == 0
    assert "no row has finished all 2 seeds yet: no tables written" in capsys.readouterr().out
    assert not results.exists()
    run_grid(grid, seeds=2, out_dir=tmp_path, progress=False, only=["SE r=4"])
    (results / "grid.md").unlink()
    Path(_runs(grid, tmp_path, seeds=2)[2].run_dir).mkdir(
        parents=True
    )  # SE r/4 seed 0: started, not finished
    assert senet(["experiments", "tables", str(grid), "--seeds", "2", "--out-dir", str(tmp_path)]) == 0
    assert "SE r=4                         val error  46.00 ± 0.00 %" in capsys.readouterr().out
    assert len(calls) == 2  # SE r=4's two runs, from run_grid: `tables` trained nothing
    table = (results / "grid.md").read_text()
    assert "| SE r=4 | 2 | 46.00 ± 0.00 |" in table and "SE r/4 |" not in table
    assert (
        f"Part-way: 1 of the grid's 2 rows; the others have not finished all 2 seeds (`python -m senet_lib "
        f"experiments status {grid} --seeds 2` lists every run)." in table
    )
    assert [row.label for row in write_grid_tables(grid, seeds=2, out_dir=tmp_path)] == ["SE r=4"]


def _runs(grid, out_dir, seeds=1):
    name, base, rows, _ = load_grid(grid)
    return [cfg for _, cfg in sorted(grid_runs(name, base, rows, seeds, out_dir, progress=False).items())]

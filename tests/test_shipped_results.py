"""The results tables that ship in ``experiments/results`` agree with the runs they summarise.

A grid's ``<name>.csv`` (mean ± std per row) must be the final epoch of every run in ``<name>_runs.csv``, and each
run's final accuracy must be the last line of its curve in ``<name>_curves.csv`` (never the best epoch). A table
edited by hand, or written from a different set of runs than the curves, fails here; so does a README table of
SE vs plain that no longer states what the runs hold.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict

import pytest

from senet_lib.course.results import RESULTS_DIR
from senet_lib.paths import REPO_ROOT
from senet_lib.training.grid_tables import recorded_grids

GRIDS = recorded_grids(RESULTS_DIR)


def _read(name: str) -> list[dict[str, str]]:
    with open(RESULTS_DIR / name, newline="") as fh:
        return list(csv.DictReader(fh))


def test_results_ship_for_at_least_one_grid():
    assert "se_vs_plain" in GRIDS, (
        f"experiments/results/se_vs_plain_runs.csv is missing (grids found: {GRIDS})"
    )


@pytest.mark.parametrize("grid", GRIDS)
def test_table_is_the_final_epoch_of_its_runs(grid):
    runs = _read(f"{grid}_runs.csv")
    curves = defaultdict(list)
    for line in _read(f"{grid}_curves.csv"):
        curves[line["label"], int(line["seed"])].append(line)
    by_label = defaultdict(dict)
    for run in runs:
        key = run["label"], int(run["seed"])
        curve = sorted(curves[key], key=lambda line: int(line["epoch"]))
        assert [int(line["epoch"]) for line in curve] == list(range(1, int(run["epochs"]) + 1)), key
        assert float(curve[-1]["val_acc"]) == pytest.approx(float(run["final_val_acc"])), key
        assert float(run["best_val_acc"]) == pytest.approx(max(float(line["val_acc"]) for line in curve)), key
        by_label[run["label"]][key[1]] = 100 * (1 - float(run["final_val_acc"]))
    table = _read(f"{grid}.csv")
    assert {row["label"] for row in table} == set(by_label)
    for row in table:
        errors = [by_label[row["label"]][seed] for seed in sorted(by_label[row["label"]])]
        assert int(row["seeds"]) == len(errors)
        assert [float(e) for e in row["errors"].split()] == pytest.approx(errors, abs=0.005)
        assert float(row["error_mean"]) == pytest.approx(statistics.fmean(errors), abs=0.005)
        if len(errors) > 1:
            assert float(row["error_std"]) == pytest.approx(statistics.stdev(errors), abs=0.005)


def test_readme_tables_state_what_the_se_vs_plain_runs_hold():
    """The README's SE-vs-plain tables (model | seeds | mean ± std | per seed | flip TTA apart) give the figures of
    the shipped runs: a table left behind when the runs change fails here."""
    runs = _read("se_vs_plain_runs.csv")
    readme = (REPO_ROOT / "README.md").read_text()
    labels = {run["label"] for run in runs}
    stated = [cells for line in readme.splitlines() if (cells := _cells(line)) and cells[0] in labels]
    assert {"ResNet-20", "SE-ResNet-20"} <= {cells[0] for cells in stated}, "no SE-vs-plain table in README"
    for label, seeds, mean_std, per_seed, tta in stated:
        mine = sorted((run for run in runs if run["label"] == label), key=lambda run: int(run["seed"]))
        errors = [100 * (1 - float(run["final_val_acc"])) for run in mine]
        flips = [100 * (1 - float(run["final_val_acc_flip_tta"])) for run in mine]
        assert int(seeds) == len(mine), label
        assert mean_std == f"{statistics.fmean(errors):.2f} ± {statistics.stdev(errors):.2f}", label
        assert per_seed == ", ".join(f"{e:.2f}" for e in errors), label
        assert tta == f"{statistics.fmean(flips):.2f} ± {statistics.stdev(flips):.2f}", label


def _cells(line: str) -> list[str] | None:
    """The cells of a five-column markdown table row, else None."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return cells if line.startswith("|") and len(cells) == 5 else None

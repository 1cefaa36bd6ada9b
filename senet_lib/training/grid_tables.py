"""The tables a grid of runs leaves in ``experiments/results``: ``<name>.csv`` / ``.md`` (mean ± std of the
final-epoch validation error per row), ``<name>_pairs.md`` (paired differences, seed by seed), ``<name>_runs.csv``
(one line per run) and ``<name>_curves.csv`` (every epoch of every run)."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from senet_lib.training.rundir import EPOCH_FIELDS, METRICS_FILE, read_metrics, read_summary
from senet_lib.training.segments import describe


@dataclass
class Row:
    label: str
    fields: dict[str, Any]
    paper: float | None = None
    errors: list[float] = field(default_factory=list)  # validation error (%) per finished seed

    @property
    def mean(self) -> float:
        """Mean validation error (%) over the finished seeds."""
        return mean_std(self.errors)[0]

    @property
    def std(self) -> float:
        """Sample standard deviation of the validation error (%) over the finished seeds (0 for one seed)."""
        return mean_std(self.errors)[1]

    @property
    def paper_text(self) -> str:
        """The paper's error as the tables print it: two decimals, or "–" when the paper has no such row."""
        return "–" if self.paper is None else f"{self.paper:.2f}"


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def write_tables(
    name: str, rows: list[Row], results_dir: Path, caption: str, command: str = "", notes: Sequence[str] = ()
) -> tuple[Path, Path]:
    """``<name>.csv`` (one line per row) and ``<name>.md`` (mean ± std beside the paper's number, then ``notes``
    as a list)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "seeds", "error_mean", "error_std", "paper_error", "errors"])
        for row in rows:
            writer.writerow(
                [
                    row.label,
                    len(row.errors),
                    f"{row.mean:.2f}",
                    f"{row.std:.2f}",
                    "" if row.paper is None else row.paper,
                    " ".join(f"{e:.2f}" for e in row.errors),
                ]
            )
    lines = [
        f"# {name}",
        "",
        "Final-epoch validation error (%), mean ± sample std over seeds."
        + (f" Reproduce: `{command}`." if command else ""),
        "",
        f"| model | seeds | val error (%) mean ± std | {caption} |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.label} | {len(row.errors)} | {row.mean:.2f} ± {row.std:.2f} | {row.paper_text} |"
        )
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


#: ``<name>_runs.csv``: one line per run. compute_seconds sums the epochs' training and validation time (the
#: metrics.jsonl ``seconds`` + ``eval_seconds``: no start-up, no compiling), across resumes.
RUN_COLUMNS = (
    "label",
    "seed",
    "run",
    "epochs",
    "final_val_acc",
    "final_val_acc_flip_tta",
    "best_val_acc",
    "compute_seconds",
    "device",
    "precision",
    "compile",
    "threads",
)
#: ``<name>_curves.csv``: one line per epoch of every run, as its metrics.jsonl records it.
CURVE_COLUMNS = ("label", "seed", *EPOCH_FIELDS)


def read_run_records(name: str, results_dir: Path) -> dict[str, dict[str, str]]:
    """The lines of an existing ``<name>_runs.csv`` by run folder name (``<label>-s<seed>-<recipe id>``: the same
    name is the same row, seed and full recipe); {} when there is none."""
    path = results_dir / f"{name}_runs.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {line["run"]: line for line in csv.DictReader(fh)}


def recorded_grids(results_dir: Path) -> list[str]:
    """The grids that have committed run records in ``results_dir`` (a ``<name>_runs.csv`` each)."""
    return sorted(path.name.removesuffix("_runs.csv") for path in Path(results_dir).glob("*_runs.csv"))


def recorded_line(run_dir: Path, results_dir: Path) -> dict[str, str] | None:
    """The committed record of the run in ``run_dir`` (``runs/<grid>/<run folder>``): its line in
    ``<grid>_runs.csv``, None when there is none."""
    return read_run_records(run_dir.parent.name, results_dir).get(run_dir.name)


def recorded_error(line: dict[str, str]) -> float:
    """The final-epoch validation error (%) of a run as its ``<name>_runs.csv`` line records it."""
    return 100.0 * (1.0 - float(line["final_val_acc"]))


def _read_curves(name: str, results_dir: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    path = results_dir / f"{name}_curves.csv"
    curves: dict[tuple[str, str], list[dict[str, str]]] = {}
    if path.is_file():
        with open(path, newline="") as fh:
            for line in csv.DictReader(fh):
                curves.setdefault((line["label"], line["seed"]), []).append(line)
    return curves


def write_run_records(name: str, runs: list[tuple[str, int, Path]], results_dir: Path) -> tuple[Path, Path]:
    """``<name>_runs.csv`` and ``<name>_curves.csv`` for ``(label, seed, run dir)`` of finished runs: every seed's
    final and best epoch (flip test-time augmentation apart), its compute time and where it ran, and its curves.

    A run whose folder is not on this machine (it finished on another one) keeps its lines from the files being
    replaced, found by its run folder name, so a grid finished across machines keeps every run's record. A run
    this grid shares with another (``runs/<other grid>/<folder>``: the same full recipe and seed, trained once)
    takes its lines from that grid's files, under this grid's label."""
    results_dir.mkdir(parents=True, exist_ok=True)
    committed: dict[
        str, tuple[dict, dict]
    ] = {}  # grid -> its records and curves, read before any is replaced
    run_lines, curve_lines = [], []
    for label, seed, run_dir in runs:
        summary = read_summary(run_dir)
        grid = run_dir.parent.name
        if grid not in committed:
            committed[grid] = read_run_records(grid, results_dir), _read_curves(grid, results_dir)
        recorded, recorded_curves = committed[grid]
        if summary is None and run_dir.name in recorded:
            line = recorded[run_dir.name]
            run_lines.append({**line, "label": label})
            curves = recorded_curves.get((line["label"], line["seed"]), [])
            curve_lines += [{**curve, "label": label} for curve in curves]
            continue
        summary = summary or {}
        records = read_metrics(run_dir / METRICS_FILE)
        curve_lines += [{"label": label, "seed": seed, **record} for record in records]
        segments = summary.get("segments") or [summary.get("runtime", {})]  # older summaries: one runtime
        run_lines.append(
            {
                **{
                    key: summary.get(key)
                    for key in ("epochs", "final_val_acc", "final_val_acc_flip_tta", "best_val_acc")
                },
                **{key: describe(segments, key) for key in ("device", "precision", "compile", "threads")},
                "label": label,
                "seed": seed,
                "run": run_dir.name,
                "compute_seconds": round(
                    sum(r.get("seconds", 0) + r.get("eval_seconds", 0) for r in records), 1
                ),
            }
        )
    paths = results_dir / f"{name}_runs.csv", results_dir / f"{name}_curves.csv"
    for path, columns, lines in zip(paths, (RUN_COLUMNS, CURVE_COLUMNS), (run_lines, curve_lines)):
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(lines)
    return paths


def write_paired_table(name: str, pairs: list[tuple[Row, Row]], results_dir: Path, command: str = "") -> Path:
    """``<name>_pairs.md``: per pair (A, B), the seed-by-seed difference of validation error A - B, mean ± std."""
    lines = [
        f"# {name}: paired differences",
        "",
        "Validation error of the first row minus the second, seed by seed (same seed: same split, initialisation"
        " draw and data order), in percentage points; negative means the first is better."
        + (f" Reproduce: `{command}`." if command else ""),
        "",
        "| pair | seeds | difference (points) mean ± std | per seed |",
        "|---|---|---|---|",
    ]
    for a, b in pairs:
        diffs = [x - y for x, y in zip(a.errors, b.errors)]
        mean, std = mean_std(diffs)
        per_seed = ", ".join(f"{d:+.2f}" for d in diffs)
        lines.append(f"| {a.label} − {b.label} | {len(diffs)} | {mean:+.2f} ± {std:.2f} | {per_seed} |")
    path = results_dir / f"{name}_pairs.md"
    path.write_text("\n".join(lines) + "\n")
    return path

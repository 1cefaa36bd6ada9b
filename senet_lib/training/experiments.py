"""Reproduction runner: a grid of training runs from a YAML config, resumable, summarised as tables.

    python -m senet_lib experiments run experiments/cifar10_paper.yaml --seeds 3

A config has a ``name``, a ``base`` (TrainConfig fields shared by all rows) and ``rows``: each row a
``label``, its own TrainConfig fields (``model``, ``model_options``, ...) and optionally ``paper``, the
paper's error (%) to print beside ours. Finished runs are skipped; interrupted ones are resumed.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from senet_lib.training.config import TrainConfig, load_config_file
from senet_lib.training.loop import train


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


def load_grid(path: str | Path) -> tuple[str, dict[str, Any], list[Row], str]:
    """Parse an experiment config into (name, base fields, rows, the paper column's caption)."""
    grid = load_config_file(path)
    missing = {"name", "rows"} - set(grid)
    if missing:
        raise ValueError(f"experiment config {path} lacks {sorted(missing)}; see experiments/README.md")
    rows = []
    for raw in grid["rows"]:
        raw = dict(raw)
        if "label" not in raw:
            raise ValueError(f"every row of {path} needs a 'label'; got {raw}")
        label, paper = raw.pop("label"), raw.pop("paper", None)
        rows.append(Row(label, raw, paper))
    caption = grid.get("paper_caption", "paper error (%)")
    return grid["name"], dict(grid.get("base", {})), rows, caption


def select_rows(rows: list[Row], labels: Iterable[str] | None) -> list[Row]:
    """The rows whose labels are in ``labels`` (None = all), in the config's order."""
    if labels is None:
        return rows
    wanted = list(labels)
    known = [row.label for row in rows]
    if unknown := [label for label in wanted if label not in known]:
        raise ValueError(f"no row labelled {unknown}; the config's rows are {known}")
    return [row for row in rows if row.label in wanted]


def run_grid(
    path: str | Path,
    seeds: int = 3,
    out_dir: str | Path = "experiments",
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    only: Iterable[str] | None = None,
) -> list[Row]:
    """Train every row for every seed (skipping finished runs) and write the CSV and markdown tables.

    ``overrides`` replace base fields in every row (e.g. the dataset path, the device, fewer epochs);
    ``only`` keeps the rows with these labels.
    """
    name, base, rows, caption = load_grid(path)
    rows = select_rows(rows, only)
    overrides = overrides or {}
    out_dir = Path(out_dir)
    for row in rows:
        for seed in range(seeds):
            run_dir = out_dir / "runs" / name / f"{slug(row.label)}-s{seed}"
            summary_file = run_dir / "summary.json"
            if not summary_file.exists():
                cfg = TrainConfig.from_dict(
                    {
                        **base,
                        **row.fields,
                        **overrides,
                        "seed": seed,
                        "run_dir": str(run_dir),
                        "progress": progress,
                    }
                )
                resume = (run_dir / "latest_state.pt").exists()
                print(
                    f"[{name}] {row.label} seed {seed}: {'resuming' if resume else 'training'} -> {run_dir}"
                )
                train(cfg, resume=resume)
            summary = json.loads(summary_file.read_text())
            row.errors.append(100.0 * (1.0 - summary["final_val_acc"]))
    write_tables(name, rows, out_dir / "results", caption)
    return rows


def slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label).strip("_").lower()


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def write_tables(name: str, rows: list[Row], results_dir: Path, caption: str) -> tuple[Path, Path]:
    """``<name>.csv`` (one line per row) and ``<name>.md`` (mean ± std beside the paper's number)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{name}.csv", results_dir / f"{name}.md"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "seeds", "error_mean", "error_std", "paper_error", "errors"])
        for row in rows:
            mean, std = mean_std(row.errors)
            writer.writerow(
                [
                    row.label,
                    len(row.errors),
                    f"{mean:.2f}",
                    f"{std:.2f}",
                    "" if row.paper is None else row.paper,
                    " ".join(f"{e:.2f}" for e in row.errors),
                ]
            )
    lines = [
        f"# {name}",
        "",
        f"| model | seeds | val error (%) mean ± std | {caption} |",
        "|---|---|---|---|",
    ]
    for row in rows:
        mean, std = mean_std(row.errors)
        paper = "–" if row.paper is None else f"{row.paper:.2f}"
        lines.append(f"| {row.label} | {len(row.errors)} | {mean:.2f} ± {std:.2f} | {paper} |")
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path

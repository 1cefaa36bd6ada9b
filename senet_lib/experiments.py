"""Reproduction runner: a grid of training runs from a YAML config, resumable, summarised as tables.

    python -m senet_lib.experiments run experiments/cifar10_paper.yaml --seeds 3

A config has a ``name``, a ``base`` (TrainConfig fields shared by all rows) and ``rows``: each row a
``label``, its own TrainConfig fields (``model``, ``model_options``, ...) and optionally ``paper``, the
paper's error (%) to print beside ours. Finished runs are skipped; interrupted ones are resumed.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from senet_lib.config import TrainConfig, load_config_file, parse_assignment


@dataclass
class Row:
    label: str
    fields: dict[str, Any]
    paper: float | None = None
    errors: list[float] = field(default_factory=list)  # validation error (%) per finished seed


def load_grid(path: str | Path) -> tuple[str, dict[str, Any], list[Row], str]:
    """Parse an experiment config into (name, base fields, rows, the paper column's caption)."""
    spec = load_config_file(path)
    missing = {"name", "rows"} - set(spec)
    if missing:
        raise ValueError(f"experiment config {path} lacks {sorted(missing)}; see experiments/README.md")
    rows = []
    for raw in spec["rows"]:
        raw = dict(raw)
        if "label" not in raw:
            raise ValueError(f"every row of {path} needs a 'label'; got {raw}")
        label, paper = raw.pop("label"), raw.pop("paper", None)
        rows.append(Row(label, raw, paper))
    caption = spec.get("paper_caption", "paper error (%)")
    return spec["name"], dict(spec.get("base", {})), rows, caption


def select_rows(rows: list[Row], labels: Iterable[str] | None) -> list[Row]:
    """The rows whose labels are in ``labels`` (None = all), in the config's order."""
    if labels is None:
        return rows
    wanted = list(labels)
    known = [row.label for row in rows]
    if unknown := [label for label in wanted if label not in known]:
        raise ValueError(f"no row labelled {unknown}; the config's rows are {known}")
    return [row for row in rows if row.label in wanted]


def run_grid(path: str | Path, seeds: int = 3, out_dir: str | Path = "experiments", progress: bool = True,
             overrides: dict[str, Any] | None = None, only: Iterable[str] | None = None) -> list[Row]:
    """Train every row for every seed (skipping finished runs) and write the CSV and markdown tables.

    ``overrides`` replace base fields in every row (e.g. the dataset path, the device, fewer epochs);
    ``only`` keeps the rows with these labels.
    """
    from senet_lib.train import train  # heavy import only when training

    name, base, rows, caption = load_grid(path)
    rows = select_rows(rows, only)
    overrides = overrides or {}
    out_dir = Path(out_dir)
    for row in rows:
        for seed in range(seeds):
            run_dir = out_dir / "runs" / name / f"{slug(row.label)}-s{seed}"
            summary_file = run_dir / "summary.json"
            if not summary_file.exists():
                cfg = TrainConfig.from_dict({**base, **row.fields, **overrides, "seed": seed,
                                             "run_dir": str(run_dir), "progress": progress})
                resume = (run_dir / "latest_state.pt").exists()
                print(f"[{name}] {row.label} seed {seed}: {'resuming' if resume else 'training'} -> {run_dir}")
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
            writer.writerow([row.label, len(row.errors), f"{mean:.2f}", f"{std:.2f}",
                             "" if row.paper is None else row.paper, " ".join(f"{e:.2f}" for e in row.errors)])
    lines = [f"# {name}", "", f"| model | seeds | val error (%) mean ± std | {caption} |", "|---|---|---|---|"]
    for row in rows:
        mean, std = mean_std(row.errors)
        paper = "–" if row.paper is None else f"{row.paper:.2f}"
        lines.append(f"| {row.label} | {len(row.errors)} | {mean:.2f} ± {std:.2f} | {paper} |")
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="train a grid of runs and write the results tables")
    run.add_argument("config", help="experiment YAML, e.g. experiments/cifar10_paper.yaml")
    run.add_argument("--seeds", type=int, default=3)
    run.add_argument("--out-dir", default="experiments", help="runs go to OUT/runs, tables to OUT/results")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config field in every run, e.g. --set dataset=path/to/images --set epochs=10")
    run.add_argument("--row", action="append", default=None, metavar="LABEL",
                     help="run only the row with this label (repeatable), e.g. --row 'r = 16'")
    run.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    overrides = dict(parse_assignment(item) for item in args.set)
    rows = run_grid(args.config, seeds=args.seeds, out_dir=args.out_dir, progress=not args.no_progress,
                    overrides=overrides, only=args.row)
    for row in rows:
        mean, std = mean_std(row.errors)
        print(f"{row.label:30s} {mean:6.2f} ± {std:4.2f}   paper {row.paper}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m senet_lib.experiments", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

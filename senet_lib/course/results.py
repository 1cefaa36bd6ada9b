"""The precomputed results the course shows in the laptop tier, read from what ships with the repository.

* training curves: ``data/checkpoints/<name>.metrics.jsonl`` (one JSON record per epoch, as ``metrics.jsonl``);
* trained models: ``data/checkpoints/<name>.json`` (the sidecar: recipe, final-epoch metrics, runtime);
* results tables: ``experiments/results/<name>.csv`` (columns label, seeds, error_mean, error_std, paper_error,
  errors), written by ``python -m senet_lib experiments run experiments/<name>.yaml``.

Each reader returns a :class:`Shipped`: the data when the file is there, ``None`` when it is not, and in both cases
the command that produces it, so a notebook can label precomputed numbers as such or say plainly what is missing.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from senet_lib.paths import REPO_ROOT, checkpoints_dir
from senet_lib.training.grid_tables import Row
from senet_lib.training.rundir import read_metrics

__all__ = [
    "RESULTS_DIR",
    "Shipped",
    "difference",
    "paper_table_rows",
    "paper_table_so_far",
    "se_pairs",
    "shipped_checkpoint",
    "shipped_curves",
    "shipped_table",
    "shipped_text",
]

#: Where the experiment runner's tables ship: ``experiments/results``.
RESULTS_DIR = REPO_ROOT / "experiments" / "results"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


@dataclass
class Shipped:
    """One shipped result: ``data`` (None when the file is not in this checkout), its file and how to make it."""

    what: str
    path: Path
    command: str
    data: Any = None

    @property
    def found(self) -> bool:
        return self.data is not None

    def note(self) -> str:
        """One plain line: precomputed (where from, how to reproduce) or not shipped yet (how to produce it)."""
        if self.found:
            return f"PRECOMPUTED, not run here: {self.what} from {_rel(self.path)}. Reproduce: {self.command}"
        return (
            f"NOT SHIPPED YET: {self.what} ({_rel(self.path)} is not in this checkout). "
            f"It is produced by: {self.command}"
        )


def _train_command(name: str) -> str:
    return f"bash experiments/train_checkpoints.sh {name}  (recipe: experiments/recipes/cifar10_long.yaml)"


def shipped_curves(name: str) -> Shipped:
    """The per-epoch training records of the shipped model ``name`` (a list of dicts), or not shipped."""
    path = checkpoints_dir() / f"{name}.metrics.jsonl"
    return Shipped(f"training curves of {name}", path, _train_command(name), read_metrics(path) or None)


def shipped_checkpoint(name: str) -> Shipped:
    """The sidecar (recipe, final-epoch ``metrics``, ``runtime``) of the shipped model ``name``, or not shipped."""
    path = checkpoints_dir() / f"{name}.json"
    meta = json.loads(path.read_text()) if path.is_file() else None
    return Shipped(f"trained {name}", path, _train_command(name), meta)


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


def shipped_table(name: str, results_dir: str | Path = RESULTS_DIR) -> Shipped:
    """The rows of ``<results_dir>/<name>.csv`` as :class:`~senet_lib.training.experiments.Row` (errors per seed,
    mean, std, the paper's number), ready for ``ablation_comparison``; or not shipped."""
    path = Path(results_dir) / f"{name}.csv"
    config = REPO_ROOT / "experiments" / f"{name}.yaml"
    command = f"python -m senet_lib experiments run {_rel(config)}"
    if not config.is_file():
        command += f"  ({_rel(config)} is not in this checkout yet)"
    rows = None
    if path.is_file():
        with open(path, newline="") as fh:
            rows = [
                Row(
                    line["label"],
                    {},
                    _float(line.get("paper_error", "")),
                    [float(e) for e in line.get("errors", "").split()] or [float(line["error_mean"])],
                )
                for line in csv.DictReader(fh)
            ] or None
    if rows:  # the seeds it was run with (the runner's default is 3)
        command += f" --seeds {max(len(row.errors) for row in rows)}"
    return Shipped(f"results table {name}", path, command, rows)


def shipped_text(name: str, config: str | None = None, results_dir: str | Path = RESULTS_DIR) -> Shipped:
    """The markdown table ``<results_dir>/<name>.md`` as text (e.g. paired differences), or not shipped;
    ``config`` names the experiment config that writes it (default: ``name``)."""
    path = Path(results_dir) / f"{name}.md"
    command = shipped_table(config or name, results_dir).command  # its grid's command, with the seeds it ran
    return Shipped(f"results {name}", path, command, path.read_text() if path.is_file() else None)


def _plain_label(label: str) -> str | None:
    """'SE-ResNet-20' -> 'resnet-20', 'se_resnet20' -> 'resnet20'; None for a label without the SE prefix."""
    text = label.strip().lower()
    for prefix in ("se-", "se_", "se "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return None


def se_pairs(rows: list[Row]) -> list[tuple[Row, Row]]:
    """(plain row, SE row) for every SE row whose label is a plain row's label with an "SE-" prefix."""
    plain = {row.label.strip().lower(): row for row in rows}
    return [(plain[base], row) for row in rows if (base := _plain_label(row.label)) in plain]


def difference(se: Row, plain: Row) -> tuple[float, float]:
    """SE minus plain error (%, mean over seeds) and its standard error sqrt(s_se²/n_se + s_plain²/n_plain)."""
    spread = (se.std**2 / len(se.errors) + plain.std**2 / len(plain.errors)) ** 0.5
    return se.mean - plain.mean, spread


def _paper_table(label: str) -> int | None:
    """'r = 2 (Table 10)' -> 10; None for a label that names no table of the paper."""
    found = re.search(r"\(Table (\d+)\)", label)
    return int(found.group(1)) if found else None


def paper_table_rows(rows: list[Row], table: int) -> list[Row]:
    """The rows of a grid that holds several of the paper's ablation tables at once (``ablations_cpu``) that one
    table compares: the baselines every table shares (rows with the paper's number and no "(Table N)" in their
    label: no SE, the standard SE block), then the rows labelled "(Table ``table``)", in the grid's order."""
    picked = [row for row in rows if _paper_table(row.label) == table]
    if not picked:
        named = sorted({n for row in rows if (n := _paper_table(row.label)) is not None})
        raise ValueError(
            f"no row is labelled '(Table {table})'; this grid's rows name the paper's tables {named}"
        )
    baselines = [row for row in rows if _paper_table(row.label) is None and row.paper is not None]
    return baselines + picked


def paper_table_so_far(shipped: list[Row], planned: list[Row], table: int) -> tuple[list[Row], list[str]]:
    """The paper's Table ``table`` in a grid's shipped table that may be part-way through (``planned``: the rows of
    the grid's config, :func:`paper_table_rows` picks both): the shipped rows to show (the baselines and the
    table's own rows that have finished; none while no row of the table itself has) and the labels still to come."""
    have = {row.label: row for row in shipped}
    wanted = paper_table_rows(planned, table)  # a table number the grid does not hold is refused here
    waiting = [row.label for row in wanted if row.label not in have]
    if not any(_paper_table(row.label) == table and row.label in have for row in wanted):
        return [], waiting
    return [have[row.label] for row in wanted if row.label in have], waiting

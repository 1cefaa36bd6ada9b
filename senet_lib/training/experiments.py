"""Reproduction runner: a grid of training runs from a YAML config, resumable, summarised as tables.

    python -m senet_lib experiments run experiments/cifar10_paper.yaml --seeds 3

A config has a ``name``, a ``base`` (TrainConfig fields shared by all rows) and ``rows``: each row a
``label``, its own TrainConfig fields (``model``, ``model_options``, ...) and optionally ``paper``, the
paper's error (%) to print beside ours; optional ``pairs`` of labels ``[SE row, plain row]`` get a table of
paired differences (same seed). Each run lives in ``runs/<name>/<label>-s<seed>-<recipe id>``, named by
a hash of its full resolved config: a changed recipe trains anew, never reuses or mixes with an old run.
Finished runs are skipped; interrupted ones are resumed; runners sharing a grid split its runs (a lock per run).
A run that another grid has already finished with the same full recipe and seed (the same recipe id: a
technique grid's reference row is SE vs plain's SE-ResNet-20) is that grid's run, read from there, not trained
twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from senet_lib.training.config import TrainConfig, load_config_file
from senet_lib.training.grid_tables import (
    Row,
    read_run_records,
    recorded_error,
    recorded_grids,
    recorded_line,
    write_paired_table,
    write_run_records,
    write_tables,
)
from senet_lib.training.loop import train
from senet_lib.training.rundir import CONFIG_FILE, STATE_FILE, RunDirBusy, hold_run_dir, read_summary


def load_grid(path: str | Path) -> tuple[str, dict[str, Any], list[Row], str]:
    """Parse an experiment config into (name, base fields, rows, the paper column's caption)."""
    grid = load_config_file(path)
    missing = {"name", "rows"} - set(grid)
    if missing:
        raise ValueError(f"experiment config {path} lacks {sorted(missing)}; see experiments/README.md")
    if not grid["rows"]:
        raise ValueError(
            f"experiment config {path} has no rows; give it at least one (see experiments/README.md)"
        )
    rows = []
    for raw in grid["rows"]:
        if not isinstance(raw, dict) or "label" not in raw:
            raise ValueError(f"every row of {path} needs a 'label' and its fields; got {raw}")
        raw = dict(raw)
        label, paper = str(raw.pop("label")), raw.pop("paper", None)
        if label in [row.label for row in rows]:
            raise ValueError(f"two rows of {path} are labelled {label!r}; give each row its own label")
        rows.append(Row(label, raw, paper))
    caption = grid.get("paper_caption", "paper error (%)")
    return grid["name"], dict(grid.get("base", {})), rows, caption


def load_pairs(path: str | Path, rows: list[Row]) -> list[tuple[str, str]]:
    """The config's ``pairs`` (``[[label A, label B], ...]``: A - B is compared seed by seed), checked against rows."""
    pairs = load_config_file(path).get("pairs") or []
    labels = [row.label for row in rows]
    checked = []
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and all(label in labels for label in pair)):
            raise ValueError(
                f"each entry of 'pairs' in {path} is [row label, row label] of this config's rows "
                f"{labels}; got {pair!r}"
            )
        checked.append((str(pair[0]), str(pair[1])))
    return checked


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
    wait: bool = True,
) -> list[Row]:
    """Train every row for every seed (skipping finished runs) and write the CSV and markdown tables.

    ``overrides`` replace base fields in every row (e.g. the dataset path, the device, fewer epochs);
    ``only`` trains the rows with these labels (returned); the tables also keep every other row whose seeds have
    all finished, so a grid run row by row, across sessions, ends with one table of all its rows.
    When only runs that other processes train are left, it waits for them to write the tables; ``wait=False``
    returns ``[]`` then instead, writing nothing (another runner of the grid writes the tables when it finishes),
    so that a runner with nothing left to train moves on.
    """
    name, base, all_rows, _ = load_grid(path)
    load_pairs(path, all_rows)  # checked before any training
    rows = select_rows(all_rows, only)
    runs = grid_runs(name, base, all_rows, seeds, out_dir, progress, overrides)
    chosen = {row.label for row in rows}  # labels are unique (load_grid)
    selected = {i for i, row in enumerate(all_rows) if row.label in chosen}
    results = Path(out_dir) / "results"
    errors, waiting, stuck = {}, [], False
    for key in (key for key in runs if key[0] in selected):
        if (error := _finished_error(runs[key], results)) is None:
            waiting.append(key)
        else:  # finished: here, on another machine (its committed record) or in another grid
            errors[key] = error
    for (i, seed), cfg in runs.items():
        if i in selected and (shared := Path(cfg.run_dir)).parent.name != name:
            print(
                f"[{name}] {all_rows[i].label} seed {seed}: the same run (full recipe and seed) as "
                f"{shared.parent.name}'s {shared.name}; read from there, not trained twice"
            )
    while waiting:  # runs another runner holds are left for later; when only those remain, wait for one
        busy = []
        for n, key in enumerate(waiting):
            try:
                errors[key] = _finish_run(name, all_rows[key[0]].label, runs[key], wait=stuck and n == 0)
            except RunDirBusy:
                print(f"[{name}] {all_rows[key[0]].label} seed {key[1]}: another process trains it; later")
                busy.append(key)
        if busy and len(busy) == len(waiting) and not wait:
            held = ", ".join(f"{all_rows[i].label} seed {seed}" for i, seed in busy)
            print(
                f"[{name}] nothing left to train here ({held}: other processes train them); no tables written: "
                "the grid's last runner writes them, or run this command again once they have finished"
            )
            return []
        stuck, waiting = len(busy) == len(waiting), busy
    for i in selected:
        all_rows[i].errors = [errors[i, seed] for seed in range(seeds)]
    _tabulate(path, all_rows, runs, seeds, out_dir, selected)
    return rows


def write_grid_tables(
    path: str | Path,
    seeds: int = 3,
    out_dir: str | Path = "experiments",
    overrides: dict[str, Any] | None = None,
) -> list[Row]:
    """The tables of a grid's rows whose seeds have all finished (here, in committed records or in another grid),
    training nothing: a grid part-way through ships what it has, and its markdown table says how many rows are
    still to come. Returns the rows tabulated; [] and nothing written when no row has finished yet."""
    name, base, all_rows, _ = load_grid(path)
    runs = grid_runs(name, base, all_rows, seeds, out_dir, False, overrides)
    return _tabulate(path, all_rows, runs, seeds, out_dir)


def _tabulate(
    path: str | Path,
    all_rows: list[Row],
    runs: dict[tuple[int, int], TrainConfig],
    seeds: int,
    out_dir: str | Path,
    selected: Iterable[int] = (),
) -> list[Row]:
    """Write the tables: the ``selected`` rows (their errors set) and every other row whose seeds have all
    finished, in the config's order; the rows tabulated (none: nothing is written)."""
    name, _, _, caption = load_grid(path)
    results, selected = Path(out_dir) / "results", set(selected)
    for i, row in enumerate(all_rows):
        # a row another invocation ran (here or elsewhere) is tabulated once every seed has finished
        if i not in selected:
            row.errors = [
                e for seed in range(seeds) if (e := _finished_error(runs[i, seed], results)) is not None
            ]
    done = [i for i, row in enumerate(all_rows) if i in selected or len(row.errors) == seeds]
    if not done:
        print(f"[{name}] no row has finished all {seeds} seeds yet: no tables written")
        return []
    command = f"python -m senet_lib experiments run {path} --seeds {seeds}"
    notes = [
        f"{all_rows[i].label}, seed {seed}: the same run (full recipe and seed) as "
        f"{run_dir.parent.name}'s `{run_dir.name}`, trained once."
        for i in done
        for seed in range(seeds)
        if (run_dir := Path(runs[i, seed].run_dir)).parent.name != name
    ]
    if len(done) < len(all_rows):
        notes.append(
            f"Part-way: {len(done)} of the grid's {len(all_rows)} rows; the others have not finished all {seeds} "
            f"seeds (`python -m senet_lib experiments status {path} --seeds {seeds}` lists every run)."
        )
    tabulated = [all_rows[i] for i in done]
    write_tables(name, tabulated, results, caption, command, notes)
    finished = [(all_rows[i].label, seed, Path(runs[i, seed].run_dir)) for i in done for seed in range(seeds)]
    write_run_records(name, finished, results)
    by_label = {row.label: row for row in tabulated}
    pairs = [(a, b) for a, b in load_pairs(path, all_rows) if a in by_label and b in by_label]
    if pairs:
        write_paired_table(name, [(by_label[a], by_label[b]) for a, b in pairs], results, command)
    return tabulated


def grid_runs(
    name: str,
    base: dict[str, Any],
    rows: list[Row],
    seeds: int,
    out_dir: str | Path = "experiments",
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
) -> dict[tuple[int, int], TrainConfig]:
    """``(row index, seed) -> config`` of every run, each in ``OUT/runs/<name>/<label>-s<seed>-<recipe id>``."""
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1 (each row is trained once per seed); got {seeds}")
    runs = {}
    for i, row in enumerate(rows):
        for seed in range(seeds):
            cfg = TrainConfig.from_dict({**base, **row.fields, **(overrides or {}), "seed": seed})
            cfg.validate()
            cfg.progress = progress
            cfg.run_dir = str(Path(out_dir) / "runs" / name / f"{slug(row.label)}-s{seed}-{cfg.recipe_id()}")
            if (elsewhere := same_run_elsewhere(name, cfg, out_dir)) is not None:
                cfg.run_dir = str(elsewhere)
            runs[i, seed] = cfg
    return runs


def same_run_elsewhere(name: str, cfg: TrainConfig, out_dir: str | Path = "experiments") -> Path | None:
    """Where another grid finished the run ``cfg`` describes (the same full recipe and seed: the same recipe id),
    when grid ``name`` has not finished it itself: a run folder here with its summary, else a committed record
    (``runs/<other grid>/<run folder>``, whose folder may be on another machine). None if no grid has."""
    runs_root, results = Path(out_dir) / "runs", Path(out_dir) / "results"
    if _finished_error(cfg, results) is not None:
        return None
    # run folders end in -s<seed>-<recipe id> whatever their row's label (the id hashes the seed too)
    suffix = f"-s{cfg.seed}-{cfg.recipe_id()}"
    for folder in sorted(runs_root.glob(f"*/*{suffix}")):
        if folder.parent.name != name and read_summary(folder) is not None:
            return folder
    for grid in recorded_grids(results):
        if grid != name and (
            run := next((r for r in read_run_records(grid, results) if r.endswith(suffix)), None)
        ):
            return runs_root / grid / run
    return None


def _finish_run(name: str, label: str, cfg: TrainConfig, wait: bool) -> float:
    """The validation error (%) of one run: its summary, after training or resuming it if needed."""
    run_dir = Path(cfg.run_dir)
    with hold_run_dir(run_dir, wait=wait):
        summary = read_summary(run_dir)
        if summary is None:
            resume = (run_dir / STATE_FILE).exists()
            print(f"[{name}] {label} seed {cfg.seed}: {'resuming' if resume else 'training'} -> {run_dir}")
            summary = train(cfg, resume=resume)
    return _error(summary)


def _finished_error(cfg: TrainConfig, results: Path) -> float | None:
    """The validation error (%) of a run that has finished, None if it has not (nothing is trained): from its
    folder, or, where the folder is not on this machine, from the committed run records in ``results`` (the same
    run folder name, so the same row, seed and recipe). A folder here without a summary is unfinished: it is
    trained or resumed here."""
    run_dir = Path(cfg.run_dir)
    summary = read_summary(run_dir)
    if summary is not None:
        return _error(summary)
    if (run_dir / CONFIG_FILE).is_file():
        return None
    line = recorded_line(run_dir, results)
    return None if line is None else recorded_error(line)


def _error(summary: dict) -> float:
    """A finished run's final-epoch validation error (%), never its best epoch's."""
    return 100.0 * (1.0 - summary["final_val_acc"])


def slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label).strip("_").lower()

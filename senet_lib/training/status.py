"""Where a run stands, read from its folder without touching it: the epoch, the last validation accuracy, the pace
and the time to go, whether a process trains it now, and which machines trained which epochs. A grid's status
lists every run its config asks for, those not started too.

    python -m senet_lib status runs/ship-resnet56 runs/ship-se_resnet56     # or a grid's folder of runs
    python -m senet_lib experiments status experiments/ablations_cpu.yaml --seeds 2
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from senet_lib.training.grid_tables import recorded_line
from senet_lib.training.rundir import CONFIG_FILE, LOCK_FILE, METRICS_FILE, read_metrics, read_summary
from senet_lib.training.segments import run_segments

__all__ = [
    "GRID_STATES",
    "PACE_EPOCHS",
    "format_grid_status",
    "format_status",
    "grid_status",
    "run_dirs",
    "run_status",
    "training_pid",
]

#: The pace is the median time of this many last epochs, on the machine that trained the last one (a median: an
#: epoch paused by hand does not skew it).
PACE_EPOCHS = 10

#: Where a grid's run stands (see :func:`grid_status`), from done to not begun: a count of each heads its status.
GRID_STATES = ("finished", "finished elsewhere", "training", "stopped", "not started")


def training_pid(run_dir: str | Path) -> int | None:
    """The process that holds the run directory's lock (it trains there now), or None.

    Read from the kernel's table of locks (``/proc/locks``, Linux), so the lock is never taken, not even briefly: a
    trainer or grid runner starting meanwhile is not turned away. None where that table cannot be read.
    """
    lock = Path(run_dir) / LOCK_FILE
    try:
        st, table = lock.stat(), Path("/proc/locks").read_text()
    except OSError:
        return None
    file_id = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    # "1: FLOCK  ADVISORY  WRITE 2263 fe:00:5490724 0 EOF" (pid, then device:inode); a waiter has "->" in field 2
    for line in table.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == file_id:
            return int(fields[4])
    return None


def run_status(run_dir: str | Path) -> dict:
    """Where the run in ``run_dir`` stands: epochs done and planned, the last epoch's record, seconds per epoch
    (median of the last :data:`PACE_EPOCHS` on the machine that trained it last, validation included), seconds to
    go, the training pid, the segments."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise FileNotFoundError(
            f"{run_dir} holds no {CONFIG_FILE}, so it is not a run directory; pass the folder a run trains in "
            "(its --run-dir) or a grid's folder of runs"
        )
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    records = read_metrics(run_dir / METRICS_FILE)
    done, planned = (records[-1]["epoch"] if records else 0), config["epochs"]
    segments = run_segments(run_dir, done) if done else []
    since = segments[-1]["epochs"][0] if segments else 1  # the pace of the machine that trains it last
    recent = [r for r in records if r["epoch"] >= since][-PACE_EPOCHS:]
    pace = statistics.median(r["seconds"] + r.get("eval_seconds", 0) for r in recent) if recent else None
    return {
        "run_dir": str(run_dir),
        "model": config["model"],
        "epoch": done,
        "epochs": planned,
        "last": records[-1] if records else None,
        "seconds_per_epoch": pace,
        "pace_epochs": [recent[0]["epoch"], recent[-1]["epoch"]] if recent else None,
        "seconds_to_go": None if pace is None else pace * (planned - done),
        "pid": training_pid(run_dir),
        "summary": read_summary(run_dir),
        "segments": segments,
    }


def run_dirs(path: str | Path) -> list[Path]:
    """``path`` itself when it is a run directory, else the run directories in it (a grid's folder of runs)."""
    path = Path(path)
    if (path / CONFIG_FILE).is_file() or not path.is_dir():
        return [path]
    return sorted(p for p in path.iterdir() if (p / CONFIG_FILE).is_file()) or [path]


def format_status(status: dict) -> str:
    """A few lines for a person: where the run stands, how fast it goes, where it ran."""
    state = f"training now (pid {status['pid']})" if status["pid"] else "not training now"
    lines = [
        f"{status['run_dir']} ({status['model']}): epoch {status['epoch']} of {status['epochs']}, {state}"
    ]
    if status["summary"] is not None:
        s = status["summary"]
        lines.append(
            f"  finished: final-epoch val acc {s['final_val_acc']:.2%} "
            f"(flip TTA {s['final_val_acc_flip_tta']:.2%}, apart)"
        )
    elif status["last"] is not None:
        last, to_go = status["last"], status["epochs"] - status["epoch"]
        first, end = status["pace_epochs"]
        lines.append(
            f"  last epoch: val acc {last['val_acc']:.2%}, lr {last['lr']:.3g}; "
            f"{status['seconds_per_epoch']:.0f} s an epoch (median of epochs {first}-{end}, validation included)"
        )
        lines.append(
            f"  to go: {to_go} epoch{'' if to_go == 1 else 's'}, about {status['seconds_to_go'] / 3600:.1f} h "
            "at that pace"
        )
    if status["segments"]:
        where = "; ".join(
            f"{s.get('device')}, {s.get('precision', '?')}, epochs {s['epochs'][0]}-{s['epochs'][1]}"
            for s in status["segments"]
        )
        lines.append(f"  ran on: {where}")
    return "\n".join(lines)


def grid_status(
    path: str | Path,
    seeds: int = 3,
    out_dir: str | Path = "experiments",
    overrides: dict[str, Any] | None = None,
    only: Iterable[str] | None = None,
) -> list[dict]:
    """Every run that ``experiments run`` with the same arguments trains, in the config's order: its row label,
    seed, planned epochs, state and, where its folder is here, its :func:`run_status`. The state is "finished",
    "finished elsewhere" (its folder is not here, its line is in the committed ``<name>_runs.csv``), "training" (a
    process holds it now), "stopped" (part-way, nobody trains it) or "not started". ``shared_with`` names the
    other grid whose finished run this one is (the same full recipe and seed), else None."""
    from senet_lib.training.experiments import grid_runs, load_grid, select_rows  # the runner imports torch

    name, base, rows, _ = load_grid(path)
    chosen = {row.label for row in select_rows(rows, only)}
    runs = grid_runs(name, base, rows, seeds, out_dir, overrides=overrides)
    grid = []
    for (i, seed), cfg in runs.items():
        if rows[i].label not in chosen:
            continue
        run_dir = Path(cfg.run_dir)
        status = run_status(run_dir) if (run_dir / CONFIG_FILE).is_file() else None
        record = None if status is not None else recorded_line(run_dir, Path(out_dir) / "results")
        if status is None:
            state = "finished elsewhere" if record is not None else "not started"
        elif status["summary"] is not None:
            state = "finished"
        elif status["pid"]:
            state = "training"
        else:
            state = "stopped" if status["epoch"] else "not started"  # no epoch done: trained anew
        grid.append(
            {
                "grid": name,
                "label": rows[i].label,
                "seed": seed,
                "model": cfg.model,
                "epochs": cfg.epochs,
                "state": state,
                "status": status,
                "record": record,
                "shared_with": None if run_dir.parent.name == name else run_dir.parent.name,
            }
        )
    return grid


def _epochs_left(run: dict) -> int:
    """The epochs a run of :func:`grid_status` has still to train (0 once finished, here or elsewhere)."""
    if run["state"] in ("finished", "finished elsewhere"):
        return 0
    return run["epochs"] - (run["status"]["epoch"] if run["status"] else 0)


def grid_time_to_go(grid: list[dict]) -> dict | None:
    """An estimate of the training time a grid has left: every run's epochs to go at its model's pace here (the
    median seconds an epoch of the runs training now, else of every run here), shared by the runners training now
    (at least one). ``complete`` is False when a model still to train has no pace here (the hours are then a lower
    bound); None when no run left has a pace."""
    here = [run for run in grid if run["status"] and run["status"]["seconds_per_epoch"] is not None]
    pace = {}
    for model in {run["model"] for run in here}:
        mine = [run for run in here if run["model"] == model]
        paced = [run for run in mine if run["state"] == "training"] or mine
        pace[model] = statistics.median(run["status"]["seconds_per_epoch"] for run in paced)
    left = [run for run in grid if _epochs_left(run)]
    known = [run for run in left if run["model"] in pace]
    if not known:
        return None
    runners = max(1, sum(run["state"] == "training" for run in here))
    seconds = sum(_epochs_left(run) * pace[run["model"]] for run in known) / runners
    return {"hours": seconds / 3600, "runners": runners, "complete": len(known) == len(left)}


def format_grid_status(grid: list[dict]) -> str:
    """A count of the grid's runs by state, the epochs and the time left, then a line per run."""
    counts = {state: sum(run["state"] == state for run in grid) for state in GRID_STATES}
    to_go = sum(_epochs_left(run) for run in grid)
    head = ", ".join(f"{counts[state]} {state}" for state in GRID_STATES if counts[state])
    line = f"[{grid[0]['grid']}] {len(grid)} runs: {head}; {to_go} of {sum(run['epochs'] for run in grid)} epochs to go"
    if estimate := grid_time_to_go(grid):
        runners = estimate["runners"]
        line += (
            f", {'about' if estimate['complete'] else 'at least'} {estimate['hours']:.1f} h with {runners} "
            f"runner{'' if runners == 1 else 's'} at its runs' recent pace"
        )
    lines = [line]
    lines += [f"  {run['label']} seed {run['seed']}: {_run_line(run)}{_shared(run)}" for run in grid]
    return "\n".join(lines)


def _shared(run: dict) -> str:
    """Where a run shared with another grid lives (the same full recipe and seed, trained once), else ''."""
    if run["shared_with"] is None:
        return ""
    folder = Path(run["status"]["run_dir"]).name if run["status"] else run["record"]["run"]
    return f"; it is {run['shared_with']}'s {folder} (the same full recipe and seed), not trained twice"


def _run_line(run: dict) -> str:
    status, state = run["status"], run["state"]
    if state == "finished":
        return f"finished, final-epoch val acc {status['summary']['final_val_acc']:.2%}"
    if state == "finished elsewhere":
        acc = float(run["record"]["final_val_acc"])
        return (
            f"finished, final-epoch val acc {acc:.2%} (from the committed run record: its folder is not here)"
        )
    if state == "not started":
        return f"not started ({run['epochs']} epochs)"
    last = status["last"]
    line = f"epoch {status['epoch']} of {run['epochs']}, val acc {last['val_acc']:.2%}" if last else "epoch 0"
    if status["seconds_to_go"] is not None:
        line += f", about {status['seconds_to_go'] / 3600:.1f} h to go at {status['seconds_per_epoch']:.0f} s an epoch"
    if state == "training":
        return f"training now (pid {status['pid']}), {line}"
    return f"stopped at {line}: the same `experiments run` resumes it"

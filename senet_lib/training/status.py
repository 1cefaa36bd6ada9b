"""Where a run stands, read from its folder without touching it: the epoch, the last validation accuracy, the pace
and the time to go, whether a process trains it now, and which machines trained which epochs.

    python -m senet_lib status runs/ship-resnet56 runs/ship-se_resnet56     # or a grid's folder of runs
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from senet_lib.training.rundir import CONFIG_FILE, LOCK_FILE, METRICS_FILE, read_metrics, read_summary
from senet_lib.training.segments import run_segments

__all__ = ["PACE_EPOCHS", "format_status", "run_dirs", "run_status", "training_pid"]

#: The pace is the median time of this many last epochs, on the machine that trained the last one (a median: an
#: epoch paused by hand does not skew it).
PACE_EPOCHS = 10


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

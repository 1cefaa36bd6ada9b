"""The run directory: who owns it (a lock), when a run may start or resume in it, and its metrics log.

A run directory holds ``config.json``, ``metrics.jsonl`` (one line per finished epoch), ``runtime.jsonl``
(which process trained which epochs: ``segments``), the ``latest`` and ``best`` checkpoints, ``latest_state.pt``
(exact resume) and, once every epoch ran, ``summary.json``. Nothing in it is ever overwritten by a run of another
recipe, or by a new run of the same recipe when --resume was meant.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from torch import nn

from senet_lib.checkpoint import checkpoint_paths, read_meta, save_checkpoint, save_training_state
from senet_lib.files import atomic_write, remove_orphan_temp_files
from senet_lib.training.config import TrainConfig, recipe_differences

__all__ = [
    "CONFIG_FILE",
    "EPOCH_FIELDS",
    "METRICS_FILE",
    "STATE_FILE",
    "SUMMARY_FILE",
    "RunDirBusy",
    "append_metrics",
    "begin_run",
    "check_new_run",
    "check_resume",
    "hold_run_dir",
    "last_good",
    "read_metrics",
    "read_summary",
    "resume_hint",
    "save_epoch",
    "saved_epoch",
]

CONFIG_FILE, METRICS_FILE, SUMMARY_FILE = "config.json", "metrics.jsonl", "summary.json"
STATE_FILE = "latest_state.pt"
#: One line of ``metrics.jsonl``: what every epoch records (seconds: training; eval_seconds: validation).
EPOCH_FIELDS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "images_per_s",
    "seconds",
    "eval_seconds",
)
LOCK_FILE = ".lock"  # held (flock) by the process training in the folder; the kernel releases it when it dies
#: A folder holding any of these has results to lose; one holding none (a run killed in its first epoch) is reused.
RESULT_FILES = (STATE_FILE, SUMMARY_FILE, "latest.safetensors", "best.safetensors")

_this_thread = threading.local()  # .held: run dirs it holds -> nesting depth (the grid runner, then train)


class RunDirBusy(OSError):
    """Another process holds the run directory's lock (it is training there)."""


@contextmanager
def hold_run_dir(run_dir: str | Path, wait: bool = False) -> Iterator[None]:
    """Own ``run_dir`` (created if missing) while the block runs: RunDirBusy if another process owns it.

    ``wait``: block until the other process lets go instead. Nested holds in one thread are free.
    """
    path = Path(run_dir).resolve()
    _held = _this_thread.__dict__.setdefault("held", {})
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise RunDirBusy(
                f"{run_dir} is in use by another process (pid {owner}): one process trains in a run directory "
                "at a time; wait for it to finish (or stop it), then run this again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
    finally:
        os.close(fd)  # releases the lock


def saved_epoch(run_dir: Path) -> int | None:
    """The epoch the ``latest`` checkpoint holds, None when there is none (cheap: reads the sidecar)."""
    if not checkpoint_paths(run_dir / "latest")[1].is_file():
        return None
    try:
        return int(read_meta(run_dir / "latest")["metrics"]["epoch"])
    except (ValueError, KeyError, TypeError):
        return None


def read_metrics(path: Path) -> list[dict]:
    """The epoch records of a ``metrics.jsonl`` (a run's, or one shipped beside a checkpoint); [] if there is none."""
    return (
        [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    )


def read_summary(run_dir: Path) -> dict | None:
    """The run's ``summary.json`` (it finished every epoch), or None."""
    path = run_dir / SUMMARY_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _saved_config(run_dir: Path) -> TrainConfig | None:
    path = run_dir / CONFIG_FILE
    return (
        TrainConfig.from_dict({**json.loads(path.read_text()), "run_dir": str(run_dir)})
        if path.is_file()
        else None
    )


def check_new_run(cfg: TrainConfig, run_dir: Path) -> None:
    """Refuse to start ``cfg`` afresh in a folder that holds results (finished, resumable, or another recipe)."""
    if not any((run_dir / name).exists() for name in RESULT_FILES):
        return  # new, or a run that never finished an epoch: nothing to lose
    saved, summary = _saved_config(run_dir), read_summary(run_dir)
    differences = recipe_differences(saved, cfg) if saved is not None else ["no config.json"]
    if differences:
        raise FileExistsError(
            f"{run_dir} holds another run ({'; '.join(differences[:4])}); nothing was changed. Choose another "
            "--run-dir (or leave it out: default folders are named by the recipe), or delete that folder"
        )
    if summary is not None:
        raise FileExistsError(
            f"{run_dir} holds this run, finished ({summary.get('epochs')} epochs, final val acc "
            f"{summary.get('final_val_acc', float('nan')):.4f}); nothing was changed. To train it again, "
            "delete that folder or choose another --run-dir"
        )
    if (run_dir / STATE_FILE).is_file():
        raise FileExistsError(
            f"{run_dir} holds an unfinished run of this recipe (epoch {saved_epoch(run_dir)} of {cfg.epochs} "
            f"saved); continue it with --resume {run_dir}, or delete the folder to start over"
        )
    # the same recipe without a training state (its save failed): training again reproduces what is there


def check_resume(cfg: TrainConfig, run_dir: Path) -> None:
    """Refuse to resume ``cfg`` in ``run_dir`` unless the folder holds a resumable run of the same recipe."""
    saved = _saved_config(run_dir)
    if saved is None:
        raise FileNotFoundError(
            f"{run_dir} holds no config.json, so it is not a training run directory; pass the folder a run "
            "was started in (its --run-dir)"
        )
    if differences := recipe_differences(saved, cfg):
        raise ValueError(
            f"{run_dir} was started with another recipe ({'; '.join(differences[:4])}); a run resumes only "
            "with its own recipe, so recipes never mix in one run. Start this one in another --run-dir"
        )
    if (run_dir / STATE_FILE).is_file():
        return
    epoch = saved_epoch(run_dir)
    if epoch is not None:
        raise FileNotFoundError(
            f"{run_dir} holds epoch {epoch} in its latest checkpoint but no training state ({STATE_FILE}): "
            "saving it failed (a full disk?) or it was deleted, so the run cannot continue exactly; run the "
            "same command without --resume to train it again from the start (it reproduces those epochs)"
        )
    raise FileNotFoundError(
        f"no epoch of {run_dir} has finished, so there is nothing to resume: "
        "start the run again without --resume (the same command)"
    )


def begin_run(cfg: TrainConfig, run_dir: Path, resumed_epoch: int | None) -> None:
    """Set the folder up for training (call while holding it): a fresh ``config.json`` and empty log, or on resume
    the log cut back to the epochs the training state holds. Temporary files of killed writers go."""
    remove_orphan_temp_files(run_dir)
    if resumed_epoch is None:
        text = json.dumps(cfg.to_dict(), indent=2, allow_nan=False)
        atomic_write(run_dir / CONFIG_FILE, lambda tmp: tmp.write_text(text))
        atomic_write(run_dir / METRICS_FILE, lambda tmp: tmp.write_text(""))
        return
    path, kept = run_dir / METRICS_FILE, []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if isinstance(record, dict) and record.get("epoch", 0) <= resumed_epoch:
            kept.append(line)
    text = "".join(line + "\n" for line in kept)
    atomic_write(path, lambda tmp: tmp.write_text(text))


def append_metrics(run_dir: Path, record: dict) -> None:
    """Add one epoch's record to ``metrics.jsonl`` (strict JSON: a NaN is a ValueError, never written)."""
    with open(run_dir / METRICS_FILE, "a") as fh:
        fh.write(json.dumps(record, allow_nan=False) + "\n")


def resume_hint(run_dir: Path) -> str:
    """What to do after an interrupted run: the command that continues it, or that nothing finished yet."""
    if (run_dir / STATE_FILE).is_file():
        return (
            f"The run keeps its last finished epoch ({saved_epoch(run_dir)}); continue it with "
            f"`python -m senet_lib train --resume {run_dir}`"
        )
    return (
        f"No epoch of {run_dir} had finished, so nothing is kept; run the same command again to start over."
    )


def last_good(epoch: int, run_dir) -> str:
    """Where the run's last good state is when epoch ``epoch + 1`` went wrong (``epoch`` epochs were kept)."""
    if epoch == 0:
        return "no epoch was saved before it, so the run has no checkpoint to go back to"
    return f"the last good state is epoch {epoch} in {run_dir} (checkpoint latest, state {STATE_FILE})"


def save_epoch(run_dir, model: nn.Module, meta: dict, record: dict, state: dict, is_best: bool) -> None:
    """Keep a finished epoch: its metrics line, the latest (and best) checkpoint, then the resume state.

    A resume cuts ``metrics.jsonl`` back to the state's epoch, so a kill between these writes repeats nothing.
    """
    try:
        append_metrics(run_dir, record)
        save_checkpoint(run_dir / "latest", model, meta)
        if is_best:
            save_checkpoint(run_dir / "best", model, meta)
        save_training_state(run_dir / STATE_FILE, state)
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        epoch = record["epoch"]
        kept = (
            f"its training state still holds epoch {epoch - 1}: free some space, then continue with "
            f"--resume {run_dir}"
            if epoch > 1
            else "no epoch's training state was saved yet: free some space, then start the run again"
        )
        raise OSError(
            errno.ENOSPC, f"the disk filled up while saving epoch {epoch} in {run_dir}; {kept}"
        ) from err

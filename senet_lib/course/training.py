"""Training cells that respect the student's time: an estimate before, a progress bar with ETA during, and
a run that an interruption does not waste.

``train_or_resume(cfg)`` keeps each run in ``runs/course/<model>-<recipe key>``, where the key is a hash of the
whole recipe (every field but where files go): a finished run with the same recipe is reused, an interrupted one
resumes exactly (``senet_lib.training.train(cfg, resume=True)``), and a changed recipe (another reduction ratio,
label smoothing, ...) never reuses another recipe's run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from senet_lib.models import create_model
from senet_lib.paths import REPO_ROOT
from senet_lib.runtime import autocast, resolve_device, resolve_precision
from senet_lib.training.config import TrainConfig
from senet_lib.training.loop import train
from senet_lib.training.rundir import METRICS_FILE, read_metrics

__all__ = [
    "RUNS_DIR",
    "course_run_dir",
    "estimate_seconds",
    "measure_images_per_second",
    "recipe_key",
    "train_or_resume",
]

#: Where the notebooks keep their runs (git-ignored): ``runs/course``.
RUNS_DIR = REPO_ROOT / "runs" / "course"
STATE_FILE = "latest_state.pt"


def recipe_key(cfg: TrainConfig) -> str:
    """10 hex digits of the sha256 of the whole recipe (every field but run_dir, data_dir, progress)."""
    text = json.dumps(cfg.recipe(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def course_run_dir(cfg: TrainConfig, root: str | Path = RUNS_DIR) -> Path:
    """``<root>/<model>-<recipe key>``: one folder per recipe."""
    return Path(root) / f"{cfg.model}-{recipe_key(cfg)}"


def measure_images_per_second(cfg: TrainConfig, steps: int = 2, batch_size: int = 32) -> float:
    """Training images per second of ``cfg``'s model on this machine: a few timed steps on random data
    (batches of at most ``batch_size`` images: a second or two)."""
    device = resolve_device(cfg.device)
    dtype = resolve_precision(cfg.precision, device)
    model = create_model(cfg.model, **cfg.model_options).to(device)
    batch = min(cfg.batch_size, batch_size)
    x = torch.randn(batch, 3, 32, 32, device=device)
    if cfg.channels_last:
        model, x = (
            model.to(memory_format=torch.channels_last),
            x.contiguous(memory_format=torch.channels_last),
        )
    y = torch.randint(0, 10, (batch,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    times = []
    for _ in range(steps + 2):  # the first two steps warm up (kernel selection, bf16 weight caches)
        start = time.perf_counter()
        with autocast(device, dtype):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times[2:])


def _train_images(cfg: TrainConfig) -> int:
    if cfg.train_subset:
        return cfg.train_subset
    return 50_000 - (cfg.val_size if cfg.val_source == "holdout" else 0)  # CIFAR's training split


def estimate_seconds(cfg: TrainConfig, epochs: int | None = None, images_per_s: float | None = None) -> float:
    """Seconds ``epochs`` (default: all) of ``cfg`` will take here: steps, evaluation, the final flip-TTA pass."""
    ips = images_per_s or measure_images_per_second(cfg)
    epochs = cfg.epochs if epochs is None else epochs
    per_epoch = 1.15 * _train_images(cfg) / ips + cfg.val_size / (
        3 * ips
    )  # augmentation; eval is forward-only
    return epochs * per_epoch + 2 * cfg.val_size / (3 * ips) + 5  # + flip-TTA evaluation, + loading the data


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


class _Stop(Exception):
    """Raised from the step hook to stop a run on purpose after some epochs (a demonstration of resuming)."""


def train_or_resume(
    cfg: TrainConfig,
    root: str | Path = RUNS_DIR,
    on_epoch: Callable[[dict], None] | None = None,
    label: str | None = None,
    stop_after: int | None = None,
) -> dict | None:
    """Train ``cfg`` in its recipe's folder under ``root``: reuse a finished run, resume an interrupted one.

    Prints what it does and how long it will take, shows a progress bar over epochs (with ETA), and calls
    ``on_epoch(record)`` for every epoch, earlier ones included. ``stop_after=k`` stops the run after epoch k on
    purpose (as an interruption would; the function then returns None): calling again resumes it.
    """
    from tqdm.auto import tqdm

    label = label or cfg.model
    run_dir = course_run_dir(cfg, root)
    cfg = replace(cfg, run_dir=str(run_dir))
    done = read_metrics(run_dir / METRICS_FILE)
    summary_file = run_dir / "summary.json"
    if summary_file.is_file():
        print(
            f"{label}: this exact recipe finished earlier in {run_dir}; reusing it (delete the folder to retrain)"
        )
        for record in done:
            if on_epoch is not None:
                on_epoch(record)
        return json.loads(summary_file.read_text())
    resume = (run_dir / STATE_FILE).is_file()
    if not resume:
        done = []
        if run_dir.exists():  # started, but no epoch finished: nothing to resume
            shutil.rmtree(run_dir)
    remaining = cfg.epochs - len(done)
    estimate = estimate_seconds(cfg, epochs=remaining)
    what = (
        f"resuming after epoch {len(done)} of {cfg.epochs}" if resume else f"training {cfg.epochs} epoch(s)"
    )
    print(
        f"{label}: {what} on {_train_images(cfg):,} images; expected time here: about {_duration(estimate)}"
    )
    for record in done:
        if on_epoch is not None:
            on_epoch(record)
    bar = tqdm(total=cfg.epochs, initial=len(done), desc=label, unit="epoch")

    def epoch_done(record: dict) -> None:
        bar.update(1)
        bar.set_postfix(val_acc=f"{record['val_acc']:.3f}")
        if on_epoch is not None:
            on_epoch(record)

    def step(epoch: int, _step: int) -> None:
        if stop_after is not None and epoch >= stop_after:
            raise _Stop

    start = time.perf_counter()
    try:
        summary = train(
            cfg, resume=resume, on_epoch=epoch_done, on_step=step if stop_after is not None else None
        )
    except _Stop:
        print(
            f"{label}: stopped on purpose after epoch {stop_after}, as an interrupted kernel would; run it again to resume"
        )
        return None
    finally:
        bar.close()
    print(f"{label}: done in {_duration(time.perf_counter() - start)} (estimated {_duration(estimate)})")
    return summary

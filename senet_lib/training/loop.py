"""Train a (SE-)ResNet on CIFAR: one readable loop, top to bottom.

    python -m senet_lib.train --model se_resnet20 --dataset ../shared/datasets/cifar10-jpeg-train.tar.gz
    torchrun --nproc_per_node=2 -m senet_lib.train ...      # several GPUs (or CPU processes, gloo)

A run directory holds ``config.json``, ``metrics.jsonl`` (one line per epoch), ``runtime.jsonl`` (one line per
process that trained in it: ``segments``), ``latest`` and ``best`` checkpoints (safetensors + JSON sidecar),
``latest_state.pt`` (optimizer, scheduler, RNG: exact resume with ``--resume RUN_DIR``) and ``summary.json``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import ExitStack

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from senet_lib.checkpoint import load_training_state
from senet_lib.data import make_loaders
from senet_lib.files import atomic_write
from senet_lib.models import create_model
from senet_lib.runtime import autocast, cpu_bf16_units, device_name, resolve_device, resolve_precision
from senet_lib.training import distributed as dist_utils
from senet_lib.training.config import TrainConfig
from senet_lib.training.evaluate import evaluate
from senet_lib.training.optim import make_ema, make_optimizer, make_scheduler
from senet_lib.training.rundir import (
    STATE_FILE,
    SUMMARY_FILE,
    begin_run,
    check_new_run,
    check_resume,
    hold_run_dir,
    last_good,
    read_summary,
    save_epoch,
)
from senet_lib.training.segments import run_segments, start_segment


def stop_if_diverged(first_bad_step: int, epoch: int, scheduler, run_dir="the run directory") -> None:
    """Stop the run with an error naming epoch and step when the loss became NaN or inf."""
    if first_bad_step >= 0:
        raise FloatingPointError(
            f"loss became NaN/inf at epoch {epoch + 1}, step {first_bad_step + 1}: training diverged; "
            f"{last_good(epoch, run_dir)}. Start a new run with a lower --lr (now "
            f"{scheduler.get_last_lr()[0]:.4g}) or with --warmup-epochs"
        )


def stop_if_not_finite(model: nn.Module, val_loss: float, epoch: int, run_dir) -> None:
    """Refuse to keep an epoch whose weights or buffers (e.g. BatchNorm running_var) hold NaN/inf."""
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad or not math.isfinite(val_loss):
        names = ", ".join(bad[:3]) + (", ..." if len(bad) > 3 else "")
        what = f"{len(bad)} weight and buffer tensors hold NaN/inf ({names}) and " if bad else ""
        raise FloatingPointError(
            f"after epoch {epoch + 1}, {what}the validation loss is {val_loss:.4g}: training diverged, and "
            f"this epoch is not saved; {last_good(epoch, run_dir)}. Start a new run with a lower --lr or with "
            "--warmup-epochs"
        )


def check_data(cfg: TrainConfig, data) -> None:
    """Refuse data the run cannot mean: one class (nothing to tell apart), fewer images than one batch."""
    if len(data.classes) < 2:
        raise ValueError(
            f"dataset {cfg.dataset!r} has {len(data.classes)} class ({', '.join(data.classes)}): a classifier "
            "needs at least 2; an ImageFolder dataset needs one sub-folder of images per class"
        )
    images = data.description["train_size"]
    if len(data.train) == 0:
        raise ValueError(
            f"batch_size {cfg.batch_size} is larger than the {images} training images, and every batch is "
            f"full (drop_last), so an epoch would have no step: use --batch-size {images} or less"
        )


def rng_state(loader) -> dict:
    """Every random state the loop consumes, for exact resume."""
    state = {"torch": torch.get_rng_state(), "loader": loader.state_dict()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict, loader) -> None:
    torch.set_rng_state(state["torch"])
    loader.load_state_dict(state["loader"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def train(
    cfg: TrainConfig,
    resume: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> dict:
    """Run (or resume) training as configured; return the summary.

    ``on_step(epoch, step)`` is a test hook; ``on_epoch(record)`` gets each epoch's ``metrics.jsonl`` record
    (rank 0 only), e.g. to draw live training curves in a notebook. The run directory is locked meanwhile.
    """
    cfg.validate()
    run_dir = cfg.resolved_run_dir()
    check_resume(cfg, run_dir) if resume else check_new_run(cfg, run_dir)  # fail before loading any data
    ctx = dist_utils.setup(cfg.device)  # rank, world size, device (torchrun or single process)
    with ExitStack() as owned:  # the run directory's lock, from when the data and model are ready
        return _train(cfg, resume, ctx, owned, on_step, on_epoch)


def _train(cfg: TrainConfig, resume: bool, ctx, owned: ExitStack, on_step, on_epoch) -> dict:
    """:func:`train` after the checks that need no data."""
    started = time.perf_counter()  # wall time of this process: data, compiling, training and evaluation
    run_dir = cfg.resolved_run_dir()
    device = ctx.device if ctx.world_size > 1 else resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    show = cfg.progress and ctx.rank == 0

    torch.manual_seed(cfg.seed)
    data = make_loaders(cfg, device)  # train/val loaders, classes, mean/std, description
    check_data(cfg, data)
    model = create_model(cfg.model, num_classes=len(data.classes), **cfg.model_options).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, len(data.train))
    ema = make_ema(model, cfg)  # None unless cfg.ema_decay
    final = model if ema is None else ema.module  # the weights that are evaluated and saved
    if ctx.rank == 0:  # a bad config or data stopped above, before any file was written
        owned.enter_context(hold_run_dir(run_dir))
        check_resume(cfg, run_dir) if resume else check_new_run(cfg, run_dir)  # again, now that it is ours
    start_epoch, best_acc = 0, 0.0
    if resume:
        state = load_training_state(run_dir / STATE_FILE, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        set_rng_state(state["rng"], data.train)
        start_epoch, best_acc = state["epoch"], state["best_acc"]
        if start_epoch >= cfg.epochs and read_summary(run_dir) is not None:
            return read_summary(run_dir)  # finished before: nothing to do
    if ctx.rank == 0:
        begin_run(cfg, run_dir, start_epoch if resume else None)

    step_model = dist_utils.wrap(model, ctx)
    if cfg.compile:
        step_model = torch.compile(step_model)
    check_every = 1 if device.type == "cpu" else 25  # a CUDA sync costs little every 25 steps
    dtype = resolve_precision(cfg.precision, device)  # bf16 where the hardware has it (auto), else fp32
    runtime = {
        "device": device_name(device),
        "device_type": device.type,
        "precision": "bf16" if dtype == torch.bfloat16 else "fp32",
        "cpu_bf16_units": list(cpu_bf16_units()),
        "channels_last": cfg.channels_last,
        "compile": cfg.compile,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    if ctx.rank == 0 and start_epoch < cfg.epochs:
        start_segment(run_dir, start_epoch + 1, runtime)  # which epochs this process computes, and how
    meta = {
        "model": model.spec,
        "classes": data.classes,
        "normalization": {"mean": data.mean, "std": data.std},
        "recipe": cfg.recipe(),
        "data": data.description,
        "runtime": runtime,
        "wall_seconds": time.perf_counter() - started,
        "resumed": resume,
    }

    val = None
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        first_bad = torch.full((), -1, device=device, dtype=torch.long)
        seen, start = 0, time.perf_counter()
        bar = tqdm(data.train, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not show, leave=False)
        for step, (images, labels) in enumerate(bar):
            images, labels = dist_utils.shard(images, labels, ctx)  # (B, 3, H, W) -> this rank's slice
            if cfg.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with autocast(device, dtype):
                logits = step_model(images)  # (B, 3, H, W) -> (B, K)
                loss = F.cross_entropy(logits.float(), labels, label_smoothing=cfg.label_smoothing)
            # remember the first non-finite step on the device; look at it every few steps (one sync)
            first_bad = torch.where(torch.isfinite(loss) | (first_bad >= 0), first_bad, step)
            if step % check_every == 0:
                stop_if_diverged(int(first_bad), epoch, scheduler, run_dir)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if ema is not None:
                ema.update_parameters(model)
            loss_sum += loss.detach() * labels.numel()
            correct += (logits.argmax(1) == labels).sum()
            seen += labels.numel()
            if on_step is not None:
                on_step(epoch, step)
        stop_if_diverged(int(first_bad), epoch, scheduler, run_dir)
        seconds = time.perf_counter() - start
        train_loss, train_acc = dist_utils.reduce_mean(loss_sum, correct, seen, ctx)
        val = evaluate(final, data.val, num_classes=len(data.classes), channels_last=cfg.channels_last)
        stop_if_not_finite(final, val["loss"], epoch, run_dir)  # never keep a diverged model as good
        eval_seconds = time.perf_counter() - start - seconds
        record = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": val["loss"],
            "val_acc": val["accuracy"],
            "lr": optimizer.param_groups[0]["lr"],
            "images_per_s": seen * ctx.world_size / seconds,
            "seconds": seconds,
            "eval_seconds": eval_seconds,
        }
        best_acc = max(best_acc, val["accuracy"])
        if ctx.rank == 0:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": rng_state(data.train),
                "epoch": epoch + 1,
                "best_acc": best_acc,
            }
            if ema is not None:
                state["ema"] = ema.state_dict()
            metrics = {"epoch": epoch + 1, "val_acc": val["accuracy"], "val_loss": val["loss"]}
            epoch_meta = {**meta, "metrics": metrics, "segments": run_segments(run_dir, epoch + 1)}
            save_epoch(run_dir, final, epoch_meta, record, state, val["accuracy"] >= best_acc)
            if on_epoch is not None:
                on_epoch(record)
            if show:
                tqdm.write(
                    f"epoch {epoch + 1}: train {train_acc:.4f} val {val['accuracy']:.4f} "
                    f"({record['images_per_s']:.0f} img/s)"
                )

    if val is None:  # resumed after the last epoch (its summary was lost): evaluate the final weights
        val = evaluate(final, data.val, num_classes=len(data.classes), channels_last=cfg.channels_last)
    # the same final weights with flip test-time augmentation, reported apart (never used to choose anything)
    val_flip = evaluate(final, data.val, len(data.classes), channels_last=cfg.channels_last, flip_tta=True)
    summary = {
        "model": cfg.model,
        "epochs": cfg.epochs,
        "best_val_acc": best_acc,
        "final_val_acc": val["accuracy"],
        "final_val_acc_flip_tta": val_flip["accuracy"],
        "world_size": ctx.world_size,
        "run_dir": str(run_dir),
        "runtime": runtime,  # this process's; segments: every process's, with the epochs it trained
        "segments": run_segments(run_dir, cfg.epochs),
        "wall_seconds": time.perf_counter() - started,
        "resumed": resume,
    }
    if ctx.world_size > 1:
        summary["rank_weight_max_abs_diff"] = dist_utils.max_weight_difference(model, ctx)
    if ctx.rank == 0:
        text = json.dumps(summary, indent=2, allow_nan=False)
        atomic_write(run_dir / SUMMARY_FILE, lambda tmp: tmp.write_text(text))
    dist_utils.teardown(ctx)
    return summary

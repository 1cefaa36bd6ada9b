"""Train a (SE-)ResNet on CIFAR: one readable loop, top to bottom.

    python -m senet_lib.train --model se_resnet20 --dataset ../shared/datasets/cifar10-jpeg-train.tar.gz
    torchrun --nproc_per_node=2 -m senet_lib.train ...      # several GPUs (or CPU processes, gloo)

A run directory holds ``config.json``, ``metrics.jsonl`` (one line per epoch), ``latest`` and ``best``
checkpoints (safetensors + JSON sidecar), ``latest_state.pt`` (optimizer, scheduler, RNG: exact
resume with ``--resume RUN_DIR``) and ``summary.json``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from senet_lib.checkpoint import load_training_state, save_checkpoint, save_training_state
from senet_lib.data import make_loaders
from senet_lib.models import create_model
from senet_lib.runtime import autocast, cpu_bf16_units, device_name, resolve_device, resolve_precision
from senet_lib.training import distributed as dist_utils
from senet_lib.training.config import TrainConfig
from senet_lib.training.evaluate import evaluate

STATE_FILE = "latest_state.pt"


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum; no weight decay on BatchNorm and bias parameters."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)


def make_scheduler(optimizer, cfg: TrainConfig, steps_per_epoch: int):
    """Per-step learning-rate schedule: step (x lr_decay at each milestone), cosine or one-cycle; optional warm-up."""
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "onecycle":
        if total < 3:
            raise ValueError(
                f"the one-cycle schedule needs at least 3 optimizer steps; this run has {total} "
                f"({cfg.epochs} epoch(s) x {steps_per_epoch} batch(es)): train longer or on more "
                "images, or use --schedule cosine"
            )
        warm = cfg.warmup_epochs / cfg.epochs if cfg.warmup_epochs else 0.25
        warm = max(warm, 2 / total)  # OneCycleLR divides by the warm-up's length in steps: keep it >= 1
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.lr, total_steps=total, pct_start=warm
        )
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    bounds = [int(m * total) for m in cfg.milestones]

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if cfg.schedule == "step":
            return cfg.lr_decay ** sum(step >= b for b in bounds)
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))  # cosine

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def stop_if_diverged(first_bad_step: int, epoch: int, scheduler) -> None:
    """Stop the run with an error naming epoch and step when the loss became NaN or inf."""
    if first_bad_step >= 0:
        raise FloatingPointError(
            f"loss became NaN/inf at epoch {epoch + 1}, step {first_bad_step + 1}: training diverged; "
            f"lower the learning rate (now {scheduler.get_last_lr()[0]:.4g}) or add warm-up; "
            "the last good checkpoint is the run directory's latest"
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
    (rank 0 only), e.g. to draw live training curves in a notebook.
    """
    cfg.validate()
    started = time.perf_counter()  # wall time of this process: data, compiling, training and evaluation
    ctx = dist_utils.setup(cfg.device)  # rank, world size, device (torchrun or single process)
    device = ctx.device if ctx.world_size > 1 else resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run_dir = cfg.resolved_run_dir()
    show = cfg.progress and ctx.rank == 0

    torch.manual_seed(cfg.seed)
    data = make_loaders(cfg, device)  # train/val loaders, classes, mean/std, description
    model = create_model(cfg.model, num_classes=len(data.classes), **cfg.model_options).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, len(data.train))
    start_epoch, best_acc = 0, 0.0
    if resume:
        state = load_training_state(run_dir / STATE_FILE, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"], data.train)
        start_epoch, best_acc = state["epoch"], state["best_acc"]
    elif ctx.rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        (run_dir / "metrics.jsonl").write_text("")

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
                stop_if_diverged(int(first_bad), epoch, scheduler)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.detach() * labels.numel()
            correct += (logits.argmax(1) == labels).sum()
            seen += labels.numel()
            if on_step is not None:
                on_step(epoch, step)
        stop_if_diverged(int(first_bad), epoch, scheduler)
        seconds = time.perf_counter() - start
        train_loss, train_acc = dist_utils.reduce_mean(loss_sum, correct, seen, ctx)
        val = evaluate(model, data.val, num_classes=len(data.classes), channels_last=cfg.channels_last)
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
            with open(run_dir / "metrics.jsonl", "a") as fh:
                fh.write(json.dumps(record) + "\n")
            if on_epoch is not None:
                on_epoch(record)
            metrics = {"epoch": epoch + 1, "val_acc": val["accuracy"], "val_loss": val["loss"]}
            save_checkpoint(run_dir / "latest", model, {**meta, "metrics": metrics})
            if val["accuracy"] >= best_acc:
                save_checkpoint(run_dir / "best", model, {**meta, "metrics": metrics})
            save_training_state(
                run_dir / STATE_FILE,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": rng_state(data.train),
                    "epoch": epoch + 1,
                    "best_acc": best_acc,
                },
            )
            if show:
                tqdm.write(
                    f"epoch {epoch + 1}: train {train_acc:.4f} val {val['accuracy']:.4f} "
                    f"({record['images_per_s']:.0f} img/s)"
                )

    # the same final weights with flip test-time augmentation, reported apart (never used to choose anything)
    val_flip = evaluate(model, data.val, len(data.classes), channels_last=cfg.channels_last, flip_tta=True)
    summary = {
        "model": cfg.model,
        "epochs": cfg.epochs,
        "best_val_acc": best_acc,
        "final_val_acc": val["accuracy"],
        "final_val_acc_flip_tta": val_flip["accuracy"],
        "world_size": ctx.world_size,
        "run_dir": str(run_dir),
        "runtime": runtime,
        "wall_seconds": time.perf_counter() - started,
        "resumed": resume,
    }
    if ctx.world_size > 1:
        summary["rank_weight_max_abs_diff"] = dist_utils.max_weight_difference(model, ctx)
    if ctx.rank == 0:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    dist_utils.teardown(ctx)
    return summary

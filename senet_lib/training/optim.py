"""The optimizer, the learning-rate schedules (step, cosine, one-cycle) and the weight average of a training run."""

from __future__ import annotations

import math

import torch
from torch import nn

from senet_lib.se_layers import find_se_layers
from senet_lib.training.config import TrainConfig

__all__ = ["make_ema", "make_optimizer", "make_scheduler"]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum; no weight decay on BatchNorm and bias parameters, nor on SE blocks' if ``se_weight_decay``
    is false (their gates then keep whatever image dependence the loss does not remove)."""
    exempt = (
        set()
        if cfg.se_weight_decay
        else {id(p) for se in find_se_layers(model).values() for p in se.parameters()}
    )
    decay = [p for p in model.parameters() if p.ndim > 1 and id(p) not in exempt]
    no_decay = [p for p in model.parameters() if p.ndim <= 1 or id(p) in exempt]
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


def make_ema(model: nn.Module, cfg: TrainConfig) -> torch.optim.swa_utils.AveragedModel | None:
    """An exponential moving average of the weights and BatchNorm statistics, updated after every step; None if off.

    After step t: ema = decay * ema + (1 - decay) * weights (the first step copies them). With decay 0.999 the
    average spans about the last 1,000 steps. The run evaluates and saves the average, not the raw weights.
    """
    if not cfg.ema_decay:
        return None
    return torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True
    )

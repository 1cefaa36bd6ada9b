"""Where SE lives today, and what it costs there (notebook 9): SE layers of any network, their widths, gates,
parameter share, FLOP share and time share.

Works on anything :func:`senet_lib.se_layers.find_se_layers` finds: our SE and ECA blocks, torchvision's
``SqueezeExcitation`` (MobileNetV3, EfficientNet, RegNetY) and timm's SE modules.
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from senet_lib.complexity import count_parameters, count_se_parameters
from senet_lib.se_layers import find_se_layers, gate_module, se_channels

__all__ = [
    "AttentionCost",
    "SELayerInfo",
    "attention_cost",
    "forward_seconds",
    "se_layer_table",
    "without_se",
]


@dataclass
class SELayerInfo:
    """One SE layer: its name, the channels C it gates, its bottleneck width (None: no bottleneck), its gate."""

    name: str
    channels: int
    hidden: int | None
    gate: str
    parameters: int

    @property
    def reduction(self) -> float | None:
        """C / hidden: the reduction ratio r relative to the gated width."""
        return None if not self.hidden else self.channels / self.hidden


def _hidden(se: nn.Module) -> int | None:
    if hasattr(se, "hidden"):
        return int(se.hidden)
    first = next((m for m in se.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)
    if isinstance(first, nn.Conv2d):
        return first.out_channels
    if isinstance(first, nn.Linear):
        return first.out_features
    return None  # no bottleneck (ECA: a 1-D convolution across channels)


def se_layer_table(model: nn.Module) -> list[SELayerInfo]:
    """Every SE layer of ``model`` in forward order: C, bottleneck width, gate type, parameters."""
    return [
        SELayerInfo(
            name,
            se_channels(se),
            _hidden(se),
            type(gate_module(se)).__name__,
            sum(p.numel() for p in se.parameters()),
        )
        for name, se in find_se_layers(model).items()
    ]


def without_se(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every SE layer replaced by the identity (for cost comparisons, not accuracy)."""
    twin = copy.deepcopy(model)
    paths = {id(m) for m in find_se_layers(twin).values()}
    for path, module in list(twin.named_modules()):
        if id(module) in paths:
            parent_path, _, attr = path.rpartition(".")
            setattr(twin.get_submodule(parent_path) if parent_path else twin, attr, _Identity())
    return twin


class _Identity(nn.Module):
    """``nn.Identity`` that also accepts the ``residual`` argument of our blocks' folded sum."""

    def forward(self, u: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        return u if residual is None else u + residual


@torch.no_grad()
def forward_seconds(model: nn.Module, x: torch.Tensor, repeats: int = 3) -> float:
    """Median wall time of a forward pass of ``model`` (eval mode) on ``x``, after one warm-up pass."""
    model.eval()
    model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class AttentionCost:
    """The share of a network that its SE layers take: parameters, counted FLOPs, forward time."""

    layers: int
    parameters: int
    se_parameters: int
    flops: int
    se_flops: int
    seconds: float
    seconds_without: float

    @property
    def parameter_share(self) -> float:
        return self.se_parameters / self.parameters

    @property
    def flop_share(self) -> float:
        return self.se_flops / self.flops

    @property
    def time_share(self) -> float:
        return 1 - self.seconds_without / self.seconds


@torch.no_grad()
def attention_cost(model: nn.Module, x: torch.Tensor, repeats: int = 3) -> AttentionCost:
    """SE parameters, FLOPs (convolutions and matmuls, as ``FlopCounterMode`` counts) and forward-time share."""
    model.eval()
    se_paths = {path for path, m in model.named_modules() if m in set(find_se_layers(model).values())}
    with FlopCounterMode(display=False) as counter:
        model(x)
    per_module = counter.get_flop_counts()  # keys: "<ClassName>.<module path>"
    top = type(model).__name__
    se_flops = sum(sum(per_module.get(f"{top}.{path}", {}).values()) for path in se_paths)
    return AttentionCost(
        layers=len(se_paths),
        parameters=count_parameters(model),
        se_parameters=count_se_parameters(model),
        flops=int(counter.get_total_flops()),
        se_flops=int(se_flops),
        **dict(zip(("seconds", "seconds_without"), _paired_seconds(model, without_se(model), x, repeats))),
    )


@torch.no_grad()
def _paired_seconds(a: nn.Module, b: nn.Module, x: torch.Tensor, repeats: int) -> tuple[float, float]:
    """Median forward times of two models timed alternately (a busy machine then slows both alike)."""
    a.eval(), b.eval()
    a(x), b(x)  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for model, kept in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            model(x)
            kept.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])

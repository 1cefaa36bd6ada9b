"""CIFAR ResNets of He et al. ("Deep Residual Learning", CVPR 2016, Sec. 4.2) and their SE twins.

ResNet-20/32/44/56/110: basic blocks, 16-32-64 channels, option-A (zero-padded identity)
shortcuts. ResNet-164: pre-activation bottlenecks ("Identity Mappings", ECCV 2016), 64-128-256.
Every residual unit has ``.se`` (an :class:`~senet_lib.se.SEBlock`, or ``None`` in plain models).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from senet_lib.models.common import (
    PreActBlock,
    ResidualBlock,
    SEOptions,
    conv1x1,
    conv3x3,
    init_weights,
    make_stage,
    set_spec,
)
from senet_lib.models.registry import register_model
from senet_lib.se import SEBlock, global_avg_pool

__all__ = [
    "BasicBlock",
    "CifarResNet",
    "PreActBottleneck",
    "ZeroPadShortcut",
    "cifar_resnet",
]


class ZeroPadShortcut(nn.Module):
    """Option-A shortcut (He et al. 2016, Sec. 4.2): subsample, then pad the new channels with zeros.

    Parameter-free, which is why ResNet-20 has 0.27M parameters.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.extra, self.stride = out_channels - in_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]  # (N, C, H, W) -> (N, C, H/s, W/s)
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))  # (N, C, ...) -> (N, C + extra, ...)

    def extra_repr(self) -> str:
        return f"stride={self.stride}, zero_channels={self.extra}"


class BasicBlock(ResidualBlock):
    """Two 3x3 conv-BN layers, ReLU after the sum (He et al. 2016, Fig. 2 left)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        se: SEBlock | None = None,
        placement: str = "standard",
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.attach_shortcut_and_se(
            in_channels,
            out_channels,
            stride,
            lambda: ZeroPadShortcut(in_channels, out_channels, stride),
            se,
            placement,
        )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        return self.bn2(self.conv2(x))


class PreActBottleneck(PreActBlock):
    """Pre-activation bottleneck: (BN-ReLU-conv) 1x1, 3x3, 1x1, width ``out/4`` (He et al. ECCV 2016)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        se: SEBlock | None = None,
        placement: str = "standard",
    ) -> None:
        super().__init__(in_channels)  # bn1: the pre-activation of the input
        width = out_channels // 4
        self.conv1 = conv1x1(in_channels, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn3 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.attach_shortcut_and_se(
            in_channels,
            out_channels,
            stride,
            lambda: conv1x1(in_channels, out_channels, stride),
            se,
            placement,
        )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (N, C_in, H, W) -> (N, C_out/4, H, W)
        x = self.conv2(torch.relu(self.bn2(x)))  # -> (N, C_out/4, H/s, W/s)
        return self.conv3(torch.relu(self.bn3(x)))  # -> (N, C_out, H/s, W/s)


class CifarResNet(nn.Module):
    """Stem ``conv1`` (3x3, 16) -> ``layer1..layer3`` (strides 1, 2, 2) -> global average pool -> ``fc``.

    Post-activation blocks have the stem ``bn1``; pre-activation ones a final ``bn_final`` instead.
    """

    input_size = 32

    def __init__(
        self,
        block: type[ResidualBlock],
        blocks_per_stage: int,
        widths: tuple[int, int, int],
        num_classes: int = 10,
        se: SEOptions | None = None,
        stem_width: int = 16,
        **block_options: Any,
    ) -> None:
        super().__init__()
        if se is not None:
            se.check_stages(len(widths))
        preact = issubclass(block, PreActBlock)
        self.conv1 = conv3x3(3, stem_width)
        self.bn1 = None if preact else nn.BatchNorm2d(stem_width)
        in_channels = stem_width
        for stage, (width, stride) in enumerate(zip(widths, (1, 2, 2)), start=1):
            layer = make_stage(
                block, stage, blocks_per_stage, in_channels, width, stride, se, **block_options
            )
            self.add_module(f"layer{stage}", layer)
            in_channels = width
        self.bn_final = nn.BatchNorm2d(in_channels) if preact else None
        self.fc = nn.Linear(in_channels, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)  # (N, 3, 32, 32) -> (N, 16, 32, 32)
        if self.bn1 is not None:
            x = torch.relu(self.bn1(x))
        x = self.layer1(x)  # -> (N, C1, 32, 32)
        x = self.layer2(x)  # -> (N, C2, 16, 16)
        x = self.layer3(x)  # -> (N, C3, 8, 8)
        if self.bn_final is not None:
            x = torch.relu(self.bn_final(x))
        x = global_avg_pool(x)  # (N, C3, 8, 8) -> (N, C3)
        return self.fc(x)  # (N, C3) -> (N, num_classes)


def cifar_resnet(
    depth: int, num_classes: int = 10, se: SEOptions | None = None, bottleneck: bool = False
) -> CifarResNet:
    """A CIFAR ResNet of any valid depth: 6n+2 basic blocks, or 9n+2 pre-activation bottlenecks (164)."""
    per_block, block, widths = (
        (9, PreActBottleneck, (64, 128, 256)) if bottleneck else (6, BasicBlock, (16, 32, 64))
    )
    if depth < per_block + 2 or (depth - 2) % per_block != 0:
        kind = (
            "9n + 2 with bottlenecks (164, ...)"
            if bottleneck
            else "6n + 2 with basic blocks (20, 32, ..., 110)"
        )
        raise ValueError(f"a CIFAR ResNet has depth {kind}; got {depth}")
    return CifarResNet(block, (depth - 2) // per_block, widths, num_classes, se)


def _named(name: str, depth: int, num_classes: int, se_options: dict[str, Any] | None) -> CifarResNet:
    se = None if se_options is None else SEOptions.from_kwargs(**se_options)
    return set_spec(cifar_resnet(depth, num_classes, se, bottleneck=depth == 164), name, num_classes, se)


@register_model
def resnet20(num_classes: int = 10) -> CifarResNet:
    """ResNet-20 (He et al. 2016, Table 6): 3 x 3 basic blocks, 0.27M parameters."""
    return _named("resnet20", 20, num_classes, None)


@register_model
def resnet32(num_classes: int = 10) -> CifarResNet:
    """ResNet-32 (He et al. 2016, Table 6): 3 x 5 basic blocks, 0.46M parameters."""
    return _named("resnet32", 32, num_classes, None)


@register_model
def resnet44(num_classes: int = 10) -> CifarResNet:
    """ResNet-44 (He et al. 2016, Table 6): 3 x 7 basic blocks, 0.66M parameters."""
    return _named("resnet44", 44, num_classes, None)


@register_model
def resnet56(num_classes: int = 10) -> CifarResNet:
    """ResNet-56 (He et al. 2016, Table 6): 3 x 9 basic blocks, 0.85M parameters."""
    return _named("resnet56", 56, num_classes, None)


@register_model
def resnet110(num_classes: int = 10) -> CifarResNet:
    """ResNet-110 (He et al. 2016, Table 6; SE paper Table 4): 3 x 18 basic blocks, 1.7M parameters."""
    return _named("resnet110", 110, num_classes, None)


@register_model
def resnet164(num_classes: int = 10) -> CifarResNet:
    """ResNet-164 (He et al. ECCV 2016; SE paper Table 4): 3 x 18 pre-activation bottlenecks, 1.7M parameters."""
    return _named("resnet164", 164, num_classes, None)


@register_model
def se_resnet20(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-ResNet-20: ResNet-20 with an SE block in every residual unit (options: :class:`SEOptions`)."""
    return _named("se_resnet20", 20, num_classes, se_options)


@register_model
def se_resnet32(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-ResNet-32: ResNet-32 with an SE block in every residual unit (options: :class:`SEOptions`)."""
    return _named("se_resnet32", 32, num_classes, se_options)


@register_model
def se_resnet44(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-ResNet-44: ResNet-44 with an SE block in every residual unit (options: :class:`SEOptions`)."""
    return _named("se_resnet44", 44, num_classes, se_options)


@register_model
def se_resnet56(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-ResNet-56: ResNet-56 with an SE block in every residual unit (options: :class:`SEOptions`)."""
    return _named("se_resnet56", 56, num_classes, se_options)


@register_model
def se_resnet110(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-ResNet-110 (paper Table 4): ResNet-110 with SE blocks (options: :class:`SEOptions`)."""
    return _named("se_resnet110", 110, num_classes, se_options)


@register_model
def se_resnet164(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-ResNet-164 (paper Table 4): ResNet-164 with SE blocks (options: :class:`SEOptions`)."""
    return _named("se_resnet164", 164, num_classes, se_options)

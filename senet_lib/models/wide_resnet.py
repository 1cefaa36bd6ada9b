"""Wide ResNets (Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016) and SE twins.

WRN-16-8 with and without SE is a row of the SE paper's CIFAR table (Table 4). It reuses the
CIFAR network skeleton of :mod:`senet_lib.models.resnet_cifar` with wide pre-activation units.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from senet_lib.models.common import PreActBlock, SEOptions, conv1x1, conv3x3, set_spec
from senet_lib.models.registry import register_model
from senet_lib.models.resnet_cifar import CifarResNet
from senet_lib.se import SEBlock

__all__ = ["WideBasic", "wide_resnet"]


class WideBasic(PreActBlock):
    """Wide pre-activation basic unit: BN-ReLU-conv3x3, BN-ReLU-(dropout)-conv3x3 (WRN paper, Fig. 1d)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        se: SEBlock | None = None,
        placement: str = "standard",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(in_channels)  # bn1: the pre-activation of the input
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.conv2 = conv3x3(out_channels, out_channels)
        self.attach_shortcut_and_se(
            in_channels,
            out_channels,
            stride,
            lambda: conv1x1(in_channels, out_channels, stride),
            se,
            placement,
        )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn2(self.conv1(x)))  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.conv2(x)


def wide_resnet(depth: int, widen: int, num_classes: int = 10, se: SEOptions | None = None) -> CifarResNet:
    """WRN-depth-widen: 3 stages of (depth - 4) / 6 wide units, 16k-32k-64k channels for k = ``widen``."""
    if depth < 10 or (depth - 4) % 6 != 0:
        raise ValueError(f"a wide ResNet has depth 6n + 4 (10, 16, 22, 28, ...); got {depth}")
    widths = (16 * widen, 32 * widen, 64 * widen)
    return CifarResNet(WideBasic, (depth - 4) // 6, widths, num_classes, se)


@register_model
def wrn16_8(num_classes: int = 10) -> CifarResNet:
    """WRN-16-8 (Zagoruyko & Komodakis 2016; SE paper Table 4): 11.0M parameters."""
    return set_spec(wide_resnet(16, 8, num_classes), "wrn16_8", num_classes, None)


@register_model
def se_wrn16_8(num_classes: int = 10, **se_options: Any) -> CifarResNet:
    """SE-WRN-16-8 (SE paper Table 4): WRN-16-8 with an SE block in every unit (options: :class:`SEOptions`)."""
    se = SEOptions.from_kwargs(**se_options)
    return set_spec(wide_resnet(16, 8, num_classes, se), "se_wrn16_8", num_classes, se)

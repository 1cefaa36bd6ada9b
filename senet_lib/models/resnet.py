"""ImageNet ResNet-50/101/152 and ResNeXt-50 (32x4d), plain and SE (paper Sec. 4, Fig. 3, Table 2).

Module and parameter names follow torchvision's ``resnet.py`` exactly, so a plain model loads a
torchvision state dict unchanged; the SE block of each unit lives at ``layer{i}.{j}.se``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import torch
from torch import nn

from senet_lib.models.common import (
    ResidualBlock,
    SEOptions,
    conv1x1,
    conv3x3,
    init_weights,
    make_stage,
    set_spec,
)
from senet_lib.models.registry import register_model
from senet_lib.se import SEBlock

__all__ = ["Bottleneck", "ResNet", "resolve_weights"]


class Bottleneck(ResidualBlock):
    """Bottleneck unit 1x1-3x3-1x1 (He et al. 2016, Fig. 5 right), stride on the 3x3 as torchvision (v1.5).

    ``groups`` > 1 makes it a ResNeXt unit (Xie et al. 2017); SE-ResNet puts the SE block after
    ``bn3``, before the sum (SE paper Fig. 3).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        se: SEBlock | None = None,
        placement: str = "standard",
        groups: int = 1,
        width_per_group: int = 64,
    ) -> None:
        super().__init__()
        width = int(out_channels // 4 * (width_per_group / 64.0)) * groups
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.attach_shortcut_and_se(  # projection shortcut (option B): torchvision's downsample.0 / downsample.1
            in_channels,
            out_channels,
            stride,
            lambda: nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels)),
            se,
            placement,
        )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # (N, C_in, H, W) -> (N, width, H, W)
        x = self.relu(self.bn2(self.conv2(x)))  # -> (N, width, H/s, W/s)
        return self.bn3(self.conv3(x))  # -> (N, C_out, H/s, W/s)


class ResNet(nn.Module):
    """Stem (7x7 conv, BN, ReLU, 3x3 max pool) -> ``layer1..layer4`` -> average pool -> ``fc`` (torchvision layout)."""

    input_size = 224

    def __init__(
        self,
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        se: SEOptions | None = None,
        groups: int = 1,
        width_per_group: int = 64,
    ) -> None:
        super().__init__()
        if se is not None:
            se.check_stages(len(layers))
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_channels = 64
        for stage, (n, stride) in enumerate(zip(layers, (1, 2, 2, 2)), start=1):
            out_channels = 256 * 2 ** (stage - 1)  # 256, 512, 1024, 2048
            arch = {"groups": groups, "width_per_group": width_per_group}
            layer = make_stage(Bottleneck, stage, n, in_channels, out_channels, stride, se, **arch)
            self.add_module(f"layer{stage}", layer)
            in_channels = out_channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_channels, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 3, 224, 224) -> (N, 64, 56, 56)
        x = self.layer1(x)  # -> (N, 256, 56, 56)
        x = self.layer2(x)  # -> (N, 512, 28, 28)
        x = self.layer3(x)  # -> (N, 1024, 14, 14)
        x = self.layer4(x)  # -> (N, 2048, 7, 7)
        x = torch.flatten(self.avgpool(x), 1)  # -> (N, 2048)
        return self.fc(x)  # -> (N, num_classes)


def resolve_weights(weights_enum: type[Enum], weights: str | Enum | None) -> Enum | None:
    """The enum member for ``"IMAGENET1K_V2"``, ``"DEFAULT"``, ``"ResNet50_Weights.IMAGENET1K_V2"`` or a member."""
    if weights is None or isinstance(weights, weights_enum):
        return weights
    name = str(weights).removeprefix(f"{weights_enum.__name__}.")
    if name not in weights_enum.__members__:
        raise ValueError(
            f"unknown weights {weights!r} for {weights_enum.__name__}; "
            f"choose one of {list(weights_enum.__members__)} or None"
        )
    return weights_enum[name]


def _build(
    name: str,
    layers: tuple[int, int, int, int],
    num_classes: int,
    se_options: dict[str, Any] | None = None,
    weights: str | Enum | None = None,
    progress: bool = True,
    **arch: int,
) -> ResNet:
    """Build a named model; plain ones may load torchvision weights (downloaded only when asked)."""
    member = None
    if weights is not None:  # check the name and the class count before building or downloading
        import torchvision.models as tvm

        member = resolve_weights(getattr(tvm, _WEIGHTS[name]), weights)
        n_cat = len(member.meta["categories"])
        if num_classes != n_cat:
            raise ValueError(
                f"{member} has {n_cat} classes; build with num_classes={n_cat} (got {num_classes})"
            )
    se = None if se_options is None else SEOptions.from_kwargs(**se_options)
    model = set_spec(ResNet(layers, num_classes, se, **arch), name, num_classes, se)
    if member is not None:
        model.load_state_dict(member.get_state_dict(progress=progress, check_hash=True))
    return model


#: torchvision weight enums of the plain models, by our model name.
_WEIGHTS = {
    "resnet50": "ResNet50_Weights",
    "resnet101": "ResNet101_Weights",
    "resnet152": "ResNet152_Weights",
    "resnext50_32x4d": "ResNeXt50_32X4D_Weights",
}


@register_model
def resnet50(num_classes: int = 1000, weights: str | Enum | None = None, progress: bool = True) -> ResNet:
    """ResNet-50 (He et al. 2016); ``weights="IMAGENET1K_V2"`` etc. loads torchvision's ``ResNet50_Weights``."""
    return _build("resnet50", (3, 4, 6, 3), num_classes, weights=weights, progress=progress)


@register_model
def resnet101(num_classes: int = 1000, weights: str | Enum | None = None, progress: bool = True) -> ResNet:
    """ResNet-101 (He et al. 2016); ``weights`` names a torchvision ``ResNet101_Weights`` member."""
    return _build("resnet101", (3, 4, 23, 3), num_classes, weights=weights, progress=progress)


@register_model
def resnet152(num_classes: int = 1000, weights: str | Enum | None = None, progress: bool = True) -> ResNet:
    """ResNet-152 (He et al. 2016); ``weights`` names a torchvision ``ResNet152_Weights`` member."""
    return _build("resnet152", (3, 8, 36, 3), num_classes, weights=weights, progress=progress)


@register_model
def resnext50_32x4d(
    num_classes: int = 1000, weights: str | Enum | None = None, progress: bool = True
) -> ResNet:
    """ResNeXt-50 32x4d (Xie et al. 2017); ``weights`` names a torchvision ``ResNeXt50_32X4D_Weights`` member."""
    arch = {"groups": 32, "width_per_group": 4}
    return _build("resnext50_32x4d", (3, 4, 6, 3), num_classes, weights=weights, progress=progress, **arch)


@register_model
def se_resnet50(num_classes: int = 1000, **se_options: Any) -> ResNet:
    """SE-ResNet-50 (paper Table 2, Fig. 3): 28.1M parameters with r = 16 (options: :class:`SEOptions`)."""
    return _build("se_resnet50", (3, 4, 6, 3), num_classes, se_options)


@register_model
def se_resnet101(num_classes: int = 1000, **se_options: Any) -> ResNet:
    """SE-ResNet-101 (paper Table 2) (options: :class:`SEOptions`)."""
    return _build("se_resnet101", (3, 4, 23, 3), num_classes, se_options)


@register_model
def se_resnet152(num_classes: int = 1000, **se_options: Any) -> ResNet:
    """SE-ResNet-152 (paper Table 2) (options: :class:`SEOptions`)."""
    return _build("se_resnet152", (3, 8, 36, 3), num_classes, se_options)


@register_model
def se_resnext50_32x4d(num_classes: int = 1000, **se_options: Any) -> ResNet:
    """SE-ResNeXt-50 32x4d (paper Table 2, Table 1 right) (options: :class:`SEOptions`)."""
    return _build("se_resnext50_32x4d", (3, 4, 6, 3), num_classes, se_options, groups=32, width_per_group=4)

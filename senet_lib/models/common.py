"""What every residual family here shares: SE options, SE placement (paper Fig. 5), initialisation.

Hu et al., "Squeeze-and-Excitation Networks" (TPAMI 2019), Sec. 6.5 "Integration strategy" and
Table 14 compare where the SE block sits in a residual unit; :class:`ResidualBlock` implements
all four placements once, for the CIFAR, wide and ImageNet networks alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from senet_lib.se import GATES, SQUEEZE_MODES, SEBlock, hidden_width

__all__ = [
    "PLACEMENTS",
    "SE_OPTION_NAMES",
    "PreActBlock",
    "ResidualBlock",
    "SEOptions",
    "conv1x1",
    "conv3x3",
    "init_weights",
    "make_stage",
    "set_spec",
]

#: Where the SE block sits in a residual unit (paper Fig. 5 / Table 14):
#: ``standard`` on the residual branch before the sum; ``pre`` before the residual unit (on the
#: residual branch input); ``post`` after the summation with the identity branch (after ReLU);
#: ``identity`` on the identity connection, in parallel to the residual unit.
PLACEMENTS = ("standard", "pre", "post", "identity")


@dataclass(frozen=True)
class SEOptions:
    """The SE options of an SE model; field names are the keyword names ``create_model`` accepts.

    ``se_bias`` is :class:`~senet_lib.se.SEBlock`'s ``bias``; ``se_stages`` lists the stages
    (1-based index K of ``layerK``) that get SE blocks, ``None`` for all (paper Table 13).
    """

    reduction: float = 16
    min_hidden: int = 1
    squeeze_mode: str = "avg"
    gate: str = "sigmoid"
    se_bias: bool = True
    placement: str = "standard"
    se_stages: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name, kind, what in (
            ("reduction", (int, float), "a number, e.g. 16"),
            ("min_hidden", int, "a whole number, e.g. 1"),
            ("se_bias", bool, "true or false"),
        ):
            value = getattr(self, name)  # the command line and YAML files can hand over strings
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise ValueError(f"SE option {name} must be {what}; got {value!r}")
        if self.placement not in PLACEMENTS:
            raise ValueError(f"unknown SE placement {self.placement!r}; choose one of {PLACEMENTS}")
        if self.se_stages is not None:
            if isinstance(self.se_stages, int) or not all(isinstance(k, int) for k in self.se_stages):
                raise ValueError(
                    f"se_stages must be a sequence of stage numbers, e.g. (2, 3); got {self.se_stages!r}"
                )
            object.__setattr__(self, "se_stages", tuple(sorted(set(self.se_stages))))
        if self.squeeze_mode not in SQUEEZE_MODES:
            raise ValueError(f"unknown squeeze_mode {self.squeeze_mode!r}; choose one of {SQUEEZE_MODES}")
        if self.gate not in GATES:
            raise ValueError(f"unknown gate {self.gate!r}; choose one of {tuple(GATES)}")
        hidden_width(1, self.reduction, self.min_hidden)  # raises on r <= 0 or min_hidden < 1

    @classmethod
    def from_kwargs(cls, **options: Any) -> SEOptions:
        """Build from keyword options; an unknown name raises a TypeError listing the allowed ones."""
        bad = sorted(set(options) - set(SE_OPTION_NAMES))
        if bad:
            raise TypeError(f"unknown SE option(s) {bad}; allowed: {list(SE_OPTION_NAMES)}")
        return cls(**options)

    def check_stages(self, num_stages: int) -> None:
        """Raise ValueError if ``se_stages`` names a stage the network does not have."""
        if self.se_stages is not None and not set(self.se_stages) <= set(range(1, num_stages + 1)):
            raise ValueError(
                f"se_stages={list(self.se_stages)} is out of range: this network has stages "
                f"1..{num_stages} (layer1..layer{num_stages})"
            )

    def block_for(self, stage: int, in_channels: int, out_channels: int) -> SEBlock | None:
        """The SE block of one residual unit in ``stage``, or None when that stage has no SE.

        ``pre`` and ``identity`` recalibrate the unit's input (``in_channels``); ``standard`` and
        ``post`` its output (``out_channels``).
        """
        if self.se_stages is not None and stage not in self.se_stages:
            return None
        channels = in_channels if self.placement in ("pre", "identity") else out_channels
        return SEBlock(channels, self.reduction, self.min_hidden, self.squeeze_mode, self.gate, self.se_bias)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (``se_stages`` as a list) for ``model.spec``."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["se_stages"] = None if self.se_stages is None else list(self.se_stages)
        return out


#: Keyword options of every SE model, in order.
SE_OPTION_NAMES = tuple(f.name for f in fields(SEOptions))


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias (a BN follows), as in torchvision."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias: bottleneck reductions/expansions and projection shortcuts."""
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class ResidualBlock(nn.Module):
    """A residual unit ``merge(F(x) + shortcut(x))`` with an optional SE block placed as in Fig. 5.

    Subclasses define the residual function ``residual`` and end ``__init__`` with
    :meth:`attach_shortcut_and_se`, which sets ``self.downsample`` (a projection, or ``None`` for the identity).
    """

    downsample: nn.Module | None

    def attach_shortcut_and_se(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        projection: Callable[[], nn.Module],
        se: SEBlock | None,
        placement: str = "standard",
    ) -> None:
        """End every unit's ``__init__``: the identity shortcut, or ``projection()`` where the unit changes the
        width or the resolution; then the SE block (:meth:`attach_se`)."""
        changes_shape = stride != 1 or in_channels != out_channels
        self.downsample = projection() if changes_shape else None
        self.attach_se(se, placement)

    def attach_se(self, se: SEBlock | None, placement: str = "standard") -> None:
        """Attach the unit's SE block at ``self.se`` (``None``: a plain unit, no state-dict keys)."""
        if placement not in PLACEMENTS:
            raise ValueError(f"unknown SE placement {placement!r}; choose one of {PLACEMENTS}")
        self.se = se
        self.placement = placement

    def branch_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The inputs of the residual branch and of the shortcut (both ``x`` for post-activation units)."""
        return x, x

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual function F (the stacked convolutions)."""
        raise NotImplementedError

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The identity branch: ``x``, or its projection when the shape changes."""
        return x if self.downsample is None else self.downsample(x)

    def merge(self, y: torch.Tensor) -> torch.Tensor:
        """What follows the summation: ReLU for the original ResNet, nothing for pre-activation."""
        return torch.relu(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The unit, with its SE block applied where ``self.placement`` says (Table 14)."""
        se, where = self.se, self.placement
        r, s = self.branch_inputs(x)
        if se is not None and where == "pre":  # SE-PRE: before the residual unit
            r = se(r)
        if se is not None and where == "identity":  # SE-Identity: on the identity connection
            s = se(s)
        y = self.residual(r)
        if se is not None and where == "standard":  # standard SE: residual branch, scaled into the sum
            out = self.merge(se(y, self.shortcut(s)))  # scale folded into the sum
        else:
            out = self.merge(y + self.shortcut(s))
        if se is not None and where == "post":  # SE-POST: after the summation (after ReLU)
            out = se(out)
        return out


class PreActBlock(ResidualBlock):
    """Base of the pre-activation units (He et al., "Identity Mappings in Deep Residual Networks", 2016).

    ``bn1`` + ReLU pre-activate the input; a projection shortcut takes the pre-activated input.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)

    def branch_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        o = torch.relu(self.bn1(x))
        return o, (x if self.downsample is None else o)

    def merge(self, y: torch.Tensor) -> torch.Tensor:
        return y


def make_stage(
    block: type[ResidualBlock],
    stage: int,
    num_blocks: int,
    in_channels: int,
    out_channels: int,
    stride: int,
    se: SEOptions | None,
    **block_options: Any,
) -> nn.Sequential:
    """One stage ``layer<stage>``: ``num_blocks`` units, the first one changing width and stride."""
    units = []
    for j in range(num_blocks):
        se_block = se.block_for(stage, in_channels, out_channels) if se is not None else None
        placement = se.placement if se is not None else "standard"
        units.append(
            block(in_channels, out_channels, stride if j == 0 else 1, se_block, placement, **block_options)
        )
        in_channels = out_channels
    return nn.Sequential(*units)


def init_weights(model: nn.Module) -> None:
    """He (Kaiming) normal initialisation for convolutions, BN to the identity (as torchvision)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def set_spec(model: nn.Module, name: str, num_classes: int, se: SEOptions | None) -> nn.Module:
    """Record ``model.spec`` (name, num_classes, SE options): ``create_model(**model.spec)`` rebuilds it."""
    model.spec = {"name": name, "num_classes": num_classes, **(se.as_dict() if se is not None else {})}
    return model

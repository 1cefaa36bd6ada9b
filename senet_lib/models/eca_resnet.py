"""CIFAR ResNets with ECA blocks (Wang et al., CVPR 2020) where the SE-ResNets have SE blocks.

``create_model("eca_resnet20")`` is ResNet-20 with an :class:`~senet_lib.eca.ECABlock` on the residual branch of
every unit, before the sum (the standard SE position, Hu et al. Fig. 5): same layout (``layer{i}.{j}.se``), so
the excitation tools find and record the ECA gates as they do SE's (named ``SE_<stage>_<block>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from senet_lib.eca import ECABlock
from senet_lib.models.common import set_spec
from senet_lib.models.registry import register_model
from senet_lib.models.resnet_cifar import CifarResNet, cifar_resnet

__all__ = ["ECAOptions"]


@dataclass(frozen=True)
class ECAOptions:
    """Where the ECA blocks go and their kernel size; stands in for :class:`~senet_lib.models.common.SEOptions`.

    ``kernel_size=None`` picks k from each block's width (``eca_kernel_size``: 3 for C = 16, 32 and 64).
    """

    kernel_size: int | None = None
    gamma: float = 2
    b: float = 1
    placement: str = "standard"  # ECA sits where the standard SE block does

    def check_stages(self, num_stages: int) -> None:
        """Every stage has ECA blocks (nothing to check)."""

    def block_for(self, stage: int, in_channels: int, out_channels: int) -> ECABlock:
        """The ECA block of one residual unit: on the branch output, ``out_channels`` wide."""
        return ECABlock(out_channels, self.kernel_size, self.gamma, self.b)

    def as_dict(self) -> dict[str, Any]:
        """The keyword options of the ``eca_resnet*`` builders, for ``model.spec``."""
        return {"kernel_size": self.kernel_size, "gamma": self.gamma, "b": self.b}


def _eca(
    name: str, depth: int, num_classes: int, kernel_size: int | None, gamma: float, b: float
) -> CifarResNet:
    options = ECAOptions(kernel_size, gamma, b)
    return set_spec(cifar_resnet(depth, num_classes, options), name, num_classes, options)  # type: ignore[arg-type]


@register_model
def eca_resnet20(
    num_classes: int = 10, kernel_size: int | None = None, gamma: float = 2, b: float = 1
) -> CifarResNet:
    """ECA-ResNet-20: ResNet-20 with an ECA block in every residual unit (k = 3 at widths 16/32/64)."""
    return _eca("eca_resnet20", 20, num_classes, kernel_size, gamma, b)


@register_model
def eca_resnet56(
    num_classes: int = 10, kernel_size: int | None = None, gamma: float = 2, b: float = 1
) -> CifarResNet:
    """ECA-ResNet-56: ResNet-56 with an ECA block in every residual unit (k = 3 at widths 16/32/64)."""
    return _eca("eca_resnet56", 56, num_classes, kernel_size, gamma, b)

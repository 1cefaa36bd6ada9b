"""Efficient Channel Attention (ECA), a successor of the SE block without its bottleneck.

Wang, Wu, Zhu, Li, Zuo, Hu, "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
CVPR 2020. ECA keeps SE's squeeze (global average pooling, Eq. 2 of Hu et al.) and scale (Eq. 4) but replaces
the excitation's two fully connected layers (C -> C/r -> C) by one 1-D convolution of kernel size k across the
channel axis: each channel's gate looks at its k neighbours only, and the whole block has k weights. The kernel
size follows the channel count C: ``k = |log2(C) / gamma + b / gamma|`` rounded to the nearest odd number up
(gamma = 2, b = 1 in the paper), so C = 64 gives k = 3.

:class:`ECABlock` has the interface of :class:`~senet_lib.se.SEBlock` (``forward(u, residual=None)``, the gate
as the hookable submodule ``gate``), so the CIFAR ResNets take it in place of SE and the excitation tools
(:mod:`senet_lib.se_layers`, :mod:`senet_lib.analysis.excitation`) record its gates like SE's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from senet_lib.se import make_gate, scale, scale_add, squeeze

__all__ = ["ECABlock", "eca_kernel_size"]


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """ECA's adaptive kernel size: ``t = int(|(log2(C) + b) / gamma|)``, then the odd number ``t`` or ``t + 1``.

    As in the authors' code: C = 16 -> 3, 64 -> 3, 256 -> 5, 2048 -> 7 (gamma = 2, b = 1).
    """
    if channels < 1:
        raise ValueError(f"channels must be a positive integer; got {channels}")
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0 (the paper uses 2); got {gamma}")
    t = int(abs((math.log2(channels) + b) / gamma))
    return max(1, t if t % 2 else t + 1)


class ECABlock(nn.Module):
    """ECA block: squeeze (global average pool), a 1-D convolution of size k across channels, sigmoid, scale.

    Args:
        channels: C, the number of channels of the input feature map.
        kernel_size: k; ``None`` chooses it from C with :func:`eca_kernel_size` (``gamma``, ``b``).
        gamma, b: the constants of the adaptive kernel size (paper: 2 and 1).
        gate: the gate non-linearity, a name from :data:`senet_lib.se.GATES` (paper: sigmoid).

    The block has k parameters (the convolution has no bias). The gate is ``self.gate``: a forward hook on it
    sees the excitation ``s`` (N, C), exactly as for SE.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int | None = None,
        gamma: float = 2,
        b: float = 1,
        gate: str = "sigmoid",
    ) -> None:
        super().__init__()
        k = eca_kernel_size(channels, gamma, b) if kernel_size is None else int(kernel_size)
        if k < 1 or k % 2 == 0:
            raise ValueError(
                f"kernel_size must be a positive odd number (it is centred on a channel); got {k}"
            )
        self.channels, self.kernel_size = channels, k
        self.conv = nn.Conv1d(1, 1, k, padding=(k - 1) // 2, bias=False)  # k weights shared by every channel
        self.gate = make_gate(gate)
        self.gate_kind = gate

    def excite(self, z: torch.Tensor) -> torch.Tensor:
        """(N, C) descriptors -> (N, C) gates: a 1-D convolution along the channel axis, then the gate."""
        return self.gate(self.conv(z.unsqueeze(1)).squeeze(1))  # (N, C) -> (N, 1, C) -> (N, C)

    def forward(self, u: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        """``scale(u, excite(squeeze(u)))``; with ``residual``, ``residual + scale(u, s)`` in one pass."""
        if u.dim() != 4 or u.shape[1] != self.channels:
            raise ValueError(
                f"ECABlock({self.channels}) expects input of shape (N, {self.channels}, H, W); got {tuple(u.shape)}"
            )
        s = self.excite(squeeze(u))  # (N, C, H, W) -> (N, C)
        return scale(u, s) if residual is None else scale_add(u, s, residual)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel_size={self.kernel_size}, gate={self.gate_kind!r}"

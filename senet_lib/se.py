"""The Squeeze-and-Excitation block, written as the paper writes it.

Hu, Shen, Albanie, Sun, Wu, "Squeeze-and-Excitation Networks", CVPR 2018 / TPAMI 2019.

The block recalibrates the channels of a feature map ``U`` (N, C, H, W) in three steps:

* **squeeze** (Eq. 2): ``z_c = 1/(H W) sum_ij u_c(i, j)`` -- one descriptor per channel;
* **excitation** (Eq. 3): ``s = sigma(W2 delta(W1 z))`` -- a bottleneck MLP with reduction
  ratio ``r`` (``W1``: C -> C/r, ``W2``: C/r -> C), ``delta`` = ReLU, ``sigma`` = the gate;
* **scale** (Eq. 4): ``x~_c = s_c * u_c``.

Each step is a plain function here, and :class:`SEBlock` is the module built from them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GATES",
    "SQUEEZE_MODES",
    "SEBlock",
    "excite",
    "global_avg_pool",
    "hidden_width",
    "make_gate",
    "scale",
    "scale_add",
    "squeeze",
]

#: Squeeze operators (paper Table 11 compares average and max pooling).
SQUEEZE_MODES = ("avg", "max")

#: Gate (the final excitation non-linearity) by name (paper Table 12: sigmoid, tanh, ReLU).
GATES: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "hard_sigmoid": nn.Hardsigmoid,
}


def global_avg_pool(u: torch.Tensor) -> torch.Tensor:
    """Mean of each channel map, (N, C, H, W) -> (N, C), in whichever memory layout ``u`` has.

    For channels_last (NHWC) tensors the mean runs over the rows of an (N, H*W, C) view: the same numbers,
    but its backward stays NHWC, which on a CPU is about 5x faster than ``u.mean((2, 3))``'s.
    """
    if u.dim() == 4 and not u.is_contiguous() and u.is_contiguous(memory_format=torch.channels_last):
        return u.permute(0, 2, 3, 1).flatten(1, 2).mean(1)  # (N, H, W, C) -> (N, H*W, C) -> (N, C)
    return u.mean(dim=(2, 3))  # (N, C, H, W) -> (N, C)


def squeeze(u: torch.Tensor, mode: str = "avg") -> torch.Tensor:
    """Squeeze: global spatial pooling, one number per channel (Eq. 2).

    ``mode="avg"`` is the paper's global average pooling; ``"max"`` its ablation (Table 11).
    """
    if u.dim() != 4:
        raise ValueError(f"squeeze expects a feature map of shape (N, C, H, W); got shape {tuple(u.shape)}")
    if mode == "avg":
        return global_avg_pool(u)  # (N, C, H, W) -> (N, C)
    if mode == "max":
        return u.amax(dim=(2, 3))  # (N, C, H, W) -> (N, C)
    raise ValueError(f"unknown squeeze mode {mode!r}; choose one of {SQUEEZE_MODES}")


def make_gate(gate: str) -> nn.Module:
    """The gate module for a gate name (one of :data:`GATES`)."""
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}; choose one of {tuple(GATES)}")
    return GATES[gate]()


def excite(
    z: torch.Tensor,
    w1: torch.Tensor,
    w2: torch.Tensor,
    b1: torch.Tensor | None = None,
    b2: torch.Tensor | None = None,
    gate: str | Callable[[torch.Tensor], torch.Tensor] = "sigmoid",
) -> torch.Tensor:
    """Excitation: ``s = gate(W2 ReLU(W1 z + b1) + b2)`` (Eq. 3).

    ``z`` is (N, C), ``w1`` is (C/r, C), ``w2`` is (C, C/r); returns the channel weights (N, C).
    ``gate`` is a name from :data:`GATES` or a callable (e.g. the block's gate module, so hooks fire).
    """
    if z.dim() != 2:
        raise ValueError(f"excite expects squeezed descriptors of shape (N, C); got shape {tuple(z.shape)}")
    gate_fn = make_gate(gate) if isinstance(gate, str) else gate
    hidden = F.relu(F.linear(z, w1, b1))  # (N, C) -> (N, C/r): delta(W1 z)
    return gate_fn(F.linear(hidden, w2, b2))  # (N, C/r) -> (N, C): sigma(W2 ...)


def scale(u: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Scale: multiply each channel map by its excitation weight, ``x~_c = s_c u_c`` (Eq. 4)."""
    if s.shape != u.shape[:2]:
        raise ValueError(f"scale needs s of shape (N, C) = {tuple(u.shape[:2])}; got {tuple(s.shape)}")
    return u * s[:, :, None, None]  # (N, C, H, W) * (N, C, 1, 1)


def scale_add(u: torch.Tensor, s: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """Scale (Eq. 4) folded into the residual sum: ``residual + s_c u_c`` in one pass over memory.

    The SE authors' Caffe models do the same with an "Axpy" layer (F = a * X + Y); it saves a full read and
    write of the feature map in the forward and backward passes. Same numbers as ``scale(u, s) + residual``.
    """
    if s.shape != u.shape[:2]:
        raise ValueError(f"scale needs s of shape (N, C) = {tuple(u.shape[:2])}; got {tuple(s.shape)}")
    return torch.addcmul(residual, u, s[:, :, None, None])  # (N, C, H, W) + (N, C, H, W) * (N, C, 1, 1)


def hidden_width(channels: int, reduction: float, min_hidden: int = 1) -> int:
    """Width of the excitation bottleneck: ``max(min_hidden, floor(C / r))``.

    The paper uses C/r. At CIFAR scale C/r can drop to 1 or below (16 channels, r = 16 gives a
    single hidden unit); ``min_hidden`` sets the floor explicitly (default 1, as the paper's C/r).
    """
    if channels < 1:
        raise ValueError(f"channels must be a positive integer; got {channels}")
    if not reduction > 0:
        raise ValueError(f"reduction ratio r must be > 0 (the paper uses 16); got {reduction}")
    if min_hidden < 1:
        raise ValueError(f"min_hidden must be >= 1; got {min_hidden}")
    return max(int(min_hidden), int(channels // reduction))


class SEBlock(nn.Module):
    """Squeeze-and-Excitation block (Fig. 1): squeeze (Eq. 2), excitation (Eq. 3), scale (Eq. 4).

    Args:
        channels: C, the number of channels of the input feature map.
        reduction: the reduction ratio r (paper default 16; Table 10 ablates 2..32).
        min_hidden: floor on the bottleneck width, see :func:`hidden_width`.
        squeeze_mode: ``"avg"`` (paper) or ``"max"``.
        gate: ``"sigmoid"`` (paper), ``"tanh"``, ``"relu"`` or ``"hard_sigmoid"``.
        bias: whether the two FC layers have biases (the paper's parameter formula counts none).

    The gate is the submodule ``self.gate``: a forward hook on it sees the excitation ``s`` (N, C).
    """

    def __init__(
        self,
        channels: int,
        reduction: float = 16,
        min_hidden: int = 1,
        squeeze_mode: str = "avg",
        gate: str = "sigmoid",
        bias: bool = True,
    ) -> None:
        super().__init__()
        if squeeze_mode not in SQUEEZE_MODES:
            raise ValueError(f"unknown squeeze mode {squeeze_mode!r}; choose one of {SQUEEZE_MODES}")
        self.channels = channels
        self.reduction = reduction
        self.squeeze_mode = squeeze_mode
        self.hidden = hidden_width(channels, reduction, min_hidden)
        self.fc1 = nn.Linear(channels, self.hidden, bias=bias)  # W1: C -> C/r
        self.fc2 = nn.Linear(self.hidden, channels, bias=bias)  # W2: C/r -> C
        self.gate = make_gate(gate)
        self.gate_kind = gate

    def squeeze(self, u: torch.Tensor) -> torch.Tensor:
        """Eq. 2: (N, C, H, W) -> (N, C)."""
        return squeeze(u, self.squeeze_mode)

    def excite(self, z: torch.Tensor) -> torch.Tensor:
        """Eq. 3: (N, C) -> (N, C) channel weights, through the hookable ``self.gate``."""
        return excite(z, self.fc1.weight, self.fc2.weight, self.fc1.bias, self.fc2.bias, gate=self.gate)

    def scale(self, u: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Eq. 4: (N, C, H, W), (N, C) -> (N, C, H, W)."""
        return scale(u, s)

    def _check(self, u: torch.Tensor) -> None:
        if u.dim() != 4 or u.shape[1] != self.channels:
            raise ValueError(
                f"SEBlock({self.channels}) expects input of shape (N, {self.channels}, H, W); got {tuple(u.shape)}"
            )

    def forward(self, u: torch.Tensor, residual: torch.Tensor | None = None) -> torch.Tensor:
        """``scale(u, excite(squeeze(u)))``: Eq. 2-4. With ``residual`` (the identity branch of a residual unit),
        ``scale(u, s) + residual`` computed in one pass (:func:`scale_add`), as the standard SE-ResNet unit uses it.
        """
        self._check(u)
        s = self.excite(self.squeeze(u))  # (N, C, H, W) -> (N, C)
        if residual is None:
            return self.scale(u, s)
        return scale_add(u, s, residual)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, reduction={self.reduction}, hidden={self.hidden}, "
            f"squeeze={self.squeeze_mode!r}, gate={self.gate_kind!r}"
        )

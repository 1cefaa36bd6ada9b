"""The CIFAR augmentation (He et al. 2016, used by the SE paper): pad 4 + random 32x32 crop, horizontal flip.

Two implementations of one distribution: :func:`textbook_transform` (``torchvision.transforms.v2``, one image
at a time) and :func:`crop_flip` (a whole uint8 batch at once, on any device). Both end in :func:`normalize`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torchvision.transforms import v2

__all__ = ["FLIP_P", "PADDING", "crop_flip", "normalize", "textbook_transform"]

PADDING = 4  # zero padding on each side before the random crop
FLIP_P = 0.5  # probability of a horizontal flip


def textbook_transform(
    train: bool,
    mean: Sequence[float],
    std: Sequence[float],
    image_size: int = 32,
    padding: int = PADDING,
    flip_p: float = FLIP_P,
) -> v2.Compose:
    """uint8 (3, H, W) -> float32 normalised; with ``train``: random crop (zero padding) and flip first."""
    steps = [v2.RandomCrop(image_size, padding=padding), v2.RandomHorizontalFlip(flip_p)] if train else []
    return v2.Compose(steps + [v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(mean), list(std))])


def normalize(
    images: torch.Tensor,
    mean: Sequence[float] | torch.Tensor,
    std: Sequence[float] | torch.Tensor,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """uint8 (..., 3, H, W) -> ``(x / 255 - mean) / std`` in ``dtype``; bit-identical to ``ToDtype(scale=True)`` + ``Normalize``.

    ``mean``/``std`` may be tensors already on the device, which avoids a host-to-device copy per batch.
    """
    x = images.to(torch.float32).mul_(
        1.0 / 255
    )  # the ops of v2's to_dtype(scale=True) and normalize, in order
    mean = torch.as_tensor(mean, dtype=torch.float32, device=x.device).view(-1, 1, 1)  # (3, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32, device=x.device).view(-1, 1, 1)
    return x.sub_(mean).div_(std).to(dtype)


def crop_flip(
    images: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor, padding: int = PADDING
) -> torch.Tensor:
    """Crop each image of a batch at its own offset from the zero-padded batch, mirrored where ``flips``.

    ``images`` (B, C, H, W), ``offsets`` (B, 2) = (top, left) in [0, 2 * padding], ``flips`` (B,) bool.
    """
    b, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (padding, padding, padding, padding))  # (B, C, H + 2p, W + 2p), zeros around
    rows = offsets[:, 0:1] + torch.arange(h, device=device)  # (B, H): padded rows each output row reads
    cols = offsets[:, 1:2] + torch.arange(w, device=device)  # (B, W)
    cols = torch.where(flips[:, None], cols.flip(1), cols)  # a mirror reads its window right to left
    batch = torch.arange(b, device=device).view(b, 1, 1, 1)
    channel = torch.arange(c, device=device).view(1, c, 1, 1)
    return padded[batch, channel, rows.view(b, 1, h, 1), cols.view(b, 1, 1, w)]  # (B, C, H, W)

"""Splits held as tensors, the seeded class-balanced validation split, and per-channel statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = [
    "DatasetNotFoundError",
    "SplitTooSmallError",
    "Splits",
    "TensorSplit",
    "balanced_split",
    "channel_stats",
]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not where they should be; the message says where they go and how to get them."""


@dataclass(frozen=True)
class TensorSplit:
    """One split as two tensors: uint8 images (N, 3, H, W) and int64 targets (N,)."""

    images: torch.Tensor
    targets: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(
                f"images must be a uint8 tensor (N, C, H, W); got {self.images.dtype} "
                f"of shape {tuple(self.images.shape)}"
            )
        if self.targets.dtype != torch.int64 or self.targets.shape != self.images.shape[:1]:
            raise ValueError(
                f"targets must be int64 of shape ({self.images.shape[0]},); got {self.targets.dtype} "
                f"of shape {tuple(self.targets.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: torch.Tensor | slice) -> TensorSplit:
        """The images and targets at ``index`` (a slice or a tensor of indices)."""
        return TensorSplit(self.images[index], self.targets[index])

    def to(self, device: str | torch.device) -> TensorSplit:
        """Both tensors moved to ``device``."""
        return TensorSplit(self.images.to(device), self.targets.to(device))

    def class_counts(self, num_classes: int) -> torch.Tensor:
        """Images per class, (num_classes,)."""
        return torch.bincount(self.targets.cpu(), minlength=num_classes)


@dataclass
class Splits:
    """A dataset ready for training: train and validation splits, class names, normalisation mean/std.

    ``test`` is the official test split when there is one (for CIFAR it may be the same object as ``val``);
    ``description`` is a JSON-able record of where the data came from (saved in checkpoint sidecars).
    """

    train: TensorSplit
    val: TensorSplit
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    test: TensorSplit | None = None
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


class SplitTooSmallError(ValueError):
    """A balanced split asks more images of a class than it has; ``fact`` says which, the message adds the fix."""

    def __init__(self, fact: str, advice: str) -> None:
        super().__init__(f"{fact}; {advice}")
        self.fact = fact


def balanced_split(
    targets: torch.Tensor,
    val_size: int,
    seed: int,
    classes: list[str] | None = None,
    size_name: str = "val_size",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train_idx, val_idx)``, sorted int64: ``val_size`` images spread evenly over the classes, chosen by ``seed``.

    Each class gives ``val_size // K`` images (the first ``val_size % K`` classes one more); same seed, same split.
    ``size_name`` names the setting that asked for ``val_size`` images in error messages.
    """
    targets = torch.as_tensor(targets, dtype=torch.int64).cpu()
    num_classes = len(classes) if classes else (int(targets.max()) + 1 if len(targets) else 0)
    if val_size < num_classes:
        raise SplitTooSmallError(
            f"{size_name}={val_size} cannot hold one image of each of the {num_classes} classes",
            f"use {size_name} >= {num_classes}",
        )
    generator = torch.Generator().manual_seed(seed)
    per_class, extra = divmod(val_size, num_classes)
    counts = torch.bincount(targets, minlength=num_classes).tolist()
    groups = torch.argsort(targets, stable=True).split(counts)  # per class: its indices, ascending
    val_parts = []
    for c, members in enumerate(groups):
        wanted = per_class + (c < extra)
        if len(members) <= wanted:
            name = f" ({classes[c]!r})" if classes else ""
            raise SplitTooSmallError(
                f"class {c}{name} has {len(members)} images; taking {wanted} of each class "
                f"needs at least {wanted + 1} (one left over)",
                f"lower {size_name} (now {val_size})",
            )
        val_parts.append(members[torch.randperm(len(members), generator=generator)[:wanted]])
    is_val = torch.zeros(len(targets), dtype=torch.bool)
    is_val[torch.cat(val_parts)] = True
    return torch.nonzero(~is_val).flatten(), torch.nonzero(is_val).flatten()


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images (N, C, H, W), on the [0, 1] scale; exact, from 256-bin histograms."""
    values = torch.arange(256, dtype=torch.float64) / 255
    means, stds = [], []
    for c in range(images.shape[1]):
        counts = torch.bincount(images[:, c].reshape(-1).cpu(), minlength=256).double()  # (256,)
        p = counts / counts.sum()
        mean = float((p * values).sum())
        means.append(round(mean, 4))
        stds.append(round(float((p * (values - mean) ** 2).sum().sqrt()), 4))
    return tuple(means), tuple(stds)

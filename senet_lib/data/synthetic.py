"""A tiny synthetic dataset for tests: each class is a colour and a stripe pattern, plus noise."""

from __future__ import annotations

import colorsys
import math

import torch

from senet_lib.data.splits import Splits, TensorSplit, channel_stats

__all__ = ["make_synthetic"]


def _class_images(
    c: int, num_classes: int, count: int, size: int, generator: torch.Generator
) -> torch.Tensor:
    """``count`` float images (count, 3, S, S) in [0, 1] of class ``c``: its hue, its stripes, random phase and noise."""
    colour = torch.tensor(colorsys.hsv_to_rgb(c / num_classes, 0.75, 0.9)).view(1, 3, 1, 1)
    period = 4 + 2 * (c % 3)  # 4, 6 or 8 pixels
    angle = math.pi * (c % 4) / 4  # 0, 45, 90, 135 degrees
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")  # (S, S) each
    along = math.cos(angle) * rows + math.sin(angle) * cols  # (S, S): distance along the stripe normal
    phase = torch.rand(count, 1, 1, generator=generator) * period  # (count, 1, 1)
    stripes = (torch.sin(2 * math.pi * (along + phase) / period) > 0).float()  # (count, S, S) in {0, 1}
    brightness = 0.8 + 0.4 * torch.rand(count, 1, 1, 1, generator=generator)
    images = colour * brightness * (0.55 + 0.45 * stripes[:, None])  # (count, 3, S, S)
    return images + 0.06 * torch.randn(images.shape, generator=generator)


def make_synthetic(
    num_classes: int = 10,
    train_per_class: int = 40,
    val_per_class: int = 10,
    image_size: int = 32,
    seed: int = 0,
) -> Splits:
    """A seeded toy dataset a small CNN learns in a few CPU epochs (default 400 train / 100 val, 32x32)."""
    if num_classes < 2 or train_per_class < 1 or val_per_class < 1:
        raise ValueError(
            "make_synthetic needs num_classes >= 2 and at least one train and one val image per class"
        )
    generator = torch.Generator().manual_seed(seed)
    parts = {}
    for name, per_class in (("train", train_per_class), ("val", val_per_class)):
        images = torch.cat(
            [_class_images(c, num_classes, per_class, image_size, generator) for c in range(num_classes)]
        )
        targets = torch.arange(num_classes).repeat_interleave(per_class)  # (K * per_class,)
        order = torch.randperm(len(targets), generator=generator)  # mix the classes
        uint8 = (images.clamp(0, 1) * 255).round().to(torch.uint8)
        parts[name] = TensorSplit(uint8[order], targets[order])
    mean, std = channel_stats(parts["train"].images)
    description = {
        "dataset": "synthetic",
        "seed": seed,
        "image_size": image_size,
        "train_size": len(parts["train"]),
        "val_size": len(parts["val"]),
        "val_source": "synthetic",
    }
    return Splits(
        train=parts["train"],
        val=parts["val"],
        classes=[f"class_{c}" for c in range(num_classes)],
        mean=mean,
        std=std,
        description=description,
    )

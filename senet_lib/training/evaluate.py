"""Accuracy, per-class accuracy and the confusion matrix of a model on a split."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from senet_lib.data import checkpoint_on_split


@torch.no_grad()
def evaluate(
    model: nn.Module, loader, num_classes: int, channels_last: bool = False, flip_tta: bool = False
) -> dict:
    """Loss, top-1 accuracy, per-class accuracy and confusion matrix (rows: true class, cols: predicted).

    ``flip_tta``: test-time augmentation, the mean of the softmax over the image and its mirror image (reported
    apart from the plain accuracy: it costs a second forward pass per image).
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long, device=device)
    loss_sum = torch.zeros((), dtype=torch.double, device=device)
    for images, labels in loader:
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        logits = model(images).float()  # (B, 3, H, W) -> (B, K)
        if flip_tta:  # mean probability of the image and its mirror, as log-probabilities
            mirrored = model(images.flip(3)).float()
            logits = torch.logsumexp(
                torch.stack([logits.log_softmax(1), mirrored.log_softmax(1)]), 0
            ) - math.log(2)
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").double()
        confusion += torch.bincount(
            labels * num_classes + logits.argmax(1), minlength=num_classes * num_classes
        ).view(num_classes, num_classes)
    model.train(was_training)
    confusion = confusion.cpu()
    total = int(confusion.sum())
    if total == 0:
        raise ValueError("evaluate got an empty loader: the split has no images")
    per_class = (confusion.diag().double() / confusion.sum(1).clamp(min=1)).tolist()
    return {
        "loss": float(loss_sum) / total,
        "accuracy": float(confusion.diag().sum()) / total,
        "per_class_accuracy": per_class,
        "confusion": confusion.tolist(),
        "count": total,
    }


def evaluate_checkpoint(
    path: str | Path,
    split: str = "val",
    dataset: str | None = None,
    data_dir: str | Path | None = None,
    batch_size: int = 256,
    device: str = "auto",
    progress: bool = True,
    flip_tta: bool = False,
) -> dict:
    """:func:`evaluate` a checkpoint on the split its recipe held out (or its training split): a JSON-able dict.

    ``flip_tta``: also the accuracy and loss with flip test-time augmentation, apart under ``"flip_tta"`` (a second
    pass over the split); the plain figures stay the checkpoint's accuracy.
    """
    run = checkpoint_on_split(path, split, dataset, data_dir, batch_size, device, progress)
    num_classes = len(run.meta["classes"])
    result = {
        "checkpoint": str(path),
        "split": split,
        "classes": run.meta.get("classes"),
        **evaluate(run.model, run.loader, num_classes=num_classes),
    }
    if flip_tta:
        flipped = evaluate(run.model, run.loader, num_classes=num_classes, flip_tta=True)
        result["flip_tta"] = {"loss": flipped["loss"], "accuracy": flipped["accuracy"]}
    return result

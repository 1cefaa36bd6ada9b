"""Accuracy, per-class accuracy and the confusion matrix of a model on a split."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


@torch.no_grad()
def evaluate(model: nn.Module, loader, num_classes: int, channels_last: bool = False) -> dict:
    """Loss, top-1 accuracy, per-class accuracy and confusion matrix (rows: true class, cols: predicted)."""
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
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").double()
        confusion += torch.bincount(labels * num_classes + logits.argmax(1),
                                    minlength=num_classes * num_classes).view(num_classes, num_classes)
    model.train(was_training)
    confusion = confusion.cpu()
    total = int(confusion.sum())
    if total == 0:
        raise ValueError("evaluate got an empty loader: the split has no images")
    per_class = (confusion.diag().double() / confusion.sum(1).clamp(min=1)).tolist()
    return {"loss": float(loss_sum) / total, "accuracy": float(confusion.diag().sum()) / total,
            "per_class_accuracy": per_class, "confusion": confusion.tolist(), "count": total}

"""Accuracy, per-class accuracy and the confusion matrix of a model on a split."""

from __future__ import annotations

from pathlib import Path

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


def checkpoint_splits(meta: dict, dataset: str | None = None, data_dir: str | Path = "data", progress: bool = True,
                      **load_options):
    """The train/val splits a checkpoint was trained with: its recipe's dataset, seed and val size.

    ``dataset`` replaces the recipe's (e.g. where the archive lives on this machine, or ``"cifar10"`` to evaluate
    a CIFAR-10 model on the official test split); ``load_options`` go to :func:`senet_lib.data.load_splits`.
    """
    from senet_lib.data import load_splits

    recipe = meta.get("recipe", {})
    dataset = dataset or recipe.get("dataset")
    if not dataset:
        raise ValueError("the checkpoint's sidecar names no dataset (recipe.dataset); pass --dataset")
    splits = load_splits(dataset, data_dir, val_size=recipe.get("val_size", 5000), seed=recipe.get("seed", 0),
                         progress=progress, **load_options)
    if list(splits.classes) != list(meta.get("classes", splits.classes)):
        raise ValueError(f"the dataset's classes {splits.classes[:4]}... differ from the checkpoint's "
                         f"{meta['classes'][:4]}...; pass the dataset the model was trained on")
    return splits


def checkpoint_split_loader(meta: dict, split: str = "val", dataset: str | None = None, data_dir: str = "data",
                            batch_size: int = 256, device: str | torch.device = "cpu", progress: bool = True):
    """An un-augmented loader over the split a checkpoint was trained with (its recipe's dataset, seed and val size)."""
    from senet_lib.data import DeviceLoader

    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val'; got {split!r}")
    splits = checkpoint_splits(meta, dataset, data_dir, progress)
    norm = meta.get("normalization", {"mean": splits.mean, "std": splits.std})
    return DeviceLoader(getattr(splits, split), batch_size, device, train=False, mean=norm["mean"], std=norm["std"])


def add_checkpoint_arguments(parser) -> None:
    """Arguments shared by the commands that run a checkpoint over a split (evaluate, profile)."""
    parser.add_argument("checkpoint", help="checkpoint stem or file (e.g. data/checkpoints/se_resnet20)")
    parser.add_argument("--dataset", help="dataset (default: the one in the checkpoint's recipe)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--split", default="val", choices=["train", "val"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=256)


def add_arguments(parser) -> None:
    add_checkpoint_arguments(parser)
    parser.add_argument("--out", help="write the JSON result here (default: print it)")


def run(args) -> int:
    import json
    from pathlib import Path

    from senet_lib.checkpoint import load_model, read_meta
    from senet_lib.train import resolve_device

    device = resolve_device(args.device)
    meta = read_meta(args.checkpoint)
    model = load_model(args.checkpoint, device=device)
    loader = checkpoint_split_loader(meta, args.split, args.dataset, args.data_dir, args.batch_size, device)
    result = {"checkpoint": str(args.checkpoint), "split": args.split, "classes": meta.get("classes"),
              **evaluate(model, loader, num_classes=len(meta["classes"]))}
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"accuracy {result['accuracy']:.4f} on {result['count']} images; wrote {args.out}")
    else:
        print(text)
    return 0

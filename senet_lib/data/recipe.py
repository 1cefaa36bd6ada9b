"""The data a checkpoint was trained and validated on, rebuilt from its sidecar's recipe.

The recipe names the dataset, the seed, the validation size and where validation images came from
(``val_source``: CIFAR's test split or a hold-out of its training split), so evaluation and class profiles
run on exactly the split the training run held out, never on images it trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from senet_lib.checkpoint import load_model, read_meta
from senet_lib.data.load import load_splits
from senet_lib.data.loaders import DeviceLoader
from senet_lib.data.splits import DatasetNotFoundError, Splits, SplitTooSmallError
from senet_lib.runtime import resolve_device

__all__ = ["CheckpointOnSplit", "checkpoint_on_split", "checkpoint_split_loader", "checkpoint_splits"]


def checkpoint_splits(
    meta: dict,
    dataset: str | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    **load_options,
) -> Splits:
    """The train/val splits a checkpoint was trained with: its recipe's dataset, seed and val size.

    ``dataset`` replaces the recipe's (e.g. where the archive lives on this machine, or ``"cifar10"`` to evaluate
    a CIFAR-10 model on the official test split); ``load_options`` go to :func:`senet_lib.data.load_splits`.
    """
    recipe = meta.get("recipe", {})
    given, dataset = dataset, dataset or recipe.get("dataset")
    if not dataset:
        raise ValueError("the checkpoint's sidecar names no dataset (recipe.dataset); pass --dataset")
    load_options.setdefault("val_source", recipe.get("val_source", "test"))
    val_size, seed = recipe.get("val_size", 5000), recipe.get("seed", 0)
    try:
        splits = load_splits(
            dataset, data_dir, val_size=val_size, seed=seed, progress=progress, **load_options
        )
    except DatasetNotFoundError as err:
        if given:
            raise
        raise DatasetNotFoundError(
            f"{err}. The checkpoint's recipe names dataset {dataset!r} as seen from where it was trained; "
            "pass --dataset with where that dataset is on this machine"
        ) from err
    except SplitTooSmallError as err:
        if not given:
            raise
        raise ValueError(
            f"dataset {dataset!r} cannot be split the way the checkpoint's recipe split its data (a hold-out "
            f"of {val_size} images, seed {seed}): {err.fact}. Pass a dataset with its own val/ or test/ folder, "
            "or the one the model was trained on"
        ) from err
    expected = list(meta.get("classes", splits.classes))
    if list(splits.classes) != expected:
        raise ValueError(
            f"the dataset's classes differ from the checkpoint's: {_class_difference(list(splits.classes), expected)}; "
            "pass the dataset the model was trained on"
        )
    return splits


def _class_difference(found: list[str], expected: list[str]) -> str:
    """Where two class lists first differ, e.g. "class 3 is 'dog' here, 'cat' in the checkpoint"."""
    for i, (a, b) in enumerate(zip(found, expected)):
        if a != b:
            return f"class {i} is {a!r} here, {b!r} in the checkpoint"
    return f"{len(found)} classes here, {len(expected)} in the checkpoint"


def checkpoint_split_loader(
    meta: dict,
    split: str = "val",
    dataset: str | None = None,
    data_dir: str | Path | None = None,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    progress: bool = True,
):
    """An un-augmented loader over the split a checkpoint was trained with (its recipe's dataset, seed and val size)."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val'; got {split!r}")
    splits = checkpoint_splits(meta, dataset, data_dir, progress)
    norm = meta.get("normalization", {"mean": splits.mean, "std": splits.std})
    return DeviceLoader(
        getattr(splits, split), batch_size, device, train=False, mean=norm["mean"], std=norm["std"]
    )


@dataclass
class CheckpointOnSplit:
    """A checkpoint ready to run over one of its splits: the model (eval mode), its sidecar, the loader, the device."""

    model: nn.Module
    meta: dict
    loader: DeviceLoader
    device: torch.device


def checkpoint_on_split(
    path: str | Path,
    split: str = "val",
    dataset: str | None = None,
    data_dir: str | Path | None = None,
    batch_size: int = 256,
    device: str = "auto",
    progress: bool = True,
) -> CheckpointOnSplit:
    """Load the checkpoint at ``path`` and an un-augmented loader over the split its recipe held out (or trained on)."""
    dev = resolve_device(device)
    meta = read_meta(path)
    model = load_model(path, device=dev)
    loader = checkpoint_split_loader(meta, split, dataset, data_dir, batch_size, dev, progress)
    return CheckpointOnSplit(model, meta, loader, dev)

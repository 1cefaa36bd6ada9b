"""The data setup the notebooks share: a shipped trained model and the CIFAR-10 images its training held out.

``held_out = shipped_model("se_resnet20", images=500)`` loads the shipped checkpoint and the validation images of
its own recipe (the seeded 5,000-image hold-out of the CIFAR-10 JPEG copy; without that copy, CIFAR-10's official
test split, downloaded once), optionally a seeded random subset of them, with a loader that normalises them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from senet_lib.analysis.catalog import default_checkpoint
from senet_lib.checkpoint import load_model, read_meta
from senet_lib.data import DeviceLoader, TensorSplit, checkpoint_splits, normalize
from senet_lib.paths import checkpoints_dir, find_named_dataset
from senet_lib.shipped import list_pretrained

__all__ = ["HeldOut", "deepest_shipped_se", "shipped_model"]


@dataclass
class HeldOut:
    """A shipped model in eval mode, its sidecar, and held-out images (uint8) with a normalising loader."""

    model: nn.Module
    meta: dict
    classes: list[str]
    val: TensorSplit
    loader: DeviceLoader

    @property
    def mean(self) -> list[float]:
        return list(self.meta["normalization"]["mean"])

    @property
    def std(self) -> list[float]:
        return list(self.meta["normalization"]["std"])

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, 3, H, W) -> the model's normalised float input."""
        return normalize(images, self.mean, self.std)


def deepest_shipped_se() -> str:
    """The shipped SE model read where depth matters: ``se_resnet56``, or ``se_resnet20`` where it is missing."""
    name = default_checkpoint([n for n in list_pretrained() if n.startswith("se_")])
    if name is None:
        raise FileNotFoundError(
            f"no trained SE model in {checkpoints_dir()}; a fresh clone ships se_resnet20 there"
        )
    return name


def shipped_model(
    name: str = "se_resnet20", images: int | None = None, batch_size: int = 250, quiet: bool = False
) -> HeldOut:
    """The shipped model ``name`` and the images its training held out (``images``: a seeded random subset)."""
    path = checkpoints_dir() / name
    meta = read_meta(path)
    model = load_model(path).eval()
    if find_named_dataset("cifar10-jpeg"):  # the hold-out of the checkpoint's own recipe
        splits = checkpoint_splits(meta, dataset="cifar10-jpeg", progress=False)
    else:
        print(
            "notice: the CIFAR-10 JPEG archive is not on senet_lib.paths.dataset_search_path(); "
            "using CIFAR-10's official test split instead (downloaded once into the data folder)"
        )
        splits = checkpoint_splits(meta, dataset="cifar10", progress=False, download=True, val_source="test")
    val = splits.val
    if images is not None and images < len(val):
        val = val.subset(torch.randperm(len(val), generator=torch.Generator().manual_seed(0))[:images])
    norm = meta["normalization"]
    loader = DeviceLoader(val, batch_size, "cpu", train=False, mean=norm["mean"], std=norm["std"])
    if not quiet:
        m = meta["metrics"]
        print(
            f"shipped {meta['model']['name']}: validation accuracy {m['val_acc']:.2%} at its final epoch "
            f"({m['epoch']}); {len(val):,} held-out images here"
        )
    return HeldOut(model, meta, list(meta["classes"]), val, loader)

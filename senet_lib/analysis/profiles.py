"""Class profiles of excitations: per class, the mean excitation of every channel (paper Fig. 6), and
how much of the excitations' variance the class explains (class specificity, eta^2).

    python -m senet_lib profile data/checkpoints/se_resnet20     # stores them in the sidecar

Per SE layer (paper names, e.g. SE_4_3): the (num_classes, C) class-mean excitations over the validation
split, the images per class and eta^2, and their JSON form in a checkpoint's sidecar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from senet_lib.analysis.excitation import record_excitations
from senet_lib.checkpoint import update_meta
from senet_lib.data import checkpoint_on_split

__all__ = [
    "ClassStats",
    "ExcitationProfile",
    "class_mean_profiles",
    "class_specificity",
    "profile_checkpoint",
    "profiles_from_json",
    "profiles_to_json",
]


class ClassStats:
    """Streaming per-class sums of excitations: class means, counts and the specificity eta^2."""

    def __init__(self, num_classes: int, channels: int, device: torch.device | str | None = None) -> None:
        self.num_classes = num_classes
        self.sums = torch.zeros(num_classes, channels, dtype=torch.float64, device=device)  # (K, C)
        self.counts = torch.zeros(num_classes, dtype=torch.float64, device=device)  # (K,)
        self.sq_sums = torch.zeros(channels, dtype=torch.float64, device=device)  # (C,) sum of s^2

    def update(self, s: torch.Tensor, labels: torch.Tensor) -> None:
        """Add a batch: excitations (N, C) and integer labels (N,)."""
        if s.dim() != 2 or labels.shape != s.shape[:1]:
            raise ValueError(
                f"expected excitations (N, C), labels (N,); got {tuple(s.shape)}, {tuple(labels.shape)}"
            )
        labels = labels.to(self.sums.device, torch.long)
        low, high = (int(labels.min()), int(labels.max())) if labels.numel() else (0, 0)
        if low < 0 or high >= self.num_classes:
            raise ValueError(f"labels must lie in [0, {self.num_classes}); got {low}..{high}")
        s = s.to(self.sums.device, torch.float64)
        self.sums.index_add_(0, labels, s)
        self.counts += torch.bincount(labels, minlength=self.num_classes).to(self.counts)
        self.sq_sums += (s * s).sum(0)

    @property
    def means(self) -> torch.Tensor:
        """Class-mean excitations (K, C); NaN rows for classes never seen."""
        return (self.sums / self.counts[:, None]).float()

    def specificity(self) -> float:
        """eta^2 = between-class / total sum of squares, over all channels (see :func:`class_specificity`)."""
        n = self.counts.sum()
        if n == 0:
            raise RuntimeError("no excitations recorded; update() with at least one batch first")
        grand = self.sums.sum(0) / n  # (C,)
        seen = self.counts > 0
        class_means = self.sums[seen] / self.counts[seen, None]  # (K_seen, C)
        between = (self.counts[seen, None] * (class_means - grand) ** 2).sum()
        total = (self.sq_sums - n * grand**2).sum()
        if total <= 1e-12 * max(float(self.sq_sums.sum()), 1.0):
            return 0.0  # no variance at all: nothing for the class to explain
        return float((between / total).clamp(0.0, 1.0))


def class_specificity(excitations: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Class specificity of one SE layer: eta^2 = SS_between / SS_total, summed over channels, in [0, 1].

    The share of excitation variance explained by the class: 0 when every class has the same mean
    profile, 1 when excitations are constant within each class (0 too if there is no variance at all).
    """
    stats = ClassStats(num_classes, excitations.shape[-1], excitations.device)
    stats.update(excitations, labels)
    return stats.specificity()


@dataclass
class ExcitationProfile:
    """One SE layer over a dataset: class-mean excitations (K, C), images per class (K,), eta^2."""

    means: torch.Tensor
    counts: torch.Tensor
    specificity: float


@torch.no_grad()
def class_mean_profiles(
    model: nn.Module,
    loader: Iterable,
    num_classes: int,
    device: torch.device | str | None = None,
    progress: bool = True,
    layers: Iterable[str] | None = None,
) -> dict[str, ExcitationProfile]:
    """Class-mean excitations per SE layer over ``loader`` of (images, labels) (paper Fig. 6), with eta^2.

    Runs in eval mode (restored after) on ``device`` (default: the model's device).
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    stats: dict[str, ClassStats] = {}
    try:
        with record_excitations(model, layers) as rec:
            for images, labels in tqdm(loader, desc="excitations", disable=not progress, leave=False):
                model(images.to(device))
                for name, batches in rec.batches.items():
                    s = torch.cat(batches)  # (N, C)
                    if name not in stats:
                        stats[name] = ClassStats(num_classes, s.shape[1], device)
                    stats[name].update(s, labels.to(device))
                rec.clear()
    finally:
        model.train(was_training)
    if not stats:
        raise ValueError("the loader yielded no batches; pass a loader of (images, labels)")
    return {
        name: ExcitationProfile(st.means.cpu(), st.counts.long().cpu(), st.specificity())
        for name, st in stats.items()
    }


def profiles_to_json(profiles: dict[str, ExcitationProfile], split: str) -> dict:
    """JSON form stored under the sidecar's ``class_profiles`` key."""
    layers = {
        name: {"means": p.means.tolist(), "counts": p.counts.tolist(), "specificity": p.specificity}
        for name, p in profiles.items()
    }
    return {"split": split, "layers": layers}


def profiles_from_json(record: dict) -> dict[str, ExcitationProfile]:
    """Inverse of :func:`profiles_to_json`."""
    return {
        name: ExcitationProfile(
            torch.tensor(layer["means"]), torch.tensor(layer["counts"]), layer["specificity"]
        )
        for name, layer in record["layers"].items()
    }


def profile_checkpoint(
    path: str,
    dataset: str | None = None,
    data_dir: str | None = None,
    split: str = "val",
    device: str = "auto",
    batch_size: int = 256,
    progress: bool = True,
) -> dict:
    """Compute the class profiles of the checkpoint at ``path`` over a split and write them into its sidecar."""
    run = checkpoint_on_split(path, split, dataset, data_dir, batch_size, device, progress)
    profiles = class_mean_profiles(
        run.model, run.loader, num_classes=len(run.meta["classes"]), device=run.device, progress=progress
    )
    record = profiles_to_json(profiles, split)
    update_meta(path, {"class_profiles": record})
    return record

"""Class profiles of excitations: per class, the mean excitation of every channel (paper Fig. 6), how much of
the excitations' variance the class explains (class specificity, eta^2), and how large that variance is at all
(the spread: eta^2 is a ratio, and a gate that barely moves can still have a high one).

    python -m senet_lib profile data/checkpoints/se_resnet20     # stores them in the sidecar

Per SE layer (paper names, e.g. SE_4_3): the (num_classes, C) class-mean excitations over the validation
split, the images per class, eta^2 and the spread, and their JSON form in a checkpoint's sidecar.
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
    "NEAR_CONSTANT_SPREAD",
    "ClassStats",
    "ExcitationProfile",
    "class_mean_profiles",
    "class_specificity",
    "excitation_spread",
    "profile_checkpoint",
    "profiles_from_json",
    "profiles_to_json",
]

#: A layer whose spread is below this scales every image alike to within 0.001 (gates lie in [0, 1] for the
#: sigmoid): in effect a fixed per-channel scale. Its eta^2 (and a probe on its gates) then describes variations too
#: small to change the features. In the shipped se_resnet56, 20 of 27 SE layers are such (spreads 0 to 2e-4, against
#: 3e-3 to 9e-2 for the other 7; their FC weights ended far smaller); in se_resnet20, 1 of 9 (SE_2_2, 9e-5).
NEAR_CONSTANT_SPREAD = 1e-3


class ClassStats:
    """Streaming per-class sums of excitations: class means, counts, the specificity eta^2 and the spread."""

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

    def _totals(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(N, grand mean per channel (C,), SS_total summed over channels)`` of what was recorded."""
        n = self.counts.sum()
        if n == 0:
            raise RuntimeError("no excitations recorded; update() with at least one batch first")
        grand = self.sums.sum(0) / n  # (C,)
        return n, grand, (self.sq_sums - n * grand**2).sum()

    def specificity(self) -> float:
        """eta^2 = between-class / total sum of squares, over all channels (see :func:`class_specificity`)."""
        n, grand, total = self._totals()
        seen = self.counts > 0
        class_means = self.sums[seen] / self.counts[seen, None]  # (K_seen, C)
        between = (self.counts[seen, None] * (class_means - grand) ** 2).sum()
        if total <= 1e-12 * max(float(self.sq_sums.sum()), 1.0):
            return 0.0  # no variance at all: nothing for the class to explain
        return float((between / total).clamp(0.0, 1.0))

    def spread(self) -> float:
        """How much the excitations vary from image to image: sqrt(SS_total / (N C)), the root mean square over
        images and channels of s minus its channel's mean (see :func:`excitation_spread`)."""
        n, _, total = self._totals()
        return float((total.clamp(min=0.0) / (n * self.sums.shape[1])).sqrt())


def class_specificity(excitations: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Class specificity of one SE layer: eta^2 = SS_between / SS_total, summed over channels, in [0, 1].

    The share of excitation variance explained by the class: 0 when every class has the same mean
    profile, 1 when excitations are constant within each class (0 too if there is no variance at all).
    """
    stats = ClassStats(num_classes, excitations.shape[-1], excitations.device)
    stats.update(excitations, labels)
    return stats.specificity()


def excitation_spread(excitations: torch.Tensor) -> float:
    """How much one SE layer's excitations (N, C) vary from image to image: the root mean square, over images and
    channels, of s minus its channel's mean over the images. 0 for gates that ignore the image; below
    :data:`NEAR_CONSTANT_SPREAD` the layer acts as a fixed per-channel scale, whatever its eta^2."""
    if excitations.dim() != 2 or excitations.shape[0] == 0:
        raise ValueError(f"expected excitations (N, C) with N >= 1; got {tuple(excitations.shape)}")
    s = excitations.detach().to(torch.float64)
    return float((s - s.mean(0)).pow(2).mean().sqrt())


@dataclass
class ExcitationProfile:
    """One SE layer over a dataset: class-mean excitations (K, C), images per class (K,), eta^2 and the spread
    (None in sidecars written before it was stored: profile the checkpoint again)."""

    means: torch.Tensor
    counts: torch.Tensor
    specificity: float
    spread: float | None = None

    @property
    def near_constant(self) -> bool | None:
        """True when the gates hardly depend on the image (spread < :data:`NEAR_CONSTANT_SPREAD`); None if unknown."""
        return None if self.spread is None else self.spread < NEAR_CONSTANT_SPREAD


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
        name: ExcitationProfile(st.means.cpu(), st.counts.long().cpu(), st.specificity(), st.spread())
        for name, st in stats.items()
    }


def profiles_to_json(profiles: dict[str, ExcitationProfile], split: str) -> dict:
    """JSON form stored under the sidecar's ``class_profiles`` key."""
    layers = {
        name: {
            "means": p.means.tolist(),
            "counts": p.counts.tolist(),
            "specificity": p.specificity,
            "spread": p.spread,
        }
        for name, p in profiles.items()
    }
    return {"split": split, "layers": layers}


def profiles_from_json(record: dict) -> dict[str, ExcitationProfile]:
    """Inverse of :func:`profiles_to_json`."""
    return {
        name: ExcitationProfile(
            torch.tensor(layer["means"]),
            torch.tensor(layer["counts"]),
            layer["specificity"],
            layer.get("spread"),
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

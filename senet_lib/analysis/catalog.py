"""Checkpoints in their sidecars' own words: which to show first, which plain network an SE network is compared
with, what data a checkpoint was trained and validated on, and which shipped sample images fit it.

Nothing here assumes CIFAR-10: a twin is found by what two sidecars say (same data, same recipe, the model
without its SE options), and every phrase about data is built from the sidecar's ``data`` and ``recipe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from senet_lib.complexity import plain_twin
from senet_lib.models.common import SE_OPTION_NAMES
from senet_lib.paths import samples_dir
from senet_lib.runtime import EXECUTION_FIELDS, MACHINE_FIELDS

__all__ = [
    "DEFAULT_MODELS",
    "SAMPLES_SPLIT",
    "DataInfo",
    "Sample",
    "data_info",
    "default_checkpoint",
    "find_twin",
    "is_se",
    "list_samples",
    "samples_fit",
    "samples_held_out",
]

#: The model shown first: the first of these that ships (the deeper pair once trained), else the first stem.
DEFAULT_MODELS = ("se_resnet56", "se_resnet20")
#: Recipe keys that may differ between twins: the model itself, and how or where the run went.
RUN_ONLY_KEYS = frozenset({"model", "model_options", *MACHINE_FIELDS, *EXECUTION_FIELDS})
#: Data keys that define the split: twins must agree on every one of them.
SPLIT_KEYS = ("dataset", "val_source", "seed", "image_size", "train_size", "val_size", "num_classes")
#: The split the shipped samples were held out of (data/samples/README.md): the first 3 images per class of
#: the 5,000-image validation hold-out of the CIFAR-10 JPEG training archive, seed 0.
SAMPLES_SPLIT = {"source": "cifar10-jpeg-train.tar.gz", "val_source": "holdout", "seed": 0, "val_size": 5000}


def is_se(meta: Mapping) -> bool:
    """Whether the sidecar's model spec carries SE options (reduction, gate, ...): an SE network."""
    spec = meta.get("model") or {}
    return any(key in spec for key in SE_OPTION_NAMES)


def _plain_spec(spec: Mapping) -> dict:
    """An SE model's spec without its SE options and with its plain name (``se_resnet20`` -> ``resnet20``)."""
    plain = {k: v for k, v in spec.items() if k not in SE_OPTION_NAMES}
    name = str(spec.get("name", ""))
    plain["name"] = plain_twin(name) if name.startswith("se_") else name
    return plain


def _same_experiment(a: Mapping, b: Mapping) -> bool:
    """Same classes, same split, same recipe apart from the model and how the run was executed."""
    recipe_a, recipe_b = a.get("recipe"), b.get("recipe")
    if not recipe_a or not recipe_b or a.get("classes") != b.get("classes"):
        return False  # without recipes nobody can tell the two were trained alike
    data_a, data_b = a.get("data") or {}, b.get("data") or {}
    if any(data_a.get(k) != data_b.get(k) for k in SPLIT_KEYS):
        return False
    keys = (set(recipe_a) | set(recipe_b)) - RUN_ONLY_KEYS
    return all(recipe_a.get(k) == recipe_b.get(k) for k in keys)


def find_twin(meta: Mapping, candidates: Mapping[str, Mapping]) -> str | None:
    """The candidate (name -> sidecar) that is ``meta``'s twin: the same experiment with the SE blocks taken
    out (or put in). Its spec equals the SE spec without SE options; data and recipe agree. None if none does."""
    for name in sorted(candidates):
        other = candidates[name]
        if other is meta or is_se(other) == is_se(meta):
            continue
        se, plain = (meta, other) if is_se(meta) else (other, meta)
        if _plain_spec(se.get("model") or {}) == dict(plain.get("model") or {}) and _same_experiment(
            se, plain
        ):
            return name
    return None


def default_checkpoint(names: list[str]) -> str | None:
    """The checkpoint shown first: the first of :data:`DEFAULT_MODELS` among ``names``, else ``names[0]``."""
    for name in DEFAULT_MODELS:
        if name in names:
            return name
    return names[0] if names else None


@dataclass(frozen=True)
class DataInfo:
    """What a sidecar says about a checkpoint's data; None where it says nothing."""

    dataset: str | None  # e.g. "cifar10-jpeg-train.tar.gz"
    train_size: int | None
    val_size: int | None
    val_source: str | None  # "holdout": taken out of the training files; "test": the dataset's test split
    image_size: int | None

    def validation_phrase(self) -> str:
        """E.g. "the 5,000 validation images held out of cifar10-jpeg-train.tar.gz"."""
        count = f"{self.val_size:,} " if self.val_size else ""
        if self.dataset and self.val_source == "holdout":
            where = f" held out of {self.dataset}"
        elif self.dataset and self.val_source == "test":
            where = f" of {self.dataset} (its test split)"
        elif self.dataset:
            where = f" of {self.dataset}"
        else:
            where = ""
        return f"the {count}validation images{where}"


def data_info(meta: Mapping) -> DataInfo:
    """The data a checkpoint was trained and validated on, from its sidecar's ``data`` (then ``recipe``): named by
    the file it was read from where there is one (a dataset named ``cifar10-jpeg`` is read from an archive)."""
    data, recipe = meta.get("data") or {}, meta.get("recipe") or {}
    source = data.get("source")  # the archive or folder read ("cifar10-jpeg-train.tar.gz"), or "torchvision"
    dataset = (
        (source if source and source != "torchvision" else None)
        or data.get("dataset")
        or (Path(str(recipe["dataset"])).name if recipe.get("dataset") else None)
    )

    def number(key: str) -> int | None:
        value = data.get(key, recipe.get(key))
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    return DataInfo(
        dataset, number("train_size"), number("val_size"), data.get("val_source"), number("image_size")
    )


@dataclass(frozen=True)
class Sample:
    """A shipped sample image: file name, path and true class (from the name ``<class>_<n>.jpg``)."""

    name: str
    path: Path
    true_class: str


def list_samples(folder: Path | None = None) -> list[Sample]:
    """The sample images in ``folder`` (default data/samples), sorted by name."""
    folder = folder or samples_dir()
    return [Sample(p.name, p, p.stem.rsplit("_", 1)[0]) for p in sorted(folder.glob("*.jpg"))]


def samples_fit(classes: list[str], samples: list[Sample]) -> bool:
    """Whether the samples were made for a model with these classes: the same set of class names."""
    return bool(samples) and {s.true_class for s in samples} == set(classes)


def samples_held_out(meta: Mapping) -> bool:
    """Whether the samples lie in this checkpoint's validation hold-out (never trained on): its sidecar names
    the same archive, seed and validation size as :data:`SAMPLES_SPLIT`."""
    data = meta.get("data") or {}
    return all(data.get(key) == value for key, value in SAMPLES_SPLIT.items())

"""Where things live: the data folder (downloads, caches), the shipped files, and named datasets.

One rule for every command, notebook and test: the data folder is ``$SENET_DATA`` when set, else the
repository's ``data/``. A dataset given by name (``cifar10-jpeg``) is looked up in the data folder, then in
``../shared/datasets`` beside the repository (where this project's machines keep the CIFAR-10 JPEG copy).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_ENV",
    "NAMED_DATASETS",
    "REPO_ROOT",
    "checkpoints_dir",
    "data_dir",
    "dataset_search_path",
    "find_named_dataset",
    "samples_dir",
]

#: The environment variable that moves the data folder (downloads, extracted archives, decode caches).
DATA_ENV = "SENET_DATA"
#: The repository (or install) root: the folder that holds ``senet_lib/``.
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Datasets known by a short name -> their file name, found through :func:`dataset_search_path`.
NAMED_DATASETS = {"cifar10-jpeg": "cifar10-jpeg-train.tar.gz"}


def data_dir() -> Path:
    """The data folder: ``$SENET_DATA`` or ``<repo>/data``. Downloads land here, caches under ``cache/``."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else REPO_ROOT / "data"


def checkpoints_dir() -> Path:
    """The shipped trained models (safetensors + JSON sidecars + curves): ``<repo>/data/checkpoints``."""
    return REPO_ROOT / "data" / "checkpoints"


def samples_dir() -> Path:
    """The shipped sample images (held-out CIFAR-10 validation images): ``<repo>/data/samples``."""
    return REPO_ROOT / "data" / "samples"


def dataset_search_path() -> list[Path]:
    """Folders searched for a named dataset, in order: the data folder, its ``datasets/``, ``../shared/datasets``."""
    data = data_dir()
    return [data, data / "datasets", REPO_ROOT.parent / "shared" / "datasets"]


def find_named_dataset(name: str) -> Path | None:
    """The file of a dataset known by name (:data:`NAMED_DATASETS`), or None when it is nowhere on the search path.

    A name that is not a known dataset raises ValueError listing the known ones.
    """
    if name not in NAMED_DATASETS:
        raise ValueError(f"unknown dataset name {name!r}; known names: {sorted(NAMED_DATASETS)}")
    for folder in dataset_search_path():
        candidate = folder / NAMED_DATASETS[name]
        if candidate.is_file():
            return candidate
    return None

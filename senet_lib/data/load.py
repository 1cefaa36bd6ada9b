"""The two calls the training code makes: :func:`load_splits` (tensors) and :func:`make_loaders` (batches)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from senet_lib.data.cifar import CIFAR_DATASETS, load_cifar_split
from senet_lib.data.folder import extract_archive, find_split_dirs, is_archive, load_folder
from senet_lib.data.loaders import DeviceLoader, TextbookLoader
from senet_lib.data.splits import DatasetNotFoundError, Splits, balanced_split, channel_stats
from senet_lib.data.synthetic import make_synthetic
from senet_lib.paths import NAMED_DATASETS, dataset_search_path, find_named_dataset
from senet_lib.paths import data_dir as default_data_dir

__all__ = ["LOADER_KINDS", "Loaders", "VAL_SOURCES", "load_splits", "make_loaders", "resolve_dataset"]

VAL_SOURCES = ("test", "holdout")
LOADER_KINDS = ("auto", "device", "dataloader")


def _load_cifar(
    name: str, data_dir: Path, val_size: int, seed: int, val_source: str, download: bool
) -> Splits:
    """CIFAR: official train/test; the validation split is the test set or a balanced hold-out of train."""
    _, title, mean, std = CIFAR_DATASETS[name]
    train, classes = load_cifar_split(name, data_dir, train=True, download=download)
    test, _ = load_cifar_split(name, data_dir, train=False, download=download)
    if val_source == "test":
        val = test
    else:
        train_idx, val_idx = balanced_split(train.targets, val_size, seed, classes)
        train, val = train.subset(train_idx), train.subset(val_idx)
    return Splits(
        train,
        val,
        classes,
        mean,
        std,
        test=test,
        description={"dataset": name, "title": title, "source": "torchvision", "val_source": val_source},
    )


def _load_image_folder(
    dataset: str, data_dir: Path, cache_dir: Path, val_size: int, seed: int, image_size: int, progress: bool
) -> Splits:
    """An ImageFolder directory or archive: its own val/ (or test/) split if present, else a balanced hold-out."""
    path = Path(dataset).expanduser().resolve()
    source_key = str(path)
    if path.is_file() and is_archive(path):
        stat = path.stat()
        source_key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
        path = extract_archive(path, cache_dir)
    elif not path.is_dir():
        raise DatasetNotFoundError(
            f"dataset {dataset!r} is not 'cifar10', 'cifar100', 'synthetic', an ImageFolder directory or a "
            f".tar.gz of one (nothing at {path}); check the path"
        )
    dirs = find_split_dirs(path)
    load = {
        name: load_folder(folder, cache_dir, image_size, progress, f"{source_key}|{name}")
        for name, folder in dirs.items()
    }
    train, classes = load["train"]
    for name in ("val", "test"):
        if name in load and load[name][1] != classes:
            raise ValueError(
                f"the class folders of {dirs[name]} ({load[name][1][:5]}...) differ from those of "
                f"{dirs['train']} ({classes[:5]}...); both splits need the same class folders"
            )
    test = load["test"][0] if "test" in load else None
    if "val" in load or test is not None:
        val, val_source = (load["val"][0], "folder:val") if "val" in load else (test, "folder:test")
    else:
        train_idx, val_idx = balanced_split(train.targets, val_size, seed, classes)
        train, val, val_source = train.subset(train_idx), train.subset(val_idx), "holdout"
    mean, std = channel_stats(train.images)
    return Splits(
        train,
        val,
        classes,
        mean,
        std,
        test=test,
        description={"dataset": Path(dataset).name, "source": Path(dataset).name, "val_source": val_source},
    )


def resolve_dataset(dataset: str) -> Path:
    """The file or folder of an ImageFolder dataset: a path as given, or a known name (``cifar10-jpeg``) found
    through :func:`senet_lib.paths.dataset_search_path`."""
    if dataset.lower() in NAMED_DATASETS:
        found = find_named_dataset(dataset.lower())
        if found is None:
            where = ", ".join(str(p) for p in dataset_search_path())
            raise DatasetNotFoundError(
                f"dataset {dataset!r} ({NAMED_DATASETS[dataset.lower()]}) is not in {where}; put the file in one of "
                "them, or point $SENET_DATA at the folder that holds it"
            )
        return found
    return Path(dataset).expanduser()


def load_splits(
    dataset: str,
    data_dir: str | Path | None = None,
    *,
    val_size: int = 5000,
    seed: int = 0,
    val_source: str = "test",
    image_size: int = 32,
    download: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> Splits:
    """Train/val tensors, classes and mean/std of ``"cifar10"``, ``"cifar100"``, ``"synthetic"``, an ImageFolder or its .tar.gz.

    CIFAR's val is its test set (``val_source="test"``) or a seeded balanced hold-out of ``val_size`` train images
    (``"holdout"``); folders without val/ or test/ always hold out. Caches go to ``cache_dir`` (default ``<data_dir>/cache``).
    """
    if val_source not in VAL_SOURCES:
        raise ValueError(f"val_source must be one of {VAL_SOURCES}; got {val_source!r}")
    data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else data_dir / "cache"
    key = str(dataset).lower()
    if key == "synthetic":
        splits = make_synthetic(image_size=image_size, seed=seed)
    elif key in CIFAR_DATASETS:
        if image_size != 32:
            raise ValueError(
                f"CIFAR images are 32x32; image_size={image_size} applies to ImageFolder data only"
            )
        splits = _load_cifar(key, data_dir, val_size, seed, val_source, download)
    else:
        path = resolve_dataset(str(dataset))
        splits = _load_image_folder(str(path), data_dir, cache_dir, val_size, seed, image_size, progress)
        if key in NAMED_DATASETS:
            splits.description["dataset"] = key
    splits.description.update(
        {
            "seed": seed,
            "image_size": image_size,
            "train_size": len(splits.train),
            "val_size": len(splits.val),
            "num_classes": len(splits.classes),
        }
    )
    return splits


@dataclass
class Loaders:
    """What the training loop needs: train/val loaders, class names, mean/std, a JSON-able data description."""

    train: DeviceLoader | TextbookLoader
    val: DeviceLoader | TextbookLoader
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    description: dict[str, Any]
    splits: Splits


def make_loaders(cfg: Any, device: str | torch.device) -> Loaders:
    """Build the train/val loaders from a config (``senet_lib.training.config.TrainConfig`` fields, read by name).

    Uses ``dataset, data_dir, download, val_size, train_subset, batch_size, seed, loader, num_workers, progress``
    (and ``val_source`` when the config has it). ``loader="auto"`` is the device loader.
    """
    kind = getattr(cfg, "loader", "auto")
    if kind not in LOADER_KINDS:
        raise ValueError(f"loader must be one of {LOADER_KINDS}; got {kind!r}")
    kind = "device" if kind == "auto" else kind
    splits = load_splits(
        cfg.dataset,
        cfg.data_dir,
        val_size=cfg.val_size,
        seed=cfg.seed,
        val_source=getattr(cfg, "val_source", "test"),
        download=cfg.download,
        progress=getattr(cfg, "progress", True),
    )
    train = splits.train
    subset = getattr(cfg, "train_subset", 0)
    if subset and subset < len(train):  # a class-balanced seeded subset, so quick runs still see every class
        picked = balanced_split(train.targets, subset, cfg.seed, splits.classes, size_name="train_subset")[1]
        train = train.subset(picked)
    device = torch.device(device)
    common = {"mean": splits.mean, "std": splits.std}
    if kind == "device":
        train_loader = DeviceLoader(train, cfg.batch_size, device, train=True, seed=cfg.seed, **common)
        val_loader = DeviceLoader(splits.val, cfg.batch_size, device, train=False, **common)
    else:
        workers = getattr(cfg, "num_workers", 0)
        train_loader = TextbookLoader(
            train,
            cfg.batch_size,
            train=True,
            seed=cfg.seed,
            num_workers=workers,
            pin_memory=device.type == "cuda",
            **common,
        )
        val_loader = TextbookLoader(splits.val, cfg.batch_size, train=False, num_workers=workers, **common)
    description = {**splits.description, "train_size": len(train), "loader": kind}
    return Loaders(
        train_loader,
        val_loader,
        list(splits.classes),
        tuple(splits.mean),
        tuple(splits.std),
        description,
        splits,
    )

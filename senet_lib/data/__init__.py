"""Data for SENet Lab: CIFAR-10/100, ImageFolder trees (or their .tar.gz), a synthetic toy set; two loaders.

    splits = load_splits("cifar10", "data", download=True)           # uint8 tensors + classes + mean/std
    train = DeviceLoader(splits.train, 128, "cuda", mean=splits.mean, std=splits.std,
                         generator=torch.Generator("cuda").manual_seed(0))
    for x, y in train: ...                                           # (128, 3, 32, 32) float, (128,) int64

Modules: ``splits`` (tensor splits, balanced split), ``cifar``, ``folder`` (ImageFolder, archives, decode cache),
``synthetic``, ``augment`` (crop/flip/normalise), ``loaders`` (textbook DataLoader path, DeviceLoader), ``load``,
``recipe`` (the splits a checkpoint was trained on). Where data lives: :mod:`senet_lib.paths` (``$SENET_DATA``).

May import the core (``paths``, ``files``); never ``training``, ``analysis``, ``course`` or ``cli``.
"""

from senet_lib.data.augment import FLIP_P, PADDING, crop_flip, normalize, textbook_transform
from senet_lib.data.cifar import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_CLASSES,
    CIFAR100_MEAN,
    CIFAR100_STD,
    load_cifar_split,
)
from senet_lib.data.folder import decode_images, extract_archive, find_split_dirs, load_folder
from senet_lib.data.load import LOADER_KINDS, Loaders, load_splits, make_loaders
from senet_lib.data.loaders import AugmentedDataset, DeviceLoader, TextbookLoader
from senet_lib.data.recipe import (
    CheckpointOnSplit,
    checkpoint_on_split,
    checkpoint_split_loader,
    checkpoint_splits,
)
from senet_lib.data.splits import DatasetNotFoundError, Splits, TensorSplit, balanced_split, channel_stats
from senet_lib.data.synthetic import make_synthetic

__all__ = [
    "CIFAR100_CLASSES",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "LOADER_KINDS",
    "FLIP_P",
    "PADDING",
    "AugmentedDataset",
    "DatasetNotFoundError",
    "DeviceLoader",
    "Loaders",
    "Splits",
    "TensorSplit",
    "TextbookLoader",
    "balanced_split",
    "CheckpointOnSplit",
    "checkpoint_on_split",
    "checkpoint_split_loader",
    "checkpoint_splits",
    "channel_stats",
    "crop_flip",
    "decode_images",
    "extract_archive",
    "find_split_dirs",
    "load_cifar_split",
    "load_folder",
    "load_splits",
    "make_loaders",
    "make_synthetic",
    "normalize",
    "textbook_transform",
]

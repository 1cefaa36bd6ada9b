"""CIFAR-10 and CIFAR-100 (Krizhevsky, 2009) through ``torchvision.datasets``, as uint8 tensors."""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision

from senet_lib.data.splits import DatasetNotFoundError, TensorSplit

__all__ = [
    "CIFAR100_CLASSES",
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR_DATASETS",
    "load_cifar_split",
]

#: Per-channel mean and std of the 50,000 CIFAR training images, on the [0, 1] scale.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)

#: Class names in label order (0..9), as in the dataset's ``batches.meta``.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

#: The 100 fine class names in label order, as in the dataset's ``meta``.
CIFAR100_CLASSES = tuple(
    """
apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle
caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant
flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree
motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate
poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider
squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle
wardrobe whale willow_tree wolf woman worm
""".split()
)

#: name -> (torchvision class, display name, mean, std)
CIFAR_DATASETS = {
    "cifar10": (torchvision.datasets.CIFAR10, "CIFAR-10", CIFAR10_MEAN, CIFAR10_STD),
    "cifar100": (torchvision.datasets.CIFAR100, "CIFAR-100", CIFAR100_MEAN, CIFAR100_STD),
}


def _not_found_message(title: str, dataset_cls, root: Path, err: Exception, download: bool) -> str:
    """Where the files must go and how to get them, for the failure ``err``."""
    folder = root / dataset_cls.base_folder
    files = [name for name, _ in dataset_cls.train_list + dataset_cls.test_list] + [
        dataset_cls.meta["filename"]
    ]
    how = (
        f"Get them: pass download=True (--download) when online, or fetch {dataset_cls.url} and extract it "
        f"into {root}/ so that {folder}/ holds {', '.join(files)}."
    )
    if download and not isinstance(err, RuntimeError):
        return f"downloading {title} from {dataset_cls.url} failed ({err}); are you offline? {how}"
    if folder.is_dir():
        return (
            f"{title} files in {folder}/ are incomplete or corrupted (torchvision: {err}). "
            f"Delete that folder and get them again. {how}"
        )
    return f"{title} not found: expected the folder {folder}/. {how}"


def load_cifar_split(
    name: str, data_dir: str | Path, train: bool, download: bool = False
) -> tuple[TensorSplit, list[str]]:
    """The official train (``train=True``) or test split of ``"cifar10"``/``"cifar100"`` and its class names.

    Files live in ``<data_dir>/cifar-10-batches-py/`` (or ``cifar-100-python/``); CIFAR-100 uses the fine labels.
    """
    if name not in CIFAR_DATASETS:
        raise ValueError(f"unknown CIFAR dataset {name!r}; choose one of {tuple(CIFAR_DATASETS)}")
    dataset_cls, title, _, _ = CIFAR_DATASETS[name]
    root = Path(data_dir).expanduser().resolve()
    try:
        dataset = dataset_cls(str(root), train=train, download=download)
    except (RuntimeError, OSError) as err:  # torchvision: RuntimeError when missing/corrupt; URLError offline
        raise DatasetNotFoundError(_not_found_message(title, dataset_cls, root, err, download)) from err
    images = (
        torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    )  # (N, 32, 32, 3) -> (N, 3, 32, 32)
    targets = torch.as_tensor(dataset.targets, dtype=torch.int64)  # (N,)
    return TensorSplit(images, targets), list(dataset.classes)

"""Regenerate data/samples/: the first 3 validation images of each CIFAR-10 class, copied byte for byte.

    python data/samples/make_samples.py [--archive ../shared/datasets/cifar10-jpeg-train.tar.gz] [--per-class 3]

The shipped checkpoints hold out 5,000 seeded, class-balanced training images as their validation split
(``senet_lib.data.load_splits(..., val_size=5000, seed=0)``); the samples are taken from that hold-out, so
the dashboard shows images the models never trained on. Files keep their original JPEG bytes (no re-encoding)
and are named ``<class>_<n>.jpg`` (n = 1, 2, 3).
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

import torch

from senet_lib.data.splits import balanced_split

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARCHIVE = ROOT.parent / "shared" / "datasets" / "cifar10-jpeg-train.tar.gz"
VAL_SIZE, SEED = 5000, 0  # the shipped checkpoints' recipe (see their sidecars: recipe.val_size, recipe.seed)


def holdout_members(archive: Path, val_size: int = VAL_SIZE, seed: int = SEED) -> dict[str, list[str]]:
    """Class -> member names of the validation hold-out, in ImageFolder order (classes and files sorted)."""
    with tarfile.open(archive) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile() and m.name.lower().endswith(".jpg"))
    # train/<class>/<file>: ImageFolder order is by class, then by file name (what load_splits decodes)
    by_class: dict[str, list[str]] = {}
    for name in names:
        by_class.setdefault(Path(name).parent.name, []).append(name)
    classes = sorted(by_class)
    ordered = [name for c in classes for name in sorted(by_class[c])]
    targets = torch.tensor([classes.index(Path(n).parent.name) for n in ordered])
    _, val_idx = balanced_split(targets, val_size, seed, classes)
    held: dict[str, list[str]] = {c: [] for c in classes}
    for i in val_idx.tolist():
        held[Path(ordered[i]).parent.name].append(ordered[i])
    return held


def read_members(archive: Path, names: set[str]) -> dict[str, bytes]:
    """The bytes of the named archive members, in one streaming pass (random access into a .gz re-reads it)."""
    found = {}
    with tarfile.open(archive, "r|*") as tar:
        for member in tar:
            if member.name in names:
                found[member.name] = tar.extractfile(member).read()
    return found


def chosen_samples(archive: Path, per_class: int = 3) -> dict[str, str]:
    """Sample file name (``<class>_<n>.jpg``) -> archive member: the first ``per_class`` hold-out images per class."""
    return {f"{cls}_{n}.jpg": member for cls, members in holdout_members(archive).items()
            for n, member in enumerate(members[:per_class], start=1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--per-class", type=int, default=3)
    args = parser.parse_args(argv)
    chosen = chosen_samples(args.archive, args.per_class)
    data = read_members(args.archive, set(chosen.values()))
    for file_name, member in chosen.items():
        (HERE / file_name).write_bytes(data[member])
        print(f"{file_name}  <-  {member}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

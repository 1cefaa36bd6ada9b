"""data/samples: 3 real CIFAR-10 images per class, byte-identical to the archive, all from the validation hold-out."""

import importlib.util
import re

import pytest
from PIL import Image

from senet_lib.paths import REPO_ROOT, find_named_dataset, samples_dir

ROOT = REPO_ROOT
SAMPLES = samples_dir()
ARCHIVE = find_named_dataset("cifar10-jpeg")
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def test_three_small_images_per_class():
    files = sorted(SAMPLES.glob("*.jpg"))
    assert [p.name for p in files] == [f"{c}_{n}.jpg" for c in CLASSES for n in (1, 2, 3)]
    for path in files:
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (32, 32) and img.mode == "RGB"
        assert path.stat().st_size < 4096
    readme = (SAMPLES / "README.md").read_text()
    assert (
        "hold-out" in readme and "make_samples.py" in readme and re.search(r"never trained on them", readme)
    )


@pytest.mark.skipif(
    ARCHIVE is None, reason="the CIFAR-10 JPEG archive is not on senet_lib.paths.dataset_search_path()"
)
def test_samples_are_held_out_archive_members():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    make_samples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_samples)
    held = make_samples.holdout_members(ARCHIVE)  # class -> the 500 validation members of that class
    assert sorted(held) == CLASSES and {len(v) for v in held.values()} == {500}
    chosen = make_samples.chosen_samples(ARCHIVE)
    originals = make_samples.read_members(ARCHIVE, set(chosen.values()))
    for file_name, member in chosen.items():
        assert member in held[file_name.rsplit("_", 1)[0]]
        assert (SAMPLES / file_name).read_bytes() == originals[member], f"{file_name} differs from {member}"


@pytest.mark.slow
@pytest.mark.skipif(
    ARCHIVE is None, reason="the CIFAR-10 JPEG archive is not on senet_lib.paths.dataset_search_path()"
)
def test_samples_are_in_the_shipped_checkpoints_validation_split_not_in_training():
    import numpy as np
    import torch

    from senet_lib.data import load_splits

    splits = load_splits(
        str(ARCHIVE), ROOT / "data", val_size=5000, seed=0, progress=False
    )  # the recipe's split
    for path in sorted(SAMPLES.glob("*.jpg")):
        pixels = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)  # (3, 32, 32)
        in_val = (splits.val.images == pixels).flatten(1).all(1)
        assert in_val.any(), f"{path.name} is not a validation image"
        assert splits.classes[int(splits.val.targets[in_val.nonzero()[0]])] == path.stem.rsplit("_", 1)[0]
        assert not (splits.train.images == pixels).flatten(1).all(1).any(), f"{path.name} is a training image"

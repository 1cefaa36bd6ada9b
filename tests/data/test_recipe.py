"""checkpoint_splits: evaluation and profiles run on exactly the split a checkpoint's recipe held out."""

from __future__ import annotations

import pytest
import torch

from senet_lib.data import checkpoint_splits, load_splits
from senet_lib.data.cifar import CIFAR10_CLASSES
from tests.data.test_data import skip_md5, write_cifar10  # noqa: F401  (skip_md5 is a fixture)


def _as_set(images: torch.Tensor) -> set[bytes]:
    return {image.numpy().tobytes() for image in images}


def test_a_holdout_recipe_is_evaluated_on_its_holdout_not_on_the_test_split(tmp_path, skip_md5):  # noqa: F811
    """A model validated on a hold-out of CIFAR's training split: its "val" is that hold-out (never the official
    test split), and its "train" split leaves the hold-out out."""
    write_cifar10(tmp_path)
    recipe = {"dataset": "cifar10", "val_source": "holdout", "val_size": 20, "seed": 3}
    splits = checkpoint_splits(
        {"recipe": recipe, "classes": list(CIFAR10_CLASSES)}, data_dir=tmp_path, progress=False
    )
    trained_on = load_splits("cifar10", tmp_path, val_source="holdout", val_size=20, seed=3, progress=False)
    assert torch.equal(splits.val.images, trained_on.val.images) and len(splits.train) == 80
    assert not _as_set(splits.val.images) & _as_set(splits.test.images)  # not the test split
    assert not _as_set(splits.val.images) & _as_set(splits.train.images)  # held out of train
    default = checkpoint_splits({"recipe": {"dataset": "cifar10"}}, data_dir=tmp_path, progress=False)
    assert torch.equal(
        default.val.images, default.test.images
    )  # recipes from before val_source: the test split


def test_load_options_still_win_over_the_recipe(tmp_path, skip_md5):  # noqa: F811
    write_cifar10(tmp_path)
    recipe = {"dataset": "cifar10", "val_source": "holdout", "val_size": 20}
    splits = checkpoint_splits({"recipe": recipe}, data_dir=tmp_path, progress=False, val_source="test")
    assert torch.equal(splits.val.images, splits.test.images)
    with pytest.raises(ValueError, match="val_source must be one of"):
        checkpoint_splits({"recipe": {**recipe, "val_source": "train"}}, data_dir=tmp_path, progress=False)

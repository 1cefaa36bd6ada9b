"""`senet evaluate` / `profile` on the data a checkpoint's recipe names, and clear errors when that data is
missing, too small or another dataset's; a checkpoint that is not there says so."""

from __future__ import annotations

import pytest

from senet_lib.cli import main as senet
from tests.data.test_data import write_image_folder


@pytest.fixture(scope="module")
def folder_checkpoint(tmp_path_factory):
    """A resnet20 trained one epoch on a 3-class ImageFolder given by a relative path (as users type it)."""
    root = tmp_path_factory.mktemp("trained")
    write_image_folder(root / "images", per_class=10)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("SENET_DATA", str(root / "data"))
        args = ["train", "--model", "resnet20", "--dataset", "images", "--val-size", "6", "--epochs", "1"]
        args += [
            "--batch-size",
            "8",
            "--schedule",
            "cosine",
            "--device",
            "cpu",
            "--no-progress",
            "--run-dir",
            "run",
        ]
        assert senet(args) == 0
    return root


def test_evaluate_from_another_folder_suggests_dataset_and_writes_nothing_there(
    folder_checkpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENET_DATA", str(folder_checkpoint / "data"))
    assert (
        senet(["evaluate", str(folder_checkpoint / "run" / "best"), "--device", "cpu", "--no-progress"]) == 2
    )
    err = capsys.readouterr().err
    assert "recipe names dataset 'images' as seen from where it was trained; pass --dataset" in err
    assert list(tmp_path.iterdir()) == []  # no ./data/cache in the folder it ran from
    data = str(folder_checkpoint / "images")
    assert (
        senet(["evaluate", str(folder_checkpoint / "run" / "best"), "--dataset", data, "--device", "cpu"])
        == 0
    )


def test_evaluate_on_a_dataset_too_small_for_the_recipes_hold_out(
    folder_checkpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SENET_DATA", str(tmp_path / "data"))
    small = write_image_folder(tmp_path / "small", per_class=2)
    assert senet(["evaluate", str(folder_checkpoint / "run" / "best"), "--dataset", str(small)]) == 2
    err = capsys.readouterr().err
    assert "cannot be split the way the checkpoint's recipe split its data (a hold-out of 6 images" in err
    assert "Pass a dataset with its own val/ or test/ folder" in err
    assert "--val-size" not in err and "lower val_size" not in err


def test_evaluate_on_other_classes_names_the_first_difference(
    folder_checkpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SENET_DATA", str(tmp_path / "data"))
    other = write_image_folder(tmp_path / "other", classes=("ant", "bee", "cow"), per_class=4)
    assert senet(["evaluate", str(folder_checkpoint / "run" / "best"), "--dataset", str(other)]) == 2
    err = capsys.readouterr().err
    assert (
        "the dataset's classes differ from the checkpoint's: class 2 is 'cow' here, 'cat' in the checkpoint"
        in err
    )


def test_a_missing_checkpoint_says_so(tmp_path, capsys):
    assert senet(["evaluate", str(tmp_path / "runs" / "x" / "best")]) == 2
    err = capsys.readouterr().err
    assert f"error: no checkpoint at {tmp_path}/runs/x/best: neither best.safetensors nor best.json" in err
    assert "by hand" not in err

"""senet_lib.data: CIFAR through torchvision, ImageFolder + archives + decode cache, splits, both loaders."""

from __future__ import annotations

import os
import pickle
import tarfile
from pathlib import Path
from types import SimpleNamespace
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets.cifar
from PIL import Image
from torch import nn
from torchvision.transforms.v2 import functional as TF

import senet_lib.data.folder as folder_module
from senet_lib.data import (
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    DatasetNotFoundError,
    DeviceLoader,
    TensorSplit,
    TextbookLoader,
    balanced_split,
    crop_flip,
    load_splits,
    make_loaders,
    make_synthetic,
    normalize,
)

# ---------------------------------------------------------------- CIFAR files in the official python format


def _pixel_rows(count: int, first: int) -> np.ndarray:
    """(count, 3072) uint8 rows (R plane, G plane, B plane; row-major) with value (c*50 + h + w + i) % 256."""
    i = np.arange(first, first + count).reshape(-1, 1, 1, 1)
    c, h, w = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    return ((c * 50 + h + w + i) % 256).astype(np.uint8).reshape(count, 3072)


def _dump(path: Path, obj: dict) -> None:
    # The official files are Python 2 pickles; torchvision reads them with encoding="latin1", which gives str
    # keys ("data", "labels"). Pickling str keys from Python 3 yields the same dicts after loading.
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)


def write_cifar10(root: Path, per_batch: int = 20) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for b in range(5):
        first = b * per_batch
        _dump(
            folder / f"data_batch_{b + 1}",
            {"data": _pixel_rows(per_batch, first), "labels": [(first + k) % 10 for k in range(per_batch)]},
        )
    _dump(
        folder / "test_batch",
        {"data": _pixel_rows(per_batch, 1000), "labels": [k % 10 for k in range(per_batch)]},
    )
    _dump(folder / "batches.meta", {"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": per_batch})
    return folder


def write_cifar100(root: Path, n_train: int = 300, n_test: int = 100) -> Path:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, n, first in (("train", n_train, 0), ("test", n_test, 5000)):
        fine = [(first + k) % 100 for k in range(n)]
        _dump(
            folder / name,
            {"data": _pixel_rows(n, first), "fine_labels": fine, "coarse_labels": [f // 5 for f in fine]},
        )
    _dump(
        folder / "meta",
        {"fine_label_names": list(CIFAR100_CLASSES), "coarse_label_names": [f"super_{k}" for k in range(20)]},
    )
    return folder


@pytest.fixture
def skip_md5(monkeypatch):
    """Tiny test files cannot match torchvision's md5s of the real CIFAR files: accept any file that exists."""
    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda fpath, md5=None: os.path.isfile(fpath)
    )


def test_cifar10_through_torchvision(tmp_path, skip_md5):
    write_cifar10(tmp_path)
    splits = load_splits("cifar10", tmp_path, progress=False)
    assert splits.train.images.shape == (100, 3, 32, 32) and splits.train.images.dtype == torch.uint8
    assert splits.val.images.shape == (20, 3, 32, 32) and splits.test is splits.val
    assert splits.train.targets.tolist() == [k % 10 for k in range(100)]
    assert splits.classes == list(CIFAR10_CLASSES)
    expected = torch.from_numpy(_pixel_rows(100, 0)).view(100, 3, 32, 32)  # channel planes -> (N, 3, H, W)
    assert torch.equal(splits.train.images, expected)
    assert splits.description["val_source"] == "test"


def test_cifar10_holdout_validation(tmp_path, skip_md5):
    write_cifar10(tmp_path)
    splits = load_splits("cifar10", tmp_path, val_source="holdout", val_size=20, seed=3, progress=False)
    assert len(splits.train) == 80 and len(splits.val) == 20 and len(splits.test) == 20
    assert splits.val.class_counts(10).tolist() == [2] * 10


def test_cifar100_fine_labels(tmp_path, skip_md5):
    write_cifar100(tmp_path)
    splits = load_splits("cifar100", tmp_path, progress=False)
    assert len(CIFAR100_CLASSES) == 100
    assert splits.classes == list(CIFAR100_CLASSES)
    assert splits.train.images.shape == (300, 3, 32, 32) and splits.val.images.shape == (100, 3, 32, 32)
    assert splits.train.targets[:3].tolist() == [0, 1, 2] and int(splits.train.targets.max()) == 99


@pytest.mark.parametrize(
    "name, folder", [("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python")]
)
def test_missing_cifar_names_folder_and_url(tmp_path, name, folder):
    with pytest.raises(DatasetNotFoundError) as info:
        load_splits(name, tmp_path, progress=False)
    message = str(info.value)
    assert str(tmp_path / folder) in message and "https://www.cs.toronto.edu/~kriz/" in message
    assert "download" in message


def test_offline_download_is_a_clear_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("no network")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", offline)
    with pytest.raises(DatasetNotFoundError, match="offline"):
        load_splits("cifar10", tmp_path, download=True, progress=False)


def test_corrupt_cifar_says_so(tmp_path):
    write_cifar10(tmp_path)  # md5s do not match the official files: torchvision calls them corrupted
    with pytest.raises(DatasetNotFoundError, match="corrupted"):
        load_splits("cifar10", tmp_path, progress=False)


# ---------------------------------------------------------------- ImageFolder, archives, decode cache


def write_image_folder(
    root: Path, splits=("train",), classes=("ant", "bee", "cat"), per_class=8, size=(32, 32)
) -> Path:
    rng = np.random.default_rng(0)
    for split in splits:
        for c, name in enumerate(classes):
            (root / split / name).mkdir(parents=True)
            for k in range(per_class):
                pixels = rng.integers(0, 40, (size[1], size[0], 3), dtype=np.uint8) + np.uint8(60 * c)
                suffix = ".png" if k % 2 else ".jpg"
                Image.fromarray(pixels).save(root / split / name / f"{k:03d}{suffix}")
    return root


def test_balanced_split_counts_disjoint_deterministic():
    targets = torch.arange(4).repeat_interleave(25)  # 4 classes x 25
    train, val = balanced_split(targets, 12, seed=0)
    assert torch.bincount(targets[val], minlength=4).tolist() == [3, 3, 3, 3]
    assert len(set(train.tolist()) & set(val.tolist())) == 0 and len(train) + len(val) == 100
    assert torch.equal(val, balanced_split(targets, 12, seed=0)[1])
    assert not torch.equal(val, balanced_split(targets, 12, seed=1)[1])
    _, val = balanced_split(targets, 14, seed=0)  # remainder: the first classes give one more
    assert torch.bincount(targets[val], minlength=4).tolist() == [4, 4, 3, 3]


def test_balanced_split_errors():
    targets = torch.tensor([0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="class 1 \\('b'\\) has 2 images"):
        balanced_split(targets, 4, seed=0, classes=["a", "b"])
    with pytest.raises(ValueError, match="at least one image of each|one image of each"):
        balanced_split(targets, 1, seed=0)


def test_image_folder_train_only_gets_balanced_split(tmp_path):
    root = write_image_folder(tmp_path / "set")
    cache = tmp_path / "cache"
    a = load_splits(str(root), cache_dir=cache, val_size=6, seed=0, progress=False)
    assert a.classes == ["ant", "bee", "cat"]
    assert len(a.train) == 18 and a.val.class_counts(3).tolist() == [2, 2, 2]
    assert a.description["val_source"] == "holdout"
    b = load_splits(str(root), cache_dir=cache, val_size=6, seed=0, progress=False)
    c = load_splits(str(root), cache_dir=cache, val_size=6, seed=1, progress=False)
    assert torch.equal(a.val.images, b.val.images) and not torch.equal(a.val.images, c.val.images)
    train_set = {bytes(x.numpy()) for x in a.train.images}
    assert all(bytes(x.numpy()) not in train_set for x in a.val.images)  # disjoint (images are all distinct)
    with pytest.raises(ValueError, match="class 0 \\('ant'\\) has 8 images"):
        load_splits(str(root), cache_dir=cache, val_size=30, progress=False)


def test_image_folder_with_val_used_as_is_and_resized(tmp_path):
    root = write_image_folder(tmp_path / "set", splits=("train", "val"), per_class=3, size=(40, 48))
    splits = load_splits(str(root), cache_dir=tmp_path / "cache", image_size=16, progress=False)
    assert (
        len(splits.train) == 9 and len(splits.val) == 9 and splits.description["val_source"] == "folder:val"
    )
    assert splits.train.images.shape == (9, 3, 16, 16)
    assert splits.val.targets.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_archive_is_extracted_once_and_decoded_once(tmp_path, monkeypatch):
    root = write_image_folder(tmp_path / "src")
    archive = tmp_path / "tiny-set.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "train", arcname="train")
    cache = tmp_path / "cache"
    first = load_splits(str(archive), cache_dir=cache, val_size=3, progress=False)
    assert (cache / "tiny-set" / "train" / "ant").is_dir()
    assert len(list((cache / "decoded").glob("*.pt"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("decoded or extracted again although cached")

    monkeypatch.setattr(folder_module, "decode_images", fail)
    monkeypatch.setattr(folder_module.tarfile, "open", fail)
    second = load_splits(str(archive), cache_dir=cache, val_size=3, progress=False)
    assert torch.equal(first.train.images, second.train.images) and first.classes == second.classes


def test_unknown_dataset_and_bad_archive(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not 'cifar10'"):
        load_splits(str(tmp_path / "nowhere"), cache_dir=tmp_path, progress=False)
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(b"not a tar file")
    with pytest.raises(ValueError, match="cannot extract"):
        load_splits(str(bad), cache_dir=tmp_path / "cache", progress=False)


@pytest.mark.slow
def test_real_cifar10_jpeg_archive(cifar10_jpeg, cifar10_jpeg_cache):
    splits = load_splits(str(cifar10_jpeg), cifar10_jpeg_cache, val_size=5000, seed=0, progress=False)
    assert len(splits.train) == 45000 and len(splits.val) == 5000
    assert splits.val.class_counts(10).tolist() == [500] * 10
    assert splits.classes == list(CIFAR10_CLASSES)
    assert splits.train.images.shape[1:] == (3, 32, 32)


# ---------------------------------------------------------------- synthetic data


def test_synthetic_is_seeded_and_learnable():
    a, b = make_synthetic(seed=0), make_synthetic(seed=0)
    assert torch.equal(a.train.images, b.train.images) and not torch.equal(
        a.train.images, make_synthetic(seed=1).train.images
    )
    assert len(a.train) == 400 and len(a.val) == 100 and a.train.class_counts(10).tolist() == [40] * 10
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    train = DeviceLoader(a.train, 50, mean=a.mean, std=a.std, seed=0)
    for _ in range(3):
        for x, y in train:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    x, y = next(iter(DeviceLoader(a.val, 100, mean=a.mean, std=a.std, train=False)))
    assert (model(x).argmax(1) == y).float().mean() > 0.9


# ---------------------------------------------------------------- augmentation: two paths, one distribution


def _position_image() -> torch.Tensor:
    """(3, 32, 32) uint8: channel 0 = row + 1, channel 1 = column + 1, so a crop tells where it came from."""
    rows, cols = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    return torch.stack([rows + 1, cols + 1, torch.zeros_like(rows)]).to(torch.uint8)


def _offsets_and_flips(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Recover (top, left, flipped) of crops of the position image from normalised (mean 0, std 1) batches."""
    v = (x * 255).round().long()  # (B, 3, 32, 32) back to pixel values
    flipped = v[:, 1, 16, 17] < v[:, 1, 16, 16]
    top = v[:, 0, 16, 16] - 1 - 16 + 4
    left = v[:, 1, 16, 16] - 1 - 16 + 4 + flipped.long()  # mirrored: output column 16 reads padded left + 15
    return top, left, flipped


def _chi2_two_sample(a: torch.Tensor, b: torch.Tensor, bins: int) -> float:
    table = torch.stack([torch.bincount(a, minlength=bins), torch.bincount(b, minlength=bins)]).double()
    expected = table.sum(1, keepdim=True) * table.sum(0, keepdim=True) / table.sum()
    return float(((table - expected) ** 2 / expected.clamp(min=1e-9)).sum())


def test_crop_flip_matches_torchvision_ops():
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    padded = TF.pad(image, [4])
    for top, left, flip in [(0, 0, False), (8, 8, True), (3, 5, True), (7, 1, False)]:
        expected = TF.crop(padded, top, left, 32, 32)
        expected = TF.horizontal_flip(expected) if flip else expected
        got = crop_flip(image[None], torch.tensor([[top, left]]), torch.tensor([flip]))[0]
        assert torch.equal(got, expected)


def test_both_loaders_share_the_augmentation_distribution():
    n = 2000
    split = TensorSplit(_position_image().expand(n, 3, 32, 32).clone(), torch.zeros(n, dtype=torch.int64))
    unit = {"mean": (0.0, 0.0, 0.0), "std": (1.0, 1.0, 1.0)}
    device_x = torch.cat([x for x, _ in DeviceLoader(split, 500, seed=1, **unit)])
    textbook_x = torch.cat([x for x, _ in TextbookLoader(split, 500, seed=2, **unit)])
    critical = {9: 26.12, 2: 10.83}  # chi-square, p = 0.001, df = bins - 1
    for got_a, got_b in zip(_offsets_and_flips(device_x), _offsets_and_flips(textbook_x)):
        bins = 2 if got_a.dtype == torch.bool else 9
        a, b = got_a.long(), got_b.long()
        assert a.min() >= 0 and a.max() < bins and b.min() >= 0 and b.max() < bins
        assert _chi2_two_sample(a, b, bins) < critical[bins]
        for sample in (a, b):  # each path against the uniform distribution too
            counts = torch.bincount(sample, minlength=bins).double()
            assert float(((counts - n / bins) ** 2 / (n / bins)).sum()) < critical[bins]


def test_eval_mode_is_normalise_only_and_identical():
    split = make_synthetic(seed=0).val
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    device_batches = list(DeviceLoader(split, 32, train=False, mean=mean, std=std))
    textbook_batches = list(TextbookLoader(split, 32, train=False, mean=mean, std=std))
    assert len(device_batches) == len(textbook_batches) == 4
    for (xd, yd), (xt, yt) in zip(device_batches, textbook_batches):
        assert torch.equal(xd, xt) and torch.equal(yd, yt)
    expected = (split.images[:32].float() / 255 - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(
        3, 1, 1
    )
    assert torch.allclose(device_batches[0][0], expected, atol=1e-6)
    assert torch.equal(device_batches[0][0], normalize(split.images[:32], mean, std))


# ---------------------------------------------------------------- DeviceLoader / TextbookLoader behaviour


@pytest.fixture(scope="module")
def toy():
    return make_synthetic(train_per_class=13, val_per_class=2, seed=0)  # 130 train images


def _batches(loader):
    return [(x.clone(), y.clone()) for x, y in loader]


def test_device_loader_shapes_dtype_len(toy):
    loader = DeviceLoader(toy.train, 32, "cpu", mean=toy.mean, std=toy.std, seed=0)
    assert len(loader) == 4  # drop_last in training: 130 // 32
    batches = _batches(loader)
    assert (
        len(batches) == 4 and batches[0][0].shape == (32, 3, 32, 32) and batches[0][0].dtype == torch.float32
    )
    assert batches[0][1].dtype == torch.int64
    eval_loader = DeviceLoader(toy.train, 32, mean=toy.mean, std=toy.std, train=False)
    assert len(eval_loader) == 5 and sum(len(y) for _, y in eval_loader) == 130
    half = next(iter(DeviceLoader(toy.train, 8, mean=toy.mean, std=toy.std, dtype=torch.bfloat16)))[0]
    assert half.dtype == torch.bfloat16
    cl = next(iter(DeviceLoader(toy.train, 8, mean=toy.mean, std=toy.std, channels_last=True)))[0]
    assert cl.is_contiguous(memory_format=torch.channels_last)


def test_device_loader_seeded_and_epochs_differ(toy):
    kw = {"mean": toy.mean, "std": toy.std}
    a = DeviceLoader(toy.train, 32, generator=torch.Generator().manual_seed(5), **kw)
    b = DeviceLoader(toy.train, 32, generator=torch.Generator().manual_seed(5), **kw)
    c = DeviceLoader(toy.train, 32, generator=torch.Generator().manual_seed(6), **kw)
    first_a, first_b, first_c = _batches(a), _batches(b), _batches(c)
    assert all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(first_a, first_b))
    assert not torch.equal(first_a[0][0], first_c[0][0])
    assert not torch.equal(first_a[0][0], _batches(a)[0][0]) and a.epoch == 2


@pytest.mark.parametrize("kind", [DeviceLoader, TextbookLoader])
def test_resume_mid_epoch_and_at_epoch_boundary(toy, kind):
    kw = {"mean": toy.mean, "std": toy.std, "seed": 3}
    reference = kind(toy.train, 32, **kw)
    epoch1, epoch2 = _batches(reference), _batches(reference)

    loader = kind(toy.train, 32, **kw)
    iterator = iter(loader)
    for _ in range(2):
        next(iterator)
    state = loader.state_dict()  # after 2 of 4 batches of epoch 1
    assert state["epoch"] == 1 and state["batch"] == 2
    resumed = kind(toy.train, 32, **{**kw, "seed": 99})  # its own seed is overwritten by the state
    resumed.load_state_dict(state)
    rest = _batches(resumed)
    assert len(rest) == 2 and all(
        torch.equal(x, r[0]) and torch.equal(y, r[1]) for (x, y), r in zip(rest, epoch1[2:])
    )
    assert all(
        torch.equal(x, r[0]) for (x, _), r in zip(_batches(resumed), epoch2)
    )  # the next epoch matches too

    boundary = kind(toy.train, 32, **kw)
    _batches(boundary)
    again = kind(toy.train, 32, **kw)
    again.load_state_dict(boundary.state_dict())  # between epochs: the next epoch is epoch 2
    assert all(torch.equal(x, r[0]) for (x, _), r in zip(_batches(again), epoch2)) and again.epoch == 2


def test_textbook_loader_independent_of_workers(toy):
    kw = {"mean": toy.mean, "std": toy.std, "seed": 0}
    x0 = next(iter(TextbookLoader(toy.train, 16, **kw)))[0]
    x2 = next(iter(TextbookLoader(toy.train, 16, num_workers=2, **kw)))[0]
    assert torch.equal(x0, x2)


def test_loaders_leave_global_rng_alone(toy):
    torch.manual_seed(0)
    before = torch.get_rng_state()
    _batches(TextbookLoader(toy.train, 32, mean=toy.mean, std=toy.std))
    _batches(DeviceLoader(toy.train, 32, mean=toy.mean, std=toy.std))
    assert torch.equal(before, torch.get_rng_state())


def test_make_loaders_from_config(tmp_path):
    cfg = SimpleNamespace(
        dataset="synthetic",
        data_dir=str(tmp_path),
        download=False,
        val_size=100,
        train_subset=50,
        batch_size=25,
        seed=0,
        loader="auto",
        num_workers=0,
        progress=False,
    )
    data = make_loaders(cfg, "cpu")
    assert isinstance(data.train, DeviceLoader) and len(data.train) == 2 and len(data.classes) == 10
    assert data.description["loader"] == "device" and data.description["train_size"] == 50
    assert data.train.images.shape[0] == 50 and torch.bincount(data.train.targets).tolist() == [5] * 10
    cfg.loader = "dataloader"
    data = make_loaders(cfg, "cpu")
    assert isinstance(data.train, TextbookLoader) and isinstance(data.val, TextbookLoader)
    x, y = next(iter(data.val))
    assert x.shape == (25, 3, 32, 32)
    cfg.loader = "fast"
    with pytest.raises(ValueError, match="loader must be one of"):
        make_loaders(cfg, "cpu")

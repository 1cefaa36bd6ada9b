"""The checkpoints committed under data/checkpoints load, carry their sidecar, and reproduce their accuracy."""

import json
import re

import pytest
import torch

from senet_lib.analysis.profiles import profiles_from_json
from senet_lib.checkpoint import load_model, read_meta
from senet_lib.data import checkpoint_split_loader
from senet_lib.paths import REPO_ROOT, checkpoints_dir
from senet_lib.shipped import list_pretrained
from senet_lib.training.evaluate import evaluate

ROOT = REPO_ROOT
CKPT = checkpoints_dir()
NAMES = list_pretrained()  # every checkpoint that ships: the ResNet-20 pair, the ResNet-56 pair once trained
SE_NAMES = [name for name in NAMES if name.startswith("se_")]


def test_the_small_pair_ships():
    assert {"resnet20", "se_resnet20"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_loads_with_complete_sidecar(name):
    weights = CKPT / f"{name}.safetensors"
    assert weights.stat().st_size <= 5 * 2**20
    meta = read_meta(CKPT / name)
    assert meta["model"]["name"] == name
    assert meta["classes"] == [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    assert set(meta["normalization"]) == {"mean", "std"}
    assert meta["recipe"]["model"] == name and meta["data"]["val_size"] == 5000
    model = load_model(CKPT / name)
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    report = json.loads((CKPT / f"{name}.eval.json").read_text())
    assert report["accuracy"] == pytest.approx(meta["metrics"]["val_acc"])


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_ships_its_curves_and_is_the_final_epoch(name):
    """metrics.jsonl beside the weights holds every epoch; the weights are the last epoch's, never the best's."""
    meta = read_meta(CKPT / name)
    lines = (CKPT / f"{name}.metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    epochs = meta["recipe"]["epochs"]
    assert [record["epoch"] for record in records] == list(range(1, epochs + 1))
    assert meta["metrics"]["epoch"] == epochs
    assert records[-1]["val_acc"] == pytest.approx(meta["metrics"]["val_acc"])
    report = json.loads((CKPT / f"{name}.eval.json").read_text())
    assert not [s for s in strings_in(report) if s.startswith(("/", "~", "../"))]


@pytest.mark.parametrize("name", NAMES)
def test_readme_states_what_the_shipped_evaluation_holds(name):
    """The README's row for each shipped checkpoint gives the accuracies its evaluation file holds: the final
    epoch's, and flip test-time augmentation's apart (written by ``senet evaluate --flip-tta``)."""
    report = json.loads((CKPT / f"{name}.eval.json").read_text())
    readme = (ROOT / "README.md").read_text()
    row = re.search(rf"^\| `data/checkpoints/{name}` \| \*\*([\d.]+)%\*\* \| ([\d.]+)% \|", readme, re.M)
    assert row, f"README.md has no Shipped checkpoints row for {name}"
    assert float(row[1]) == round(100 * report["accuracy"], 2)
    assert float(row[2]) == round(100 * report["flip_tta"]["accuracy"], 2), "rerun senet evaluate --flip-tta"


def strings_in(value):
    """Every string in a JSON value, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@pytest.mark.parametrize("name", NAMES)
def test_sidecar_names_no_path_of_the_training_machine_and_agrees_with_itself(name):
    meta = read_meta(CKPT / name)
    assert not [s for s in strings_in(meta) if s.startswith(("/", "~", "../")) or s[1:3] == ":\\"]
    assert not {"data_dir", "run_dir", "progress"} & set(meta["recipe"])  # where one machine kept its files
    assert "/" not in meta["recipe"]["dataset"]  # a dataset name any machine resolves (senet_lib.paths)
    assert meta["recipe"]["val_source"] == meta["data"]["val_source"] == "holdout"


@pytest.mark.parametrize("name", SE_NAMES)
def test_se_checkpoint_has_class_profiles(name):
    meta = read_meta(CKPT / name)
    depth = int(name.removeprefix("se_resnet"))  # a CIFAR ResNet has 6n + 2 layers: n basic blocks per stage
    blocks = (depth - 2) // 6
    profiles = profiles_from_json(meta["class_profiles"])
    assert list(profiles) == [f"SE_{s}_{b}" for s in (2, 3, 4) for b in range(1, blocks + 1)]
    for layer, profile in profiles.items():  # SE_<stage>_<block>: 16, 32, 64 channels in stages 2-4
        assert profile.means.shape == (10, {"2": 16, "3": 32, "4": 64}[layer[3]])
        assert int(profile.counts.sum()) == 5000
        assert 0.0 <= profile.specificity <= 1.0
        assert profile.spread is not None and profile.spread >= 0.0  # profiled with the spread stored


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_reproduces_its_validation_accuracy(name, cifar10_jpeg, cifar10_jpeg_cache):
    meta = read_meta(CKPT / name)
    loader = checkpoint_split_loader(meta, "val", str(cifar10_jpeg), str(cifar10_jpeg_cache), progress=False)
    result = evaluate(load_model(CKPT / name), loader, num_classes=10)
    assert result["count"] == 5000
    assert result["accuracy"] == pytest.approx(meta["metrics"]["val_acc"], abs=1e-4)

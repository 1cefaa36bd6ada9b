"""senet_lib.analysis.catalog: the default checkpoint, twins found by what the sidecars say, the data words
and which samples fit a checkpoint."""

import copy
import json

from senet_lib.analysis.catalog import (
    data_info,
    default_checkpoint,
    find_twin,
    is_se,
    list_samples,
    samples_fit,
    samples_held_out,
)
from senet_lib.paths import checkpoints_dir


def shipped(name: str) -> dict:
    return json.loads((checkpoints_dir() / f"{name}.json").read_text())


def test_default_checkpoint_prefers_the_deeper_se_model():
    assert default_checkpoint(["resnet20", "se_resnet20"]) == "se_resnet20"
    assert default_checkpoint(["resnet56", "se_resnet20", "se_resnet56"]) == "se_resnet56"
    assert default_checkpoint(["mine"]) == "mine" and default_checkpoint([]) is None


def test_the_shipped_pair_are_twins_by_their_sidecars():
    se, plain = shipped("se_resnet20"), shipped("resnet20")
    assert is_se(se) and not is_se(plain)
    candidates = {"se_resnet20": se, "resnet20": plain}
    assert find_twin(se, candidates) == "resnet20" and find_twin(plain, candidates) == "se_resnet20"


def test_no_twin_when_the_sidecars_say_otherwise():
    se, plain = shipped("se_resnet20"), shipped("resnet20")
    renamed = {"any-file-name": plain}  # file names do not matter
    assert find_twin(se, renamed) == "any-file-name"
    for change in (
        lambda m: m["recipe"].update(lr=0.1),  # another recipe
        lambda m: m["data"].update(seed=1),  # another split
        lambda m: m.update(classes=[f"c{k}" for k in range(10)]),  # other classes
        lambda m: m.pop("recipe"),  # cannot tell how it was trained
        lambda m: m["model"].update(name="resnet32"),  # another depth
    ):
        other = copy.deepcopy(plain)
        change(other)
        assert find_twin(se, {"resnet20": other}) is None
    runtime_only = copy.deepcopy(plain)
    runtime_only["recipe"].update(run_dir="elsewhere", threads=2, device="cuda")
    assert find_twin(se, {"resnet20": runtime_only}) == "resnet20"


def test_data_info_speaks_from_the_sidecar():
    info = data_info(shipped("se_resnet20"))
    assert info.val_size == 5000 and info.image_size == 32
    assert info.validation_phrase() == "the 5,000 validation images held out of cifar10-jpeg-train.tar.gz"
    assert data_info({"data": {"image_size": 32}}).validation_phrase() == "the validation images"
    assert (
        "flowers.tar (its test split)"
        in data_info(
            {"data": {"dataset": "flowers.tar", "val_source": "test", "val_size": 100}}
        ).validation_phrase()
    )


def test_samples_fit_only_models_with_their_classes():
    samples = list_samples()
    assert len(samples) == 30 and samples[0].name == "airplane_1.jpg" and samples[0].true_class == "airplane"
    meta = shipped("se_resnet20")
    assert samples_fit(meta["classes"], samples) and samples_held_out(meta)
    assert not samples_fit(["apple", "bee", "cloud"], samples)
    assert not samples_held_out({**meta, "data": {**meta["data"], "seed": 1}})

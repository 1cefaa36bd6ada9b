"""senet_lib.pretrained / list_pretrained / preprocess and hubconf.py: a trained model in one line, offline."""

from __future__ import annotations

import pytest
import torch

import senet_lib
from senet_lib.checkpoint import load_model, read_meta


def test_pretrained_is_the_shipped_checkpoint_with_its_classes(shipped_se_checkpoint):
    assert {"resnet20", "se_resnet20"} <= set(senet_lib.list_pretrained())
    model = senet_lib.pretrained("se_resnet20")
    meta = read_meta(shipped_se_checkpoint)
    assert not model.training and model.classes == meta["classes"] and model.classes[3] == "cat"
    assert model.normalization == meta["normalization"]
    reference = load_model(shipped_se_checkpoint)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(model(x), reference(x))


def test_preprocess_turns_an_image_into_the_models_input(samples):
    from PIL import Image

    model = senet_lib.pretrained("se_resnet20")
    image = Image.open(samples / "cat_1.jpg")
    x = senet_lib.preprocess(model)(image)
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    big = image.resize((96, 64))  # any size: shorter side resized, centre crop
    assert senet_lib.preprocess(model)(big).shape == (3, 32, 32)


def test_unknown_pretrained_name_lists_what_ships():
    with pytest.raises(
        ValueError, match=r"no trained 'se_resnet1000' ships with SENet Lab; trained models: \["
    ):
        senet_lib.pretrained("se_resnet1000")


def test_torch_hub_loads_the_same_model_offline(repo_root):
    hub_model = torch.hub.load(str(repo_root), "se_resnet20", source="local", pretrained=True)
    model = senet_lib.pretrained("se_resnet20")
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(hub_model(x), model(x))
    untrained = torch.hub.load(str(repo_root), "se_resnet56", source="local", reduction=8)
    assert untrained.spec["reduction"] == 8

"""torchvision SE networks: excitations are recorded for every architecture (random weights, no network);
unavailable weights give a clear notice and random, labelled weights; cached weights are used."""

import io
import urllib.error

import pytest
import torch
import torchvision.models as tvm
from PIL import Image

from senet_lib.analysis.excitation import record_excitations
from senet_lib.analysis.images import load_image, to_model_input
from senet_lib.analysis.inspection import inspect
from senet_lib.analysis.torchvision_se import (
    TORCHVISION_SE_MODELS,
    WeightsUnavailable,
    cached_weights_path,
    fetch_weights,
    input_format_for,
    load_torchvision_se,
)
from senet_lib.se_layers import se_channels, select_se_layers


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """An empty torch hub cache and a network that is down: nothing in this test can reach the internet."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    calls = []

    def no_network(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return calls


@pytest.mark.parametrize("name", list(TORCHVISION_SE_MODELS))
def test_excitations_are_recorded_with_random_weights(name):
    torch.manual_seed(0)
    model = tvm.get_model(name, weights=None).eval()
    layers = select_se_layers(model)
    assert len(layers) >= 8
    with torch.no_grad(), record_excitations(model) as rec:
        model(torch.randn(2, 3, 64, 64))
    for layer, se in layers.items():
        s = rec[layer]
        assert s.shape == (2, se_channels(se))
        assert 0.0 <= float(s.min()) and float(s.max()) <= 1.0  # a sigmoid (hard sigmoid for MobileNetV3)


def test_unavailable_weights_give_random_labelled_weights_and_a_notice(offline_hub):
    loaded = load_torchvision_se("mobilenet_v3_small")
    assert offline_hub == []  # not asked to download: no attempt
    assert loaded.label == "mobilenet_v3_small (torchvision, RANDOM weights: architecture only)"
    assert loaded.notice.startswith("RANDOM WEIGHTS") and "not in the torch hub cache" in loaded.notice
    assert str(cached_weights_path("mobilenet_v3_small")) in loaded.notice
    assert loaded.meta["pretrained"] is False and len(loaded.classes) == 1000 and loaded.classes[0] == "tench"
    image = load_image(png(), "x.png")
    result = inspect(loaded, to_model_input(image, loaded.input_format))
    assert len(result.excitations) == 9 and result.probs.shape == (1000,)


def test_a_failed_download_is_reported(offline_hub):
    loaded = load_torchvision_se("regnet_y_400mf", allow_download=True)
    assert len(offline_hub) == 1 and offline_hub[0].endswith(".pth")
    assert "could not be downloaded" in loaded.notice and "offline" in loaded.notice
    with pytest.raises(WeightsUnavailable, match="could not be downloaded"):
        load_torchvision_se("regnet_y_400mf", allow_download=True, random_if_unavailable=False)
    with pytest.raises(WeightsUnavailable, match="not in the torch hub cache"):
        fetch_weights("efficientnet_b0")


def test_cached_weights_are_used(offline_hub):
    torch.manual_seed(3)
    reference = tvm.get_model("mobilenet_v3_small", weights=None)
    path = cached_weights_path("mobilenet_v3_small")
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)  # as a finished download leaves it
    loaded = load_torchvision_se("mobilenet_v3_small")
    assert loaded.notice is None and loaded.meta["pretrained"] is True and offline_hub == []
    assert loaded.label == "mobilenet_v3_small (torchvision, IMAGENET1K_V1 weights)"
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[key], value)


def test_input_specs_follow_the_weights_recipes():
    spec = input_format_for("efficientnet_b0")
    assert (spec.size, spec.resize, spec.interpolation) == (224, 256, "bicubic")
    assert spec.mean == pytest.approx((0.485, 0.456, 0.406))
    assert input_format_for("regnet_y_400mf").resize == 232
    with pytest.raises(ValueError, match="unknown torchvision SE model"):
        input_format_for("resnet50")

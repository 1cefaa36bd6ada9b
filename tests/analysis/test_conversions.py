"""senet_lib.analysis.conversions (every step from file to model input, in words) and contrast (the difference
of two sets of excitations) with its figures."""

import io

import pytest
import torch
from PIL import Image

from senet_lib.analysis.contrast import excitation_difference, rms_by_layer
from senet_lib.analysis.conversions import conversion_notes, resized_size
from senet_lib.analysis.figures import difference_by_depth, excitation_difference_heatmap
from senet_lib.analysis.images import InputFormat, decode_image, model_view

SPEC = InputFormat(32, (0.4914, 0.4822, 0.4467), (0.2452, 0.2429, 0.2607))


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_a_landscape_photo_says_what_the_crop_cuts():
    decoded = decode_image(png(Image.new("RGB", (1600, 1200), (10, 20, 30))), "photo.png")
    notes = conversion_notes(decoded, SPEC)
    assert notes[0] == "PNG file, 1600x1200 pixels"
    assert "downscaled from 1600x1200 to 1024x768" in notes
    assert "shrunk from 1024x768 to 42x32 (shorter side to 32, bilinear)" in notes
    assert (
        "centre crop 32x32: 5 px cut on the left and 5 on the right (24% of the width); the model never sees them"
        == notes[3]
    )
    assert notes[-1].startswith(
        "pixels scaled to [0, 1], then per channel (R, G, B) minus the training mean (0.491"
    )
    assert tuple(model_view(decoded.image, SPEC).shape) == (3, 32, 32)
    assert resized_size(1024, 768, 32) == (42, 32) and resized_size(20, 40, 32) == (32, 64)


def test_grayscale_and_tiny_images_are_noted():
    gray = decode_image(png(Image.new("L", (8, 8), 128)), "gray.png")
    assert "grayscale: its one channel copied to red, green and blue" in gray.notes
    notes = conversion_notes(gray, SPEC)
    assert "enlarged from 8x8 to 32x32 (shorter side to 32, bilinear)" in notes
    assert not any(n.startswith("centre crop") for n in notes)  # already square: nothing cut
    assert decode_image(png(Image.new("RGB", (32, 32))), "cifar.png").notes == ()


def test_excitation_difference_and_rms():
    a = {"SE_2_1": torch.tensor([0.5, 0.5]), "SE_3_1": torch.tensor([1.0, 0.0, 0.0, 0.0])}
    b = {"SE_2_1": torch.tensor([0.5, 0.1]), "SE_3_1": torch.zeros(4)}
    diff = excitation_difference(a, b)
    torch.testing.assert_close(diff["SE_2_1"], torch.tensor([0.0, 0.4]))
    assert rms_by_layer(diff) == pytest.approx({"SE_2_1": (0.16 / 2) ** 0.5, "SE_3_1": 0.5})
    with pytest.raises(ValueError, match="channels"):
        excitation_difference(a, {"SE_2_1": torch.zeros(3)})
    with pytest.raises(ValueError, match="no SE layer"):
        excitation_difference(a, {"SE_9_9": torch.zeros(3)})
    heat = excitation_difference_heatmap(diff)
    assert heat.data[0].zmid == 0.0 and list(heat.data[0].y) == ["SE_2_1", "SE_3_1"]
    assert list(difference_by_depth(rms_by_layer(diff)).data[0].x) == ["SE_2_1", "SE_3_1"]

"""senet_lib.images: every bad or odd upload (generated in upload_cases.py), and the model's view of an image."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from senet_lib.analysis.images import (
    BACKGROUND,
    MAX_BYTES,
    MAX_PIXELS,
    MAX_SIDE,
    ImageInputError,
    InputFormat,
    decode_image,
    input_format,
    load_image,
    model_view,
    to_display,
    to_model_input,
    upscale,
)
from senet_lib.checkpoint import read_meta
from senet_lib.paths import REPO_ROOT, checkpoints_dir, samples_dir
from tests.upload_cases import (
    BAD_IMAGES,
    ODD_IMAGES,
    animated_gif,
    cmyk_jpeg,
    exif_rotated,
    huge_photo,
    one_pixel,
    over_limit,
    palette_png,
    png16_gray,
    png48_rgb,
    rgba_png,
)

ROOT = REPO_ROOT
SAMPLE = samples_dir() / "cat_1.jpg"
CIFAR = InputFormat(32, (0.4914, 0.4822, 0.4467), (0.2452, 0.2429, 0.2607))


def save(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_input_raises_one_clear_error(case):
    file_name, make, says = BAD_IMAGES[case]
    with pytest.raises(ImageInputError) as err:
        decode_image(make(), file_name)
    message = str(err.value)
    assert says in message
    assert file_name in message  # names the file ...
    assert any(fix in message for fix in ("Upload", "upload", "Convert", "Downscale"))  # ... and the fix
    assert isinstance(err.value, ValueError)


def test_file_over_the_byte_limit():
    with pytest.raises(ImageInputError, match=f"over the {MAX_BYTES // 2**20} MiB limit"):
        decode_image(b"\x89PNG" + bytes(MAX_BYTES), "big.png")


def test_pixel_limit_is_checked_before_decoding():
    assert MAX_PIXELS == 50_000_000
    data = over_limit()
    assert len(data) < 20_000  # 64 megapixels in a few KB: refused from the header alone
    with pytest.raises(ImageInputError, match="8000x8000 = 64 megapixels"):
        load_image(data, "canvas.png")
    ok = save(Image.new("1", (7000, 7000)), "PNG")  # 49 megapixels: under the limit, downscaled
    assert load_image(ok, "ok.png").size == (MAX_SIDE, MAX_SIDE)


@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_odd_input_is_repaired_and_noted(case):
    file_name, make, note = ODD_IMAGES[case]
    decoded = decode_image(make(), file_name)
    assert decoded.image.mode == "RGB" and max(decoded.image.size) <= MAX_SIDE
    assert decoded.name == file_name
    if note:
        assert any(note in n for n in decoded.notes), decoded.notes


def test_one_pixel_image():
    decoded = decode_image(one_pixel(), "dot.png")
    assert decoded.image.size == (1, 1) and decoded.image.getpixel((0, 0)) == (255, 0, 0)
    x = to_model_input(decoded.image, CIFAR)
    assert x.shape == (1, 3, 32, 32)
    assert (to_display(x, CIFAR) == [255, 0, 0]).all()  # stretched, same colour everywhere


def test_16_bit_png_is_scaled_not_clipped():
    assert Image.open(io.BytesIO(png16_gray())).mode == "I;16"
    img = load_image(png16_gray(), "depth16.png")
    row = [img.getpixel((i, 0))[0] for i in (0, 1, 128, 255)]
    assert row == [0, 1, 128, 255]  # k * 257 -> k: a plain convert("RGB") clips everything above 255 to white
    assert img.getpixel((128, 0)) == (128, 128, 128)


def test_48_bit_rgb_png():
    img = load_image(png48_rgb(), "depth48.png")
    assert img.size == (4, 4) and img.getpixel((2, 2)) == (255, 128, 0)


def test_cmyk_jpeg_becomes_rgb_with_its_colour():
    assert Image.open(io.BytesIO(cmyk_jpeg())).mode == "CMYK"
    r, g, b = load_image(cmyk_jpeg(), "print.jpg").getpixel((8, 8))
    assert r > 240 and g < 15 and b < 15


def test_rgba_is_composited_on_the_stated_background():
    assert BACKGROUND == (255, 255, 255)
    img = load_image(rgba_png(), "alpha.png")
    assert img.getpixel((0, 0)) == (0, 0, 255)  # opaque stays
    assert img.getpixel((7, 0)) == BACKGROUND  # fully transparent -> background
    assert img.getpixel((7, 7)) == (255, 127, 127)  # half-transparent red over white


def test_palette_png_with_transparency():
    assert Image.open(io.BytesIO(palette_png())).mode == "P"
    img = load_image(palette_png(), "palette.png")
    assert img.getpixel((0, 0)) == BACKGROUND and img.getpixel((7, 7)) == (0, 200, 0)


def test_opaque_rgba_is_converted_without_a_note():
    decoded = decode_image(save(Image.new("RGBA", (16, 16), (10, 20, 30, 255)), "PNG"), "opaque.png")
    assert decoded.image.getpixel((0, 0)) == (10, 20, 30) and decoded.notes == ()


def test_animated_gif_gives_its_first_frame():
    r, g, b = load_image(animated_gif(), "anim.gif").getpixel((8, 8))
    assert r > 240 and g < 15 and b < 15  # frame 1 is red; 2 and 3 are green and blue


def test_exif_orientation_is_applied():
    stored = Image.open(io.BytesIO(exif_rotated()))
    assert stored.size == (40, 20) and stored.getexif()[0x0112] == 6
    img = load_image(exif_rotated(), "phone.jpg")
    assert img.size == (20, 40)  # upright: portrait
    assert img.getpixel((10, 5))[0] < 30 and img.getpixel((10, 35))[0] > 225  # black on top, white below


@pytest.mark.parametrize(
    "exif",
    [
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff",  # truncated IFD
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00"
        b"\x00\x01\x00\x09\x00\x00",  # orientation 9: no such value
        b"garbage",
    ],
    ids=["truncated", "invalid orientation", "garbage"],
)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_leaves_the_image_as_stored(exif):
    decoded = decode_image(save(Image.new("RGB", (16, 8), (9, 9, 9)), "JPEG", exif=exif), "odd-exif.jpg")
    assert decoded.image.size == (16, 8)
    assert not any("rotated" in note for note in decoded.notes)


def test_huge_jpeg_is_downscaled_while_decoding():
    data = huge_photo()
    assert Image.open(io.BytesIO(data)).size == (6000, 4000)
    decoded = decode_image(data, "camera.jpg")
    assert decoded.image.size == (1024, 683) and decoded.file_size == (6000, 4000)
    r, g, b = decoded.image.getpixel((1023, 682))  # the gradient's far corner survives the draft + thumbnail
    assert r > 245 and g > 245 and abs(b - 96) < 6


def test_huge_png_is_downscaled():
    data = save(Image.new("RGB", (5000, 3000), (1, 2, 3)), "PNG")
    decoded = decode_image(data, "wide.png")
    assert decoded.image.size == (1024, 614) and decoded.image.getpixel((500, 300)) == (1, 2, 3)
    assert "downscaled from 5000x3000 to 1024x614" in decoded.notes


@pytest.mark.parametrize("fmt,name", [("WEBP", "x.webp"), ("BMP", "x.bmp"), ("PNG", "really-a-png.jpg")])
def test_accepted_formats_and_names_that_lie(fmt, name):
    data = save(Image.new("RGB", (12, 10), (0, 0, 250)), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    decoded = decode_image(data, name)
    assert decoded.image.size == (12, 10) and decoded.image.getpixel((5, 5)) == (0, 0, 250)


def test_to_model_input_matches_the_training_normalisation():
    meta = read_meta(checkpoints_dir() / "se_resnet20")
    img = load_image(SAMPLE.read_bytes(), SAMPLE.name)
    x = to_model_input(img, meta)
    assert x.shape == (1, 3, 32, 32) and x.dtype == torch.float32
    pixels = (
        torch.from_numpy(np.array(img)).permute(2, 0, 1).float() / 255
    )  # (3, 32, 32), the loader's x / 255
    mean, std = torch.tensor(meta["normalization"]["mean"]), torch.tensor(meta["normalization"]["std"])
    torch.testing.assert_close(x[0], (pixels - mean[:, None, None]) / std[:, None, None])
    assert (to_display(x, meta) == np.array(img)).all()  # the inverse gives the pixels back


def test_non_square_images_are_resized_on_the_shorter_side_and_centre_cropped():
    img = Image.new("RGB", (96, 32), (255, 0, 0))
    img.paste((0, 255, 0), (32, 0, 64, 32))  # the middle third is green
    view = model_view(img, CIFAR)
    assert view.shape == (3, 32, 32) and view.dtype == torch.uint8
    assert view[1].float().mean() > 250 and view[0].float().mean() < 5  # only the centre is kept


def test_input_format_from_meta_and_its_errors():
    meta = read_meta(checkpoints_dir() / "se_resnet20")
    spec = input_format(meta)
    assert spec.size == 32 and spec.mean == tuple(meta["normalization"]["mean"])
    assert input_format(spec) is spec
    assert input_format(type("Loaded", (), {"input_format": spec})()) is spec  # a LoadedModel carries it
    with pytest.raises(TypeError, match="InputFormat"):
        input_format(42)
    with pytest.raises(ValueError, match="no 'normalization'"):
        InputFormat.from_meta({"data": {"image_size": 32}})
    with pytest.raises(ValueError, match="input size"):
        InputFormat.from_meta({"normalization": {"mean": [0, 0, 0], "std": [1, 1, 1]}})


def test_upscale_keeps_pixels_square():
    big = upscale(torch.tensor([[[0, 255]], [[0, 255]], [[0, 255]]], dtype=torch.uint8), 4)  # (3, 1, 2)
    assert big.size == (8, 4)
    assert big.getpixel((3, 3)) == (0, 0, 0) and big.getpixel((4, 0)) == (255, 255, 255)

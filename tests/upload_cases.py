"""Bad and odd uploads, generated here (nothing is committed): images for senet_lib.images and the dashboard,
and checkpoints that are not what they claim for senet_lib.checkpoint and the Compare page.

``BAD_IMAGES``: name -> (file name, bytes factory, what the error message must say).
``ODD_IMAGES``: name -> (file name, bytes factory, a note the decoder must report): valid files it repairs.
``CHECKPOINT_CASES``: name -> (genuine pairs -> a (weights, sidecar) pair that is not what it claims, the error).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from senet_lib.checkpoint import save_checkpoint
from senet_lib.models import create_model
from senet_lib.sidecar import make_record


def _save(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_raw(width: int, height: int, bit_depth: int, color_type: int, rows: bytes | None) -> bytes:
    """A PNG written by hand (PIL cannot write 48-bit RGB, nor a header that lies about its size).

    ``rows``: the unfiltered scanlines (each prefixed with filter byte 0); None writes an empty IDAT."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows or b""))
        + _png_chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------------- bad images


def empty() -> bytes:
    return b""


def not_an_image() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" * 20


@cache
def good_jpeg() -> bytes:
    """A 64x64 photo-like JPEG (smooth colours plus noise)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64]
    rgb = np.stack([xx * 4, yy * 4, (xx + yy) * 2], -1) + rng.integers(0, 30, (64, 64, 3))
    return _save(Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)), "JPEG", quality=90)


def truncated_jpeg() -> bytes:
    data = good_jpeg()
    return data[: len(data) // 2]  # the second half of the scan data and the end marker are gone


def bomb_header() -> bytes:
    """About 70 bytes: a PNG header claiming 200,000 x 200,000 pixels (40 gigapixels), no pixel data."""
    return png_raw(200_000, 200_000, 1, 0, None)


@cache
def over_limit() -> bytes:
    """A real, valid 8000 x 8000 (64 megapixel) 1-bit PNG of about 8 KB: over MAX_PIXELS."""
    return _save(Image.new("1", (8000, 8000)), "PNG")


def tiff() -> bytes:
    return _save(Image.new("RGB", (16, 16), (0, 128, 0)), "TIFF")


BAD_IMAGES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "empty file": ("empty.png", empty, "empty (0 bytes)"),
    "non-image renamed .png": ("report.png", not_an_image, "not an image"),
    "truncated JPEG": ("cut.jpg", truncated_jpeg, "truncated or damaged"),
    "decompression bomb (header)": ("bomb.png", bomb_header, "decompression bomb"),
    "over the pixel limit": ("huge-canvas.png", over_limit, "over the limit of 50 megapixels"),
    "unsupported format (TIFF)": ("scan.png", tiff, "TIFF image, a format the dashboard does not read"),
}


# --------------------------------------------------------------------------------------------- odd images


def one_pixel() -> bytes:
    return _save(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG")


def png16_gray() -> bytes:
    """16-bit grayscale: a ramp 0 .. 65535 over 256 columns; column 128 is 0x8080 = 32896 (-> 128)."""
    ramp = (np.arange(256, dtype=np.uint32) * 257).astype(np.uint16)  # (256,) values k * 257
    img = Image.fromarray(np.tile(ramp, (8, 1)))  # uint16 -> mode "I;16"
    assert img.mode == "I;16", img.mode
    return _save(img, "PNG")


def png48_rgb() -> bytes:
    """16-bit-per-channel RGB (48-bit): every pixel (65535, 32896, 0), which is (255, 128, 0) in 8 bits."""
    row = b"\x00" + struct.pack(">HHH", 65535, 32896, 0) * 4
    return png_raw(4, 4, 16, 2, row * 4)


def cmyk_jpeg() -> bytes:
    return _save(Image.new("RGB", (16, 16), (255, 0, 0)).convert("CMYK"), "JPEG", quality=95)


def rgba_png() -> bytes:
    """Left half opaque blue, right half fully transparent, bottom row half-transparent red."""
    px = np.zeros((8, 8, 4), np.uint8)
    px[:, :4] = (0, 0, 255, 255)
    px[7] = (255, 0, 0, 128)
    return _save(Image.fromarray(px, "RGBA"), "PNG")


def palette_png() -> bytes:
    """A palette image whose index 0 is transparent (tRNS): left half index 0, right half green (index 1)."""
    img = Image.new("P", (8, 8), 0)
    img.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    img.paste(1, (4, 0, 8, 8))
    return _save(img, "PNG", transparency=0)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def exif_rotated() -> bytes:
    """Stored 40 x 20 (left half black, right half white) with EXIF orientation 6: upright it is 20 x 40,
    black on top."""
    img = Image.new("L", (40, 20), 0)
    img.paste(255, (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(img.convert("RGB"), "JPEG", quality=95, exif=exif.tobytes())


@cache
def huge_photo() -> bytes:
    """A valid 6000 x 4000 (24 megapixel) JPEG: smooth gradients, about 1 MB."""
    x = np.linspace(0, 255, 6000, dtype=np.float32)
    y = np.linspace(0, 255, 4000, dtype=np.float32)
    rgb = np.empty((4000, 6000, 3), np.uint8)
    rgb[..., 0] = x[None, :]
    rgb[..., 1] = y[:, None]
    rgb[..., 2] = 96
    return _save(Image.fromarray(rgb), "JPEG", quality=80)


ODD_IMAGES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "1x1 image": ("dot.png", one_pixel, "tiny image (1x1)"),
    "16-bit PNG": ("depth16.png", png16_gray, "16-bit image scaled to 8 bits"),
    "48-bit RGB PNG": ("depth48.png", png48_rgb, ""),  # PIL reads it as 8-bit RGB itself
    "CMYK JPEG": ("print.jpg", cmyk_jpeg, "CMYK converted to RGB"),
    "RGBA PNG": ("alpha.png", rgba_png, "transparent pixels composited on white"),
    "palette PNG with transparency": ("palette.png", palette_png, "transparent pixels composited on white"),
    "animated GIF": ("anim.gif", animated_gif, "animated GIF with 3 frames: the first frame is used"),
    "EXIF-rotated photo": ("phone.jpg", exif_rotated, "rotated upright (EXIF orientation 6)"),
    "huge valid photo": ("camera.jpg", huge_photo, "downscaled from 6000x4000 to 1024x683"),
}


# ---------------------------------------------------------------------------------------------- checkpoints

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def make_pair(folder: Path, name: str, model_name: str, seed: int) -> tuple[bytes, bytes]:
    """A checkpoint written by save_checkpoint into ``folder``: (weights bytes, sidecar bytes)."""
    torch.manual_seed(seed)
    model = create_model(model_name)
    meta = {
        "model": model.spec,
        "classes": CLASSES,
        "data": {"image_size": 32},
        "normalization": {"mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26]},
    }
    weights = save_checkpoint(folder / name, model, meta)
    return weights.read_bytes(), weights.with_suffix(".json").read_bytes()


def checkpoint_pairs(folder: Path) -> dict[str, tuple[bytes, bytes]]:
    """Three genuine checkpoints: "se" and "other" (two se_resnet20, different weights), "plain" (resnet20)."""
    return {
        "se": make_pair(folder, "mine", "se_resnet20", 0),
        "other": make_pair(folder, "other", "se_resnet20", 1),
        "plain": make_pair(folder, "plain", "resnet20", 2),
    }


def state_dict_pickle() -> bytes:
    buffer = io.BytesIO()
    torch.save(create_model("se_resnet20").state_dict(), buffer)  # what a .pt file holds: a zip of pickles
    return buffer.getvalue()


def edited(sidecar: bytes, change) -> bytes:
    record = json.loads(sidecar)
    change(record)
    return json.dumps(record).encode()


def sealed(weights: bytes, sidecar: bytes, change=lambda meta: None) -> bytes:
    """The sidecar after ``change``, with a record vouching for it and ``weights``: what a tool saving a wrong
    model spec would write (the checksums cannot catch it; the model rebuilt from it must)."""
    meta = json.loads(sidecar)
    change(meta)
    meta.pop("checkpoint", None)
    return json.dumps({"checkpoint": make_record(Path("x.safetensors"), weights, meta), **meta}).encode()


#: name -> (pairs -> (weights, sidecar) that are not what they claim, what the error must say)
CHECKPOINT_CASES = {
    "random bytes named .safetensors": (
        lambda p: (os.urandom(4096), p["se"][1]),
        "not a readable safetensors file",
    ),
    "a pickle renamed .safetensors": (lambda p: (state_dict_pickle(), p["se"][1]), "PyTorch pickle"),
    "empty weights file": (lambda p: (b"", p["se"][1]), "not a readable safetensors file"),
    "sidecar of another checkpoint": (lambda p: (p["se"][0], p["other"][1]), "sha256 differs"),
    "sidecar with a wrong hash": (
        lambda p: (p["se"][0], edited(p["se"][1], lambda r: r["checkpoint"].update(weights_sha256="0" * 64))),
        "sha256 differs",
    ),
    "sidecar naming another architecture": (
        lambda p: (p["se"][0], sealed(p["se"][0], p["plain"][1])),
        "do not fit model 'resnet20'",
    ),
    "sidecar naming an unknown model": (
        lambda p: (
            p["se"][0],
            sealed(p["se"][0], p["se"][1], lambda r: r["model"].update(name="se_resnet21")),
        ),
        "does not describe a model",
    ),
    "sidecar that is not JSON": (lambda p: (p["se"][0], b"\x00\x01not json"), "not valid JSON"),
    "sidecar without a model spec": (
        lambda p: (p["se"][0], sealed(p["se"][0], p["se"][1], lambda r: r.pop("model"))),
        "lacks the model spec",
    ),
    "sidecar whose model spec was edited": (
        lambda p: (p["se"][0], edited(p["se"][1], lambda r: r["model"].update(gate="tanh"))),
        "were changed after the checkpoint was saved",
    ),
    "sidecar without its checkpoint record": (
        lambda p: (p["se"][0], edited(p["se"][1], lambda r: r.pop("checkpoint"))),
        'no valid "checkpoint" record',
    ),
}

"""Images from users: robust decoding of uploaded files, and the view a model has of them.

:func:`decode_image` turns the bytes of an upload into an RGB PIL image or raises :class:`ImageInputError`
whose message names the problem and the fix. Odd but valid files are repaired and the repair is noted:
16-bit PNGs are scaled to 8 bits, transparency is composited on :data:`BACKGROUND`, CMYK and grayscale are
converted, animations give their first frame, EXIF-rotated photos are turned upright, large photos are
downscaled while decoding. :func:`to_model_input` then resizes and normalises exactly as the model was trained.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torchvision.transforms import InterpolationMode, v2

__all__ = [
    "BACKGROUND",
    "FORMATS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "DecodedImage",
    "ImageInputError",
    "InputFormat",
    "decode_image",
    "input_format",
    "load_image",
    "model_view",
    "to_display",
    "to_model_input",
    "upscale",
]

#: Largest image accepted, in pixels (width x height as stored in the file): 50 megapixels, e.g. 8660x5773.
#: Larger files are refused before any pixel is decoded (a "decompression bomb" claims billions in a few KB).
MAX_PIXELS = 50_000_000
#: Largest file accepted, in bytes (50 MiB).
MAX_BYTES = 50 * 2**20
#: Longer side kept after decoding; bigger images are downscaled (JPEGs already while decoding).
MAX_SIDE = 1024
#: Colour that transparent pixels are composited on (white).
BACKGROUND = (255, 255, 255)
#: PIL format -> the name users know. MPO is a JPEG with extra pictures (many cameras write it).
FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "BMP": "BMP", "GIF": "GIF"}
_FORMAT_LIST = "PNG, JPEG, WebP, BMP or GIF"
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_GRAY_NOTES = {
    "L": "grayscale: its one channel copied to red, green and blue",
    "1": "black-and-white (1 bit): copied to red, green and blue",
    "P": "palette colours looked up into RGB",
}


class ImageInputError(ValueError):
    """An uploaded file that cannot be used as an image; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class DecodedImage:
    """An upload after decoding: the RGB image, its source, and what was done to make it usable."""

    image: Image.Image  # RGB, longer side <= MAX_SIDE
    name: str
    format: str  # "PNG", "JPEG", ...
    file_size: tuple[int, int]  # (width, height) as stored in the file
    notes: tuple[str, ...] = ()  # e.g. "rotated upright (EXIF orientation 6)"


def _open(data: bytes, name: str) -> Image.Image:
    """PIL's lazy open (reads the header only), with every failure turned into an ImageInputError."""
    if not data:
        raise ImageInputError(
            f"{name} is empty (0 bytes): the file or its upload is incomplete. "
            "Upload the file again, or pick another image."
        )
    if len(data) > MAX_BYTES:
        raise ImageInputError(
            f"{name} is {len(data) / 2**20:.1f} MiB, over the {MAX_BYTES // 2**20} MiB limit. "
            f"Downscale or re-compress it (e.g. save as JPEG at {MAX_SIDE} px) and upload it again."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we apply our own, lower limit
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as err:  # PIL's text ("... DOS attack") is not for users
        claimed = re.search(r"\((\d+) pixels\)", str(err))
        size = f"{int(claimed[1]) / 1e6:,.0f} megapixels" if claimed else "more pixels than PIL decodes"
        raise ImageInputError(
            f"{name} claims {size}, over the limit of {MAX_PIXELS / 1e6:.0f} megapixels (a decompression "
            f"bomb or an over-large image). Downscale it below {MAX_PIXELS / 1e6:.0f} megapixels and upload it again."
        ) from err
    except UnidentifiedImageError as err:
        raise ImageInputError(
            f"{name} is not an image that can be read (its first bytes are {data[:8]!r}); it may "
            f"be another kind of file renamed. Upload a {_FORMAT_LIST} image."
        ) from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageInputError(
            f"{name} is damaged: its header cannot be read ({err}). "
            f"Re-export it as {_FORMAT_LIST} and upload it again."
        ) from err


def _check_header(img: Image.Image, name: str) -> None:
    if img.format not in FORMATS:
        raise ImageInputError(
            f"{name} is a {img.format or 'unknown'} image, a format the dashboard does not "
            f"read. Convert it to {_FORMAT_LIST} (e.g. open and 'save as PNG') and upload it again."
        )
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageInputError(f"{name} has no pixels ({width}x{height}). Upload a non-empty image.")
    if width * height > MAX_PIXELS:
        raise ImageInputError(
            f"{name} is {width}x{height} = {width * height / 1e6:,.0f} megapixels, over the "
            f"limit of {MAX_PIXELS / 1e6:.0f} megapixels (a decompression bomb or an over-large "
            f"image). Downscale it below {MAX_PIXELS / 1e6:.0f} megapixels and upload it again."
        )


def _load_pixels(img: Image.Image, name: str, notes: list[str]) -> Image.Image:
    """Decode the first frame; JPEGs are decoded at a reduced scale when much larger than MAX_SIDE."""
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        img.seek(0)
        notes.append(f"animated {FORMATS[img.format]} with {frames} frames: the first frame is used")
    if img.format in ("JPEG", "MPO"):
        img.draft(None, (MAX_SIDE, MAX_SIDE))  # DCT scaling by 1/2, 1/4 or 1/8, never below MAX_SIDE
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageInputError(
            f"{name} is truncated or damaged: its pixel data cannot be decoded ({err}). "
            "The file probably ends early (an interrupted download or copy); upload the "
            "complete file again."
        ) from err
    return img


def _upright(img: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = img.getexif().get(0x0112, 1)  # EXIF Orientation tag
        if orientation in range(2, 9):  # 1: already upright; other values are invalid and ignored
            upright = ImageOps.exif_transpose(img)
            notes.append(f"rotated upright (EXIF orientation {orientation})")
            return upright
    except Exception:  # malformed EXIF (many kinds of errors): keep the image as stored
        notes.append("EXIF metadata unreadable: orientation left as stored")
    return img


def _to_rgb(img: Image.Image, notes: list[str]) -> Image.Image:
    """Any decoded mode -> 8-bit RGB: 16-bit scaled (not clipped), transparency composited on BACKGROUND."""
    if img.mode in _SIXTEEN_BIT:
        values = np.asarray(img, dtype=np.float64)  # (H, W), 0..65535 for 16-bit files
        if img.mode != "I" or values.max(initial=0) > 255:
            values = values / 257.0  # 65535 -> 255
            notes.append("16-bit image scaled to 8 bits")
        notes.append(_GRAY_NOTES["L"])
        return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L").convert("RGB")
    if img.mode == "CMYK":
        notes.append("CMYK converted to RGB")
        return img.convert("RGB")
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        rgba = img.convert("RGBA")
        if rgba.getextrema()[3][0] < 255:  # some pixel is (partly) transparent
            background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
            notes.append(f"transparent pixels composited on white {BACKGROUND}")
            return Image.alpha_composite(background, rgba).convert("RGB")
        return rgba.convert("RGB")
    if img.mode in _GRAY_NOTES:
        notes.append(_GRAY_NOTES[img.mode])
    elif img.mode != "RGB":
        notes.append(f"{img.mode} pixels converted to RGB")
    return img.convert("RGB")


def decode_image(data: bytes, name: str = "image") -> DecodedImage:
    """Bytes of an uploaded file -> :class:`DecodedImage` (RGB, longer side <= MAX_SIDE), or ImageInputError."""
    img = _open(bytes(data), name)
    _check_header(img, name)
    file_size, fmt = img.size, FORMATS[img.format]
    notes: list[str] = []
    try:
        img = _load_pixels(img, name, notes)
        img = _upright(img, notes)
        img = _to_rgb(img, notes)
        if max(img.size) > MAX_SIDE:
            img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    except ImageInputError:
        raise
    # anything else PIL raises on a malformed file: still the file's fault, still clear
    except Exception as err:
        raise ImageInputError(
            f"{name} could not be decoded ({type(err).__name__}: {err}). Re-export it as "
            f"{_FORMAT_LIST} and upload it again."
        ) from err
    if img.size != file_size and img.size != file_size[::-1]:
        notes.append(f"downscaled from {file_size[0]}x{file_size[1]} to {img.size[0]}x{img.size[1]}")
    if min(img.size) < 8:
        notes.append(f"tiny image ({img.size[0]}x{img.size[1]}): it is enlarged to the model's input size")
    return DecodedImage(img, name, fmt, file_size, tuple(notes))


def load_image(data: bytes, name: str = "image") -> Image.Image:
    """Bytes of an uploaded file -> RGB PIL image (see :func:`decode_image`); raises ImageInputError."""
    return decode_image(data, name).image


@dataclass(frozen=True)
class InputFormat:
    """How a model takes images: shorter side resized to ``resize``, centre crop ``size`` x ``size``,
    scaled to [0, 1] and normalised per channel with ``mean`` / ``std``."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: int | None = None  # None: the crop size (the whole image, shorter side = size)
    interpolation: str = "bilinear"

    @classmethod
    def from_meta(cls, meta: Mapping, model: torch.nn.Module | None = None) -> InputFormat:
        """From a checkpoint sidecar: ``normalization`` {mean, std} and ``data.image_size`` (or model.input_size)."""
        norm = meta.get("normalization")
        if not isinstance(norm, Mapping) or not {"mean", "std"} <= set(norm):
            raise ValueError(
                "the checkpoint's sidecar has no 'normalization' {mean, std}; add the per-channel "
                "mean and std the model was trained with (save_checkpoint from train writes them)"
            )
        size = (meta.get("data") or {}).get("image_size") or getattr(model, "input_size", None)
        if not isinstance(size, int):
            raise ValueError(
                "cannot tell the model's input size: the sidecar has no data.image_size and the "
                'model no input_size; add "data": {"image_size": 32} to the sidecar'
            )
        return cls(size, tuple(map(float, norm["mean"])), tuple(map(float, norm["std"])))


def input_format(source) -> InputFormat:
    """An InputFormat; or one read from a checkpoint sidecar (meta dict); or a loaded model's (``.spec``)."""
    if isinstance(source, InputFormat):
        return source
    if isinstance(getattr(source, "input_format", None), InputFormat):  # e.g. a LoadedModel
        return source.input_format
    if isinstance(source, Mapping):
        return InputFormat.from_meta(source)
    raise TypeError(
        f"expected an InputFormat, a checkpoint sidecar dict or a LoadedModel; got {type(source).__name__}"
    )


def _geometry(spec: InputFormat) -> v2.Compose:
    mode = InterpolationMode(spec.interpolation)
    return v2.Compose(
        [
            v2.Resize(spec.resize or spec.size, interpolation=mode, antialias=True),
            v2.CenterCrop(spec.size),
            v2.PILToTensor(),
        ]
    )


def model_view(image: Image.Image, spec) -> torch.Tensor:
    """The pixels the model sees, before normalisation: uint8 (3, S, S)."""
    return _geometry(input_format(spec))(image.convert("RGB"))


def to_model_input(image: Image.Image, spec) -> torch.Tensor:
    """RGB image -> normalised float batch (1, 3, S, S), as in training: x / 255, then (x - mean) / std.

    ``spec``: an InputFormat, a checkpoint sidecar (meta dict) or a LoadedModel."""
    spec = input_format(spec)
    x = v2.ToDtype(torch.float32, scale=True)(model_view(image, spec))  # (3, S, S) uint8 -> float in [0, 1]
    return v2.Normalize(spec.mean, spec.std)(x)[None]  # (3, S, S) -> (1, 3, S, S)


def to_display(x: torch.Tensor, spec) -> np.ndarray:
    """Inverse of :func:`to_model_input`: a normalised (1, 3, S, S) or (3, S, S) tensor -> uint8 (S, S, 3)."""
    spec = input_format(spec)
    x = x.detach().cpu().float().reshape(3, *x.shape[-2:])  # (1, 3, S, S) -> (3, S, S)
    mean, std = torch.tensor(spec.mean)[:, None, None], torch.tensor(spec.std)[:, None, None]
    pixels = ((x * std + mean).clamp(0, 1) * 255).round().to(torch.uint8)
    return pixels.permute(1, 2, 0).numpy()  # (3, S, S) -> (S, S, 3)


def upscale(pixels: np.ndarray | torch.Tensor | Image.Image, factor: int) -> Image.Image:
    """Enlarge by an integer ``factor`` with nearest-neighbour, so each model pixel stays a visible square."""
    if isinstance(pixels, torch.Tensor):  # (3, H, W) -> (H, W, 3)
        pixels = pixels.permute(1, 2, 0).numpy() if pixels.shape[0] == 3 else pixels.numpy()
    img = pixels if isinstance(pixels, Image.Image) else Image.fromarray(np.asarray(pixels, dtype=np.uint8))
    return img.resize((img.width * factor, img.height * factor), Image.Resampling.NEAREST)

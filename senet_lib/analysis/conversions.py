"""Every step from an uploaded file to the model's input, in words: what decoding repaired, how the picture
was resized and cropped to the model's S x S view, and how its pixels were normalised.

:func:`conversion_notes` lists them for one image and one model; the dashboard prints them beside the
original and the view, so a photo that loses its edges to the centre crop says so.
"""

from __future__ import annotations

from senet_lib.analysis.images import DecodedImage, InputFormat

__all__ = ["conversion_notes", "resized_size"]


def resized_size(width: int, height: int, target: int) -> tuple[int, int]:
    """(width, height) after resizing the shorter side to ``target``, keeping the aspect ratio as torchvision's
    ``Resize(target)`` does (the longer side is truncated to an integer)."""
    if width <= height:
        return target, int(target * height / width)
    return int(target * width / height), target


def _crop_note(width: int, height: int, size: int) -> str | None:
    """What the centre crop of ``size`` x ``size`` cuts from a (width, height) picture, or None if nothing."""
    cut_w, cut_h = width - size, height - size
    if cut_w <= 0 and cut_h <= 0:
        return None
    axis, cut, total = ("width", cut_w, width) if cut_w > 0 else ("height", cut_h, height)
    first = int(round(cut / 2.0))  # torchvision's centre crop: round((W - S) / 2) from the left / top
    sides = ("left", "right") if axis == "width" else ("top", "bottom")
    return (
        f"centre crop {size}x{size}: {first} px cut on the {sides[0]} and {cut - first} on the {sides[1]} "
        f"({cut / total:.0%} of the {axis}); the model never sees them"
    )


def conversion_notes(decoded: DecodedImage, spec: InputFormat) -> list[str]:
    """Each change between the file and the model's normalised input, in order."""
    notes = [f"{decoded.format} file, {decoded.file_size[0]}x{decoded.file_size[1]} pixels"]
    notes += list(decoded.notes)
    width, height = decoded.image.size
    short = spec.resize or spec.size
    new_w, new_h = resized_size(width, height, short)
    if (new_w, new_h) != (width, height):
        verb = "enlarged" if min(width, height) < short else "shrunk"
        notes.append(
            f"{verb} from {width}x{height} to {new_w}x{new_h} (shorter side to {short}, {spec.interpolation})"
        )
    if crop := _crop_note(new_w, new_h, spec.size):
        notes.append(crop)
    mean = ", ".join(f"{v:.3f}" for v in spec.mean)
    std = ", ".join(f"{v:.3f}" for v in spec.std)
    notes.append(
        f"pixels scaled to [0, 1], then per channel (R, G, B) minus the training mean ({mean}) "
        f"and divided by its std ({std})"
    )
    return notes

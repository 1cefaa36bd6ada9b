"""The images a session works with: the shipped samples that fit the model, and its own uploads and photos.

An upload is decoded as it arrives: a usable file joins the session's library (its bytes, name and, once the
user gives it, its true class); an unusable one is refused with one message naming the problem and the fix,
and leaves the uploader empty, so it never lingers. Decoding is cached by the sha256 of the file's bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from senet_lib.analysis.catalog import Sample, list_samples, samples_fit
from senet_lib.analysis.images import DecodedImage, ImageInputError, decode_image

from . import state

#: Images a session keeps (uploads and photos); the oldest goes when another arrives.
MAX_IMAGES = 12
UNKNOWN = "unknown"  # the true-class picker's "I do not know"


@dataclass(frozen=True)
class InputImage:
    """One chosen image, decoded; ``sha`` (of the file's bytes) keys every cached result."""

    name: str
    sha: str
    decoded: DecodedImage
    true_class: str | None = None  # the samples': from the file name; an upload's: as the user set it
    sample: bool = False


@st.cache_data(max_entries=256, show_spinner=False)
def _decode(sha: str, _data: bytes, name: str) -> tuple[DecodedImage | None, str | None]:
    try:
        return decode_image(_data, name), None
    except ImageInputError as err:
        return None, str(err)


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_image(name: str, data: bytes, true_class: str | None = None, sample: bool = False) -> InputImage:
    """Decode once per file content; raises ImageInputError (its message: the problem and the fix)."""
    sha = sha_of(data)
    decoded, error = _decode(sha, data, name)
    if error is not None:
        raise ImageInputError(error)
    return InputImage(name, sha, decoded, true_class, sample)


@st.cache_data(show_spinner=False)
def samples() -> list[Sample]:
    return list_samples()


def fitting_samples(classes: list[str]) -> list[Sample]:
    """The shipped samples when they were made for these classes, else none."""
    found = samples()
    return found if samples_fit(classes, found) else []


# ------------------------------------------------------------------------------------------ the library


def uploads() -> dict[str, dict]:
    """This session's uploads and photos by sha: {"name", "data"}, oldest first."""
    return st.session_state.setdefault("library", {})


def truth_key(sha: str) -> str:
    return f"keep.truth.{sha[:16]}"


def add_files(files: list[tuple[str, bytes]]) -> None:
    """Decode each (name, bytes): usable ones join the library, each refused one queues a message."""
    library = uploads()
    for name, data in files:
        try:
            image = read_image(name, data)
        except ImageInputError as err:
            state.say_once("error", f"Not used: {err}")
            continue
        library.pop(image.sha, None)  # the same file again: moved to the end, not doubled
        library[image.sha] = {"name": name, "data": data}
        while len(library) > MAX_IMAGES:
            dropped = library.pop(next(iter(library)))
            state.say_once(
                "info", f"{dropped['name']} was let go: a session keeps {MAX_IMAGES} images at most."
            )


def remove(sha: str) -> None:
    uploads().pop(sha, None)
    st.session_state.pop(truth_key(sha), None)


def chosen_images(classes: list[str]) -> list[InputImage]:
    """The uploads (newest first), then the samples picked in the sidebar that fit the model's classes."""
    images = []
    for sha, entry in reversed(uploads().items()):
        truth = st.session_state.get(truth_key(sha), UNKNOWN)
        image = read_image(entry["name"], entry["data"])
        images.append(InputImage(image.name, sha, image.decoded, truth if truth in classes else None))
    by_name = {s.name.removesuffix(".jpg"): s for s in fitting_samples(classes)}
    for stem in st.session_state.get("keep.samples", []):
        if stem in by_name:
            sample = by_name[stem]
            images.append(read_image(sample.name, sample.path.read_bytes(), sample.true_class, sample=True))
    return images


def pick(key: str, images: list[InputImage], label: str = "Image", default: int = 0) -> InputImage:
    """A picker over the chosen images, its choice kept across pages under ``keep.<key>`` (by sha)."""
    if len(images) == 1:
        return images[0]
    by_sha = {im.sha: im for im in images}
    names = [im.name for im in images]
    labels = {im.sha: im.name if names.count(im.name) == 1 else f"{im.name} ({im.sha[:6]})" for im in images}
    widget = state.choose(f"keep.{key}", list(by_sha), images[min(default, len(images) - 1)].sha)
    return by_sha[st.selectbox(label, list(by_sha), format_func=labels.__getitem__, key=widget)]

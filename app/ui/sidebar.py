"""The sidebar, drawn once per run by the entry script: the model (shipped or your own checkpoint) and the images
(samples that fit it, uploads, the camera, each upload's true class). Pages read the choice through
:func:`ui.models.current_model` and :func:`chosen`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from senet_lib.analysis.catalog import data_info, samples_held_out
from senet_lib.analysis.images import MAX_BYTES, MAX_PIXELS
from senet_lib.checkpoint import CheckpointError

from . import library, models, state

IMAGE_FORMATS = "PNG, JPEG, WebP, BMP or GIF (first frame)"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".tar")
DEFAULT_SAMPLES = ["cat_1"]


def _round(kind: str) -> int:
    """The uploaders are emptied after each upload by giving them a new key: ``<kind>-<round>``."""
    return st.session_state.setdefault(f"round.{kind}", 0)


def _next_round(kind: str) -> None:
    st.session_state[f"round.{kind}"] = _round(kind) + 1


def _take_images() -> None:
    files = st.session_state.get(f"images-{_round('images')}") or []
    library.add_files([(f.name, f.getvalue()) for f in files])
    _next_round("images")


def _take_photo() -> None:
    photo = st.session_state.get(f"camera-{_round('camera')}")
    if photo is not None:
        library.add_files([(f"photo-{_round('camera') + 1}.jpg", photo.getvalue())])
    _next_round("camera")


def checkpoint_problem(names: list[str]) -> str | None:
    """Why a set of uploaded files is not one checkpoint (weights + sidecar), or None."""
    if pickles := [n for n in names if Path(n).suffix.lower() in PICKLE_SUFFIXES]:
        return (
            f"{', '.join(pickles)}: PyTorch pickle files are never opened here, because unpickling can run "
            "arbitrary code. Convert the model where you trust the file, with "
            "`senet_lib.checkpoint.save_checkpoint(path, model, meta)`, and upload the .safetensors and .json "
            "it writes."
        )
    if len(names) != 2 or {Path(n).suffix.lower() for n in names} != {".safetensors", ".json"}:
        return (
            f"Got {', '.join(names)}. Upload exactly two files: the weights (.safetensors) and their sidecar "
            "(.json, with the model name, classes and normalisation) as written by save_checkpoint."
        )
    return None


def _take_checkpoint() -> None:
    files = st.session_state.get(f"checkpoint-{_round('checkpoint')}") or []
    _next_round("checkpoint")
    if not files:
        return
    if problem := checkpoint_problem([f.name for f in files]):
        state.say_once("error", f"Checkpoint not used: {problem}")
        return
    by_suffix = {Path(f.name).suffix.lower(): f for f in files}
    weights, sidecar = by_suffix[".safetensors"], by_suffix[".json"]
    try:
        model = models.load_uploaded(weights.getvalue(), sidecar.getvalue(), weights.name)
    except CheckpointError as err:
        state.say_once("error", f"The uploaded checkpoint cannot be used: {err}")
        return
    uploads = models.uploaded_checkpoints()
    label = f"uploaded: {weights.name}"
    uploads.pop(label, None)
    uploads[label] = (weights.getvalue(), sidecar.getvalue(), weights.name)
    while len(uploads) > models.MAX_UPLOADED_CHECKPOINTS:
        uploads.pop(next(iter(uploads)))
    st.session_state["model"] = label  # chosen at once
    state.say_once("success", f"Loaded {model.loaded.label}; it is chosen in the sidebar now.")


def _model_section() -> models.Model:
    options = models.model_options()
    st.header("Model")
    st.selectbox(
        "Checkpoint",
        options,
        key=state.choose("model", options, options[0]),
        help="The trained checkpoints in data/checkpoints (an SE network first), and yours.",
    )
    with st.expander("Use your own checkpoint"):
        st.file_uploader(
            "Its .safetensors weights and .json sidecar",
            accept_multiple_files=True,
            key=f"checkpoint-{_round('checkpoint')}",
            on_change=_take_checkpoint,
            help="safetensors + JSON only: they are data, so opening them runs no code. Pickles "
            "(.pt, .pth, .bin, .ckpt) are refused.",
        )
    try:
        return models.load_choice(st.session_state["model"])
    except (CheckpointError, OSError, ValueError) as err:
        st.error(f"The checkpoint {st.session_state['model']} cannot be loaded: {err}")
        st.stop()


def _samples_section(model: models.Model) -> None:
    loaded = model.loaded
    found = library.fitting_samples(loaded.classes)
    if not found:
        classes = sorted({s.true_class for s in library.samples()})
        st.caption(
            f"The shipped samples are images of {', '.join(classes[:4])}, ...; {loaded.name} knows other "
            f"classes ({', '.join(loaded.classes[:4])}{', ...' if len(loaded.classes) > 4 else ''}), so none "
            "is offered. Upload images of its classes."
        )
        return
    where = (
        "held out of its training: it never saw them"
        if samples_held_out(loaded.meta)
        else f"maybe among its training images (its data: {data_info(loaded.meta).dataset or 'not stated'})"
    )
    stems = [s.name.removesuffix(".jpg") for s in found]
    st.multiselect(
        "Sample images",
        stems,
        key=state.choose("keep.samples", stems, [s for s in DEFAULT_SAMPLES if s in stems]),
        help=f"{len(stems)} images of the model's classes, {where}.",
    )


def _uploads_section(classes: list[str]) -> None:
    st.file_uploader(
        "Upload images",
        accept_multiple_files=True,
        key=f"images-{_round('images')}",
        on_change=_take_images,
        max_upload_size=MAX_BYTES // 2**20,
        help=f"{IMAGE_FORMATS}; at most {MAX_PIXELS / 1e6:.0f} megapixels and {MAX_BYTES // 2**20} MiB each. "
        "Nothing leaves this machine.",
    )
    if st.toggle("Use the camera", key="camera-on", help="Your browser asks for the camera first."):
        st.camera_input("Take a photo", key=f"camera-{_round('camera')}", on_change=_take_photo)
    options = [library.UNKNOWN, *classes]
    for sha, entry in reversed(library.uploads().items()):
        name_col, remove_col = st.columns([5, 1], vertical_alignment="bottom")
        name_col.selectbox(
            f"True class of {entry['name']}",
            options,
            key=state.choose(library.truth_key(sha), options, library.UNKNOWN),
            help="If you know what it shows: pages then compare the prediction with it.",
        )
        remove_col.button(
            "",
            icon=":material/close:",
            key=f"remove-{sha[:16]}",
            on_click=library.remove,
            args=(sha,),
            help=f"Take {entry['name']} away",
        )


def draw() -> None:
    """The sidebar; stops the run with an error box when the chosen checkpoint cannot be loaded."""
    with st.sidebar:
        model = _model_section()
        st.header("Images")
        _samples_section(model)
        _uploads_section(model.loaded.classes)


def chosen() -> list[library.InputImage]:
    """The images chosen in the sidebar for the current model."""
    return library.chosen_images(models.current_model().loaded.classes)

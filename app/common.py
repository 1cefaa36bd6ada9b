"""What every page of the dashboard shares: cached models, the sidebar (model and images) with the page set-up,
the model's view of an image with its top-5, and figures with the CSV of their numbers.

UI only: decoding, preprocessing, inference, excitations and figures all come from ``senet_lib``.
Models load once per process (``st.cache_resource``); decoded images are cached by the sha256 of the
file's bytes (``st.cache_data``), as are the per-image results in ``results.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from senet_lib.analysis.export import figure_csv
from senet_lib.analysis.images import (
    MAX_BYTES,
    MAX_PIXELS,
    DecodedImage,
    ImageInputError,
    decode_image,
    model_view,
    upscale,
)
from senet_lib.analysis.inspection import Inspection, LoadedModel
from senet_lib.analysis.torchvision_se import (
    WeightsUnavailable,
    fetch_weights,
    load_torchvision_se,
    random_weights_notice,
)
from senet_lib.checkpoint import CheckpointError
from senet_lib.paths import checkpoints_dir, samples_dir

CHECKPOINTS = checkpoints_dir()
SAMPLES = samples_dir()
DEFAULT_MODEL = "se_resnet20"
DEFAULT_SAMPLES = ["cat_1"]
IMAGE_FORMATS = "PNG, JPEG, WebP, BMP or GIF (first frame)"
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU when present
# One image at a time gains nothing from intra-op threads, and they collapse when the cores are busy: on this
# project's 2-core CI machine with a training job running, se_resnet20 took ~600 ms per image with 2 threads
# and ~4 ms with 1 (`python -m senet_lib latency --threads 2` vs `--threads 1`). SENET_THREADS overrides it.
THREADS = int(os.environ.get("SENET_THREADS", "1"))
torch.set_num_threads(THREADS)


@dataclass(frozen=True)
class Model:
    """A model ready for inspection; ``key`` names it in the caches (changes when its weights change)."""

    key: str
    loaded: LoadedModel


@dataclass(frozen=True)
class InputImage:
    """One chosen image, decoded; ``sha`` (of the file's bytes) keys every cached result."""

    name: str
    sha: str
    decoded: DecodedImage
    true_class: str | None = None  # known for the samples (from the file name)


# ----------------------------------------------------------------------------------------------- models


def shipped_checkpoints() -> list[str]:
    """Stems of the checkpoints in data/checkpoints (weights + sidecar), the default first."""
    stems = sorted(p.stem for p in CHECKPOINTS.glob("*.safetensors") if p.with_suffix(".json").is_file())
    return sorted(stems, key=lambda s: s != DEFAULT_MODEL)


@st.cache_resource(show_spinner="Loading the checkpoint ...", max_entries=8)
def _load_checkpoint(stem: str, device: str, version: str) -> LoadedModel:
    return LoadedModel.from_checkpoint(CHECKPOINTS / stem, device)


def load_checkpoint(stem: str) -> Model:
    """A shipped checkpoint, loaded once per process (again when retraining or profiling replaces a file)."""
    version = "-".join(
        str((CHECKPOINTS / f"{stem}{suffix}").stat().st_mtime_ns) for suffix in (".safetensors", ".json")
    )
    return Model(f"ckpt:{stem}:{version}", _load_checkpoint(stem, DEVICE, version))


@st.cache_resource(show_spinner="Checking the uploaded checkpoint ...", max_entries=4)
def _load_uploaded(sha: str, _weights: bytes, _sidecar: bytes, name: str, device: str) -> LoadedModel:
    return LoadedModel.from_bytes(_weights, _sidecar, name, device)


def load_uploaded(weights: bytes, sidecar: bytes, name: str) -> Model:
    """A user's checkpoint (.safetensors + .json sidecar); raises CheckpointError saying what is wrong."""
    sha = hashlib.sha256(weights + b"\0" + sidecar).hexdigest()
    return Model(f"upload:{sha}", _load_uploaded(sha, weights, sidecar, name, DEVICE))


@st.cache_resource(show_spinner="Building the torchvision network ...", max_entries=4)
def _load_torchvision(name: str, device: str) -> LoadedModel:
    return load_torchvision_se(name, device)  # never downloads: ImageNet weights only if in the hub cache


def load_torchvision(name: str, download: bool = False) -> Model:
    """A torchvision SE network: ImageNet weights if in the torch hub cache, else random weights and a notice.

    ``download``: try to fetch the weights first (each time it is asked: the network may be back)."""
    failure = None
    if download:
        try:
            fetch_weights(name, allow_download=True)  # into the hub cache
            _load_torchvision.clear()  # the random-weight copy is outdated now
        except WeightsUnavailable as err:
            failure = random_weights_notice(err)
    loaded = _load_torchvision(name, DEVICE)
    if failure and loaded.notice:  # say why the download did not help
        loaded = dataclasses.replace(loaded, notice=failure)
    return Model(f"tv:{name}:{'pretrained' if loaded.notice is None else 'random'}", loaded)


@st.cache_resource
def model_lock(key: str) -> threading.Lock:
    """One lock per model: its forward hooks are shared by every session of this process."""
    return threading.Lock()


def current_model() -> Model:
    """The model picked in the sidebar (set by setup_page on every run)."""
    return st.session_state["_model"]


# ----------------------------------------------------------------------------------------------- images


@st.cache_data(max_entries=256, show_spinner=False)
def _decode(sha: str, _data: bytes, name: str) -> tuple[DecodedImage | None, str | None]:
    try:
        return decode_image(_data, name), None
    except ImageInputError as err:
        return None, str(err)


def read_image(name: str, data: bytes, true_class: str | None = None) -> InputImage:
    """Decode once per file content; raises ImageInputError (its message: the problem and the fix)."""
    sha = hashlib.sha256(data).hexdigest()
    decoded, error = _decode(sha, data, name)
    if error is not None:
        raise ImageInputError(error)
    return InputImage(name, sha, decoded, true_class)


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.jpg"))


def collect_images(
    samples: list[str], uploads: list[tuple[str, bytes]]
) -> tuple[list[InputImage], list[tuple[str, str]]]:
    """The chosen images, uploads ``(name, bytes)`` first, and ``(name, message)`` for each unusable upload."""
    images, problems = [], []
    for name, data in uploads:
        try:
            images.append(read_image(name, data))
        except ImageInputError as err:
            problems.append((name, str(err)))
    for stem in samples:
        path = SAMPLES / f"{stem}.jpg"
        images.append(read_image(path.name, path.read_bytes(), stem.rsplit("_", 1)[0]))
    return images, problems


def _remember(key: str) -> None:
    """on_change of a sidebar widget: keep its value under ``_<key>``, where every page's sidebar reads it."""
    value = st.session_state.get(key)
    if key == "uploads":  # the uploader cannot be set from code: keep the files' bytes instead
        value = [(f.name, f.getvalue()) for f in value or []]
    st.session_state[f"_{key}"] = value


def _forget_uploads() -> None:
    st.session_state["_uploads"] = []


def sidebar() -> None:
    """Model and image pickers, drawn by every page; their choice lands in st.session_state for the page.

    Each page has its own widgets, so the last choice is kept under ``_model_choice``, ``_samples`` and
    ``_uploads`` (by on_change) and set as the widgets' initial value on the next page."""
    uploaded_models = st.session_state.get("_uploaded_models", {})
    options = shipped_checkpoints() + list(uploaded_models)
    kept = st.session_state.get("_model_choice")
    with st.sidebar:
        st.header("Model")
        choice = st.selectbox(
            "Checkpoint",
            options,
            index=options.index(kept) if kept in options else 0,
            key="model_choice",
            on_change=_remember,
            args=("model_choice",),
            help="The CIFAR-10 checkpoints in data/checkpoints; a checkpoint uploaded on the "
            "Compare page is listed here too.",
        )
        st.header("Images")
        samples = st.multiselect(
            "CIFAR-10 samples (validation hold-out)",
            sample_names(),
            default=st.session_state.get("_samples", DEFAULT_SAMPLES),
            key="samples",
            on_change=_remember,
            args=("samples",),
        )
        st.file_uploader(
            "Upload images",
            accept_multiple_files=True,
            key="uploads",
            on_change=_remember,
            args=("uploads",),
            max_upload_size=MAX_BYTES // 2**20,
            help=f"{IMAGE_FORMATS}; at most {MAX_PIXELS / 1e6:.0f} megapixels and {MAX_BYTES // 2**20} MiB each. "
            "Nothing leaves this machine.",
        )
        uploads = st.session_state.get("_uploads", [])
        if uploads and not st.session_state.get("uploads"):  # uploaded on another page
            st.caption("Uploaded before: " + ", ".join(name for name, _ in uploads))
            st.button("Forget the uploaded images", on_click=_forget_uploads, key="forget-uploads")
    try:
        model = uploaded_models[choice] if choice in uploaded_models else load_checkpoint(choice)
    except (CheckpointError, OSError, ValueError) as err:
        st.error(f"The checkpoint {choice} cannot be loaded: {err}")
        st.stop()
    images, problems = collect_images(samples, uploads)
    st.session_state.update(_model=model, _images=images, _problems=problems)


def setup_page(title: str, heading: str | None = None, intro: str | None = None) -> Model:
    """What every page does first: page settings, the sidebar, an error box per unusable upload, then the
    page's ``heading`` and ``intro`` and the model's notice. Returns the model picked in the sidebar."""
    st.set_page_config(page_title=f"{title} · SENet Lab", page_icon=":material/bubble_chart:", layout="wide")
    sidebar()
    show_input_problems()
    if heading:
        st.title(heading)
    if intro:
        st.markdown(intro)
    model = current_model()
    show_notice(model)
    return model


def show_input_problems() -> None:
    """One error box per upload that could not be used; the page carries on with the other images."""
    for name, message in st.session_state.get("_problems", []):
        st.error(f"**{name}** was not used. {message}", icon=":material/error:")


def chosen_images() -> list[InputImage]:
    return st.session_state.get("_images", [])


def pick_image(key: str) -> InputImage | None:
    """The image a page works on: a selectbox when several are chosen; None (with a hint) when there is none."""
    images = chosen_images()
    if not images:
        st.info("Choose a CIFAR-10 sample or upload an image in the sidebar to start.")
        return None
    if len(images) == 1:
        return images[0]
    names = [im.name for im in images]
    labels = [name if names.count(name) == 1 else f"{name} (#{i + 1})" for i, name in enumerate(names)]
    return images[st.selectbox("Image", range(len(images)), format_func=labels.__getitem__, key=key)]


def file_stem(image: InputImage) -> str:
    return Path(image.name).stem.replace(" ", "_")


# ------------------------------------------------------------------------------------------------ display


def show_notice(model: Model) -> None:
    """The model's notice (e.g. random weights), if any, as a warning."""
    if model.loaded.notice:
        st.warning(model.loaded.notice, icon=":material/warning:")


def require_se(model: Model) -> bool:
    """False (with a message) when the chosen model has no SE layers."""
    if model.loaded.se_layers:
        return True
    st.warning(
        f"{model.loaded.label} has no SE layers, so there are no excitations to show. Choose an SE model "
        f"(e.g. {DEFAULT_MODEL}) in the sidebar; the Compare page puts it beside its plain twin."
    )
    return False


def prediction_line(result: Inspection) -> str:
    cls, p = result.top_k(1)[0]
    return f"Predicted: **{cls}** ({p:.1%})"


def top_k_table(result: Inspection, k: int = 5) -> None:
    """The k most probable classes with probability bars."""
    top = result.top_k(k)
    rows = {"class": [c for c, _ in top], "probability": [p for _, p in top]}
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "probability": st.column_config.ProgressColumn(
                "probability", format="percent", min_value=0.0, max_value=1.0
            )
        },
    )


def show_view(model: Model, image: InputImage) -> None:
    """The image as the model sees it (resized and cropped to its input), enlarged with visible pixels."""
    spec = model.loaded.input_format
    factor = max(1, 160 // spec.size)
    caption = f"{image.name} as the model sees it: {spec.size}x{spec.size}" + (
        f", shown x{factor}" if factor > 1 else ""
    )
    st.image(upscale(model_view(image.decoded.image, spec), factor), caption=caption)


def show_image_result(model: Model, image: InputImage, result: Inspection, k: int = 5) -> None:
    """The model's view of the image, its top-k prediction, and what loading the file changed."""
    left, right = st.columns([1, 2])
    with left:
        show_view(model, image)
    with right:
        truth = f" · true class: {image.true_class}" if image.true_class else ""
        st.markdown(prediction_line(result) + truth)
        top_k_table(result, k)
        if image.decoded.notes:
            st.caption("Adjusted on load: " + "; ".join(image.decoded.notes) + ".")


def show_figure(fig, name: str, caption: str | None = None) -> None:
    """A plotly figure (its toolbar's camera saves a PNG) and a button for the numbers behind it as CSV."""
    st.plotly_chart(
        fig,
        key=f"fig-{name}",
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
        },
    )
    if caption:
        st.caption(caption)
    st.download_button(
        "Download the numbers (CSV)",
        figure_csv(fig),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        on_click="ignore",
        icon=":material/download:",
    )

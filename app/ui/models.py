"""Models for the dashboard, loaded once per process: the shipped checkpoints, the ones a session uploads,
torchvision's SE networks; each SE checkpoint's plain twin and the evaluations that ship beside them.

Which checkpoint comes first, which is whose twin and what the data was all come from the sidecars
(``senet_lib.analysis.catalog``); this module only caches and hands them to the pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
from dataclasses import dataclass

import streamlit as st
import torch

from senet_lib.analysis.catalog import default_checkpoint, find_twin
from senet_lib.analysis.evaluation import EvalReport, read_eval
from senet_lib.analysis.inspection import LoadedModel
from senet_lib.analysis.torchvision_se import (
    WeightsUnavailable,
    fetch_weights,
    load_torchvision_se,
    random_weights_notice,
)
from senet_lib.paths import checkpoints_dir
from senet_lib.shipped import list_pretrained

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # a GPU when present
#: Uploaded checkpoints a session keeps (their bytes stay in the session; the models in a shared cache).
MAX_UPLOADED_CHECKPOINTS = 3


@dataclass(frozen=True)
class Model:
    """A model ready for inspection; ``key`` names it in the caches (changes when its weights change)."""

    key: str
    loaded: LoadedModel
    stem: str | None = None  # the shipped checkpoint's name, None for others


@st.cache_resource
def configure_torch() -> int:
    """Once per process: torch's CPU threads (``SENET_THREADS``, default 1). One image at a time gains nothing
    from intra-op threads, and they collapse when the cores are busy: se_resnet20 took ~600 ms per image with
    2 threads and ~4 ms with 1 on this project's 2-core machine under load (`senet latency --threads`)."""
    threads = int(os.environ.get("SENET_THREADS", "1"))
    torch.set_num_threads(threads)
    return threads


@st.cache_resource
def model_lock(key: str) -> threading.Lock:
    """One lock per model: its forward hooks are shared by every session of this process."""
    return threading.Lock()


# ------------------------------------------------------------------------------------------- shipped


def _version(stem: str) -> str:
    """Changes when retraining, profiling or probing replaces a file of the checkpoint."""
    files = [checkpoints_dir() / f"{stem}{suffix}" for suffix in (".safetensors", ".json", ".eval.json")]
    return "-".join(str(p.stat().st_mtime_ns) if p.is_file() else "0" for p in files)


def shipped_names() -> list[str]:
    """The shipped checkpoints, the default first (se_resnet56 if shipped, else se_resnet20)."""
    names = list_pretrained()
    first = default_checkpoint(names)
    return sorted(names, key=lambda n: n != first)


@st.cache_data(max_entries=32, show_spinner=False)
def _sidecar(stem: str, version: str) -> dict:
    return json.loads((checkpoints_dir() / f"{stem}.json").read_text())


def sidecar(stem: str) -> dict:
    return _sidecar(stem, _version(stem))


@st.cache_resource(show_spinner="Loading the checkpoint ...", max_entries=8)
def _load_checkpoint(stem: str, device: str, version: str) -> LoadedModel:
    return LoadedModel.from_checkpoint(checkpoints_dir() / stem, device)


def load_checkpoint(stem: str) -> Model:
    """A shipped checkpoint, loaded once per process (raises CheckpointError / OSError when it cannot be)."""
    version = _version(stem)
    return Model(f"ckpt:{stem}:{version}", _load_checkpoint(stem, DEVICE, version), stem)


@st.cache_data(max_entries=16, show_spinner=False)
def _evaluation(stem: str, version: str) -> EvalReport | None:
    return read_eval(checkpoints_dir() / stem)


def evaluation(model: Model) -> EvalReport | None:
    """The evaluation shipped beside a checkpoint (``<name>.eval.json``), None for others or when absent."""
    return _evaluation(model.stem, _version(model.stem)) if model.stem else None


def twin(model: Model) -> Model | None:
    """The shipped checkpoint that is the same experiment with SE taken out (or put in), by the sidecars."""
    others = {name: sidecar(name) for name in shipped_names() if name != model.stem}
    name = find_twin(model.loaded.meta, others)
    return load_checkpoint(name) if name else None


# ------------------------------------------------------------------------------------------ uploaded


@st.cache_resource(show_spinner="Checking the uploaded checkpoint ...", max_entries=4)
def _load_uploaded(sha: str, _weights: bytes, _sidecar: bytes, name: str, device: str) -> LoadedModel:
    return LoadedModel.from_bytes(_weights, _sidecar, name, device)


def load_uploaded(weights: bytes, sidecar_bytes: bytes, name: str) -> Model:
    """A user's checkpoint (.safetensors + .json sidecar); raises CheckpointError saying what is wrong."""
    sha = hashlib.sha256(weights + b"\0" + sidecar_bytes).hexdigest()
    return Model(f"upload:{sha}", _load_uploaded(sha, weights, sidecar_bytes, name, DEVICE))


def uploaded_checkpoints() -> dict[str, tuple[bytes, bytes, str]]:
    """This session's uploaded checkpoints: label -> (weights, sidecar, file name)."""
    return st.session_state.setdefault("checkpoints", {})


# --------------------------------------------------------------------------------------- torchvision


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


# ----------------------------------------------------------------------------------------- the choice


def model_options() -> list[str]:
    """What the sidebar's model picker lists: the shipped checkpoints, then this session's uploads."""
    return shipped_names() + list(uploaded_checkpoints())


def load_choice(choice: str) -> Model:
    """The model behind a picker entry (shipped name or upload label)."""
    uploads = uploaded_checkpoints()
    if choice in uploads:
        weights, sidecar_bytes, name = uploads[choice]
        return load_uploaded(weights, sidecar_bytes, name)
    return load_checkpoint(choice)


def current_model() -> Model:
    """The model chosen in the sidebar (the sidebar has checked that it loads)."""
    return load_choice(st.session_state["model"])

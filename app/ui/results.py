"""Per-image results, cached: prediction and excitations, attributions, the samples' excitations by class.

Every function is keyed by the model's key and the sha256 of the image file's bytes (plus its own options), so
the same image is never run twice for the same question, whichever page or session asks. The caches have a
bounded number of entries: the oldest results are evicted, so memory stays bounded however many sessions
upload. Work that hooks into a shared model holds that model's lock. The computations are senet_lib's.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st
import torch

from senet_lib.analysis.attribution import gate_attribution, grad_cam, integrated_gradients, saliency
from senet_lib.analysis.images import to_model_input
from senet_lib.analysis.inspection import Inspection, excitations_by_class, inspect

from .library import InputImage, fitting_samples, read_image
from .models import Model, model_lock

ATTRIBUTION_METHODS = ("Integrated Gradients", "Saliency", "Grad-CAM")


def model_input(model: Model, image: InputImage) -> torch.Tensor:
    """The image resized and normalised for the model: (1, 3, S, S)."""
    return to_model_input(image.decoded.image, model.loaded.input_format)


def _overrides_key(overrides: Mapping | None) -> str:
    return repr(sorted((layer, sorted(channels.items())) for layer, channels in (overrides or {}).items()))


@st.cache_data(max_entries=256, show_spinner=False)
def _inspect(
    model_key: str,
    sha: str,
    overrides_key: str,
    _model: Model,
    _image: InputImage,
    _overrides: Mapping | None,
) -> Inspection:
    x = model_input(_model, _image)
    with model_lock(model_key):  # hooks live on the shared model: one forward pass at a time
        return inspect(_model.loaded, x, _overrides)


def inspect_image(model: Model, image: InputImage, overrides: Mapping | None = None) -> Inspection:
    """Prediction and excitations of one image, optionally with gates overridden ({layer: {channel: value}})."""
    return _inspect(model.key, image.sha, _overrides_key(overrides), model, image, overrides)


@st.cache_data(max_entries=64, show_spinner="Computing the attribution ...")
def _attribution(model_key: str, sha: str, method: str, target: int, _model: Model, _image: InputImage):
    net, x = _model.loaded.model, model_input(_model, _image)
    with model_lock(model_key):
        if method == "Integrated Gradients":
            maps = integrated_gradients(net, x, target, steps=32, internal_batch_size=16)
        elif method == "Saliency":
            maps = saliency(net, x, target)
        else:
            maps = grad_cam(net, x, target, layer=_model.loaded.cam_layer)
    return maps[0]  # (1, S, S) -> (S, S)


def attribution_map(model: Model, image: InputImage, method: str, target: int) -> torch.Tensor:
    """An (S, S) input attribution of class ``target``'s score by one of ATTRIBUTION_METHODS."""
    if method not in ATTRIBUTION_METHODS:
        raise ValueError(f"unknown attribution method {method!r}; choose one of {ATTRIBUTION_METHODS}")
    return _attribution(model.key, image.sha, method, target, model, image)


@st.cache_data(max_entries=64, show_spinner="Attributing the score to the SE gates ...")
def _gate_attribution(model_key: str, sha: str, target: int, _model: Model, _image: InputImage) -> dict:
    x = model_input(_model, _image)
    with model_lock(model_key):
        found = gate_attribution(_model.loaded.model, x, target)
    return {name: a[0] for name, a in found.items()}  # (1, C) -> (C,)


def gate_attribution_of(model: Model, image: InputImage, target: int) -> dict[str, torch.Tensor]:
    """Per SE layer, s_c * d logit / d s_c for each channel (C,): the score lost if that gate closed."""
    return _gate_attribution(model.key, image.sha, target, model, image)


@st.cache_data(max_entries=16, show_spinner="Running the sample images ...")
def _sample_excitations(model_key: str, layer: str, _model: Model) -> dict[str, torch.Tensor]:
    found = fitting_samples(_model.loaded.classes)
    labels = [_model.loaded.classes.index(s.true_class) for s in found]
    images = [read_image(s.name, s.path.read_bytes()) for s in found]
    x = torch.cat([model_input(_model, im) for im in images])  # (N, 3, S, S)
    with model_lock(model_key):
        return excitations_by_class(_model.loaded, x, labels, layer)


def sample_excitations(model: Model, layer: str) -> dict[str, torch.Tensor] | None:
    """Excitations (N_k, C) of ``layer`` for the samples, by class; None when no sample fits the model."""
    if not fitting_samples(model.loaded.classes):
        return None
    return _sample_excitations(model.key, layer, model)

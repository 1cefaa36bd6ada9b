"""torchvision's ImageNet networks that contain SE blocks, ready for inspection, with or without their weights.

EfficientNet-B0, MobileNetV3-Small/Large and RegNetY-400MF use ``torchvision.ops.SqueezeExcitation``
(Hu et al.'s block; MobileNetV3 gates with a hard sigmoid). Pretrained weights come from the torch hub
cache (``~/.cache/torch/hub/checkpoints``) or, when asked, a download; offline, :func:`load_torchvision_se`
can still build the architecture with random weights, clearly labelled, so its SE layers can be explored.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path

import torch
import torchvision.models as tvm
from torch import nn

from senet_lib.analysis.images import InputFormat
from senet_lib.analysis.inspection import LoadedModel

__all__ = [
    "TORCHVISION_SE_MODELS",
    "WeightsUnavailable",
    "cached_weights_path",
    "fetch_weights",
    "input_format_for",
    "load_torchvision_se",
    "random_weights_notice",
]

#: Model name -> the layer Grad-CAM reads (the last convolutional feature map).
TORCHVISION_SE_MODELS = {
    "efficientnet_b0": "features",
    "mobilenet_v3_small": "features",
    "mobilenet_v3_large": "features",
    "regnet_y_400mf": "trunk_output",
}
DOWNLOAD_TIMEOUT_S = 20


class WeightsUnavailable(RuntimeError):
    """Pretrained weights could not be obtained (not in the hub cache, and no download allowed or possible)."""


def _weights(name: str) -> tvm.WeightsEnum:
    if name not in TORCHVISION_SE_MODELS:
        raise ValueError(
            f"unknown torchvision SE model {name!r}; choose one of {list(TORCHVISION_SE_MODELS)}"
        )
    return tvm.get_model_weights(name).DEFAULT


def cached_weights_path(name: str) -> Path:
    """Where torch hub keeps (or would keep) the default ImageNet weights of ``name``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(_weights(name).url).name


def input_format_for(name: str) -> InputFormat:
    """The preprocessing of the weights' recipe (e.g. resize 256, crop 224, ImageNet mean/std)."""
    t = _weights(name).transforms()
    return InputFormat(t.crop_size[0], tuple(t.mean), tuple(t.std), t.resize_size[0], t.interpolation.value)


@contextmanager
def _socket_timeout(seconds: float):
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)  # torch.hub's urlopen has no timeout of its own
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def fetch_weights(name: str, allow_download: bool = False) -> dict[str, torch.Tensor]:
    """The ImageNet state dict of ``name``: from the hub cache, else (``allow_download``) downloaded into it.

    Loaded with ``weights_only=True`` (no code runs); raises :class:`WeightsUnavailable` with the reason.
    """
    weights, path = _weights(name), cached_weights_path(name)
    size = f" (about {weights.meta['_file_size']:.0f} MB)" if "_file_size" in weights.meta else ""
    if not path.is_file() and not allow_download:
        raise WeightsUnavailable(
            f"the ImageNet weights of {name} are not in the torch hub cache ({path}); "
            f"download them{size} when online, or copy the file there"
        )
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            return torch.hub.load_state_dict_from_url(
                weights.url, progress=False, check_hash=True, weights_only=True, map_location="cpu"
            )
    except (OSError, RuntimeError, ValueError) as err:  # URLError, timeouts, hash mismatch, damaged file
        raise WeightsUnavailable(
            f"the ImageNet weights of {name} could not be downloaded from {weights.url} "
            f"({type(err).__name__}: {err}); this machine may be offline. Copy the file to "
            f"{path} to use them"
        ) from err


def random_weights_notice(reason: WeightsUnavailable) -> str:
    """What to tell users next to a network built with random weights because of ``reason``."""
    return (
        f"RANDOM WEIGHTS: {reason}. The architecture and its SE layers can be inspected, but the "
        "predictions and excitations mean nothing."
    )


def load_torchvision_se(
    name: str,
    device: str | torch.device = "cpu",
    allow_download: bool = False,
    random_if_unavailable: bool = True,
) -> LoadedModel:
    """``name`` with its ImageNet weights; if they cannot be had, random weights with a notice saying so
    (or :class:`WeightsUnavailable` when ``random_if_unavailable`` is False)."""
    weights = _weights(name)
    model: nn.Module = tvm.get_model(name, weights=None)
    notice = None
    try:
        model.load_state_dict(fetch_weights(name, allow_download))
        label = f"{name} (torchvision, {weights.name} weights)"
    except WeightsUnavailable as err:
        if not random_if_unavailable:
            raise
        notice, label = random_weights_notice(err), f"{name} (torchvision, RANDOM weights: architecture only)"
    spec = input_format_for(name)
    meta = {
        "model": {"name": name, "num_classes": 1000},
        "source": "torchvision",
        "pretrained": notice is None,
    }
    return LoadedModel(
        model.to(device).eval(),
        name,
        label,
        list(weights.meta["categories"]),
        spec,
        meta=meta,
        cam_layer=TORCHVISION_SE_MODELS[name],
        notice=notice,
    )

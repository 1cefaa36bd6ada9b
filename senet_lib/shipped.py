"""The trained models that ship with the project, by name and offline: ``senet_lib.pretrained("se_resnet20")``.

Each lives in ``data/checkpoints/`` as safetensors weights + a JSON sidecar (classes, input normalisation, the
recipe, its training curves beside it). ``hubconf.py`` exposes the same models to ``torch.hub.load``.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.transforms import v2

from senet_lib.checkpoint import checkpoint_paths, load_model, read_meta
from senet_lib.paths import checkpoints_dir

__all__ = ["list_pretrained", "preprocess", "pretrained"]


def list_pretrained() -> list[str]:
    """Names of the shipped trained models (each a weights file with its sidecar in ``data/checkpoints``)."""
    found = []
    for sidecar in sorted(checkpoints_dir().glob("*.json")):
        weights, _ = checkpoint_paths(sidecar)
        if weights.is_file():
            found.append(sidecar.stem)
    return found


def pretrained(name: str, device: str | torch.device = "cpu") -> nn.Module:
    """The shipped trained model ``name`` in eval mode, with ``.classes``, ``.normalization`` and ``.meta``.

    Offline: weights, class names and normalisation all come from the shipped files (sha256-checked).
    """
    available = list_pretrained()
    if name not in available:
        raise ValueError(
            f"no trained {name!r} ships with SENet Lab; trained models: {available} "
            f"(untrained architectures: senet_lib.models.create_model({name!r}))"
        )
    path = checkpoints_dir() / name
    model = load_model(path, device)
    meta = read_meta(path)
    model.classes = list(meta["classes"])
    model.normalization = {
        "mean": list(meta["normalization"]["mean"]),
        "std": list(meta["normalization"]["std"]),
    }
    model.meta = meta
    return model


def preprocess(model: nn.Module) -> v2.Compose:
    """The input transform of a :func:`pretrained` model: a PIL image or uint8 tensor -> normalised (3, S, S).

    Shorter side resized to the model's input size, centre crop, scaled to [0, 1], normalised with the
    training split's per-channel mean and std.
    """
    size = getattr(model, "input_size", 32)
    norm = getattr(model, "normalization", None)
    if norm is None:
        raise ValueError("preprocess needs a model from senet_lib.pretrained (it carries .normalization)")
    return v2.Compose(
        [
            v2.ToImage(),
            v2.Resize(size, antialias=True),
            v2.CenterCrop(size),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(norm["mean"], norm["std"]),
        ]
    )

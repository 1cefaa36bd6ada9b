"""One image through a trained model: its prediction and the excitation of every SE layer, in one forward pass.

:class:`LoadedModel` bundles what inspection needs besides the network: class names, the input format
(resize, crop, normalisation), the class-mean excitation profiles and the per-layer probes from the sidecar.
:func:`inspect` runs the model once, recording the excitations ``s`` (Eq. 3); :func:`inspect` with
``overrides`` replaces chosen gates first (an intervention on Eq. 4) and records what follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from senet_lib.analysis.excitation import GateOverride, override_gates, record_excitations
from senet_lib.analysis.images import InputFormat
from senet_lib.analysis.probe import LayerProbe, probes_from_json
from senet_lib.analysis.profiles import ExcitationProfile, profiles_from_json
from senet_lib.checkpoint import CheckpointError, load_model, load_model_from_bytes, read_meta
from senet_lib.se_layers import find_se_layers

__all__ = ["Inspection", "LoadedModel", "excitations_by_class", "inspect"]


@dataclass
class LoadedModel:
    """A network ready for inspection, with its class names, input format and (optional) class profiles."""

    model: nn.Module  # in eval mode, on its device
    name: str  # registry or torchvision name, e.g. "se_resnet20"
    label: str  # shown to users, e.g. "se_resnet20 (data/checkpoints/se_resnet20)"
    classes: list[str]
    input_format: InputFormat
    profiles: dict[str, ExcitationProfile] = field(default_factory=dict)  # layer -> class means (K, C)
    meta: dict[str, Any] = field(default_factory=dict)  # the sidecar, if any
    probes: dict[str, LayerProbe] = field(default_factory=dict)  # layer -> linear probe on s (K, C)
    cam_layer: str | None = None  # Grad-CAM layer name; None: the last stage `layerK`
    notice: str | None = None  # e.g. "random weights": shown next to every result

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def se_layers(self) -> list[str]:
        """Paper names of the SE layers, in forward order ([] for a plain network)."""
        return list(find_se_layers(self.model))

    @classmethod
    def from_meta(cls, model: nn.Module, meta: dict[str, Any], label: str) -> LoadedModel:
        """Wrap a model rebuilt from a checkpoint, reading classes, normalisation and profiles from ``meta``."""
        classes = meta.get("classes")
        num_classes = meta.get("model", {}).get("num_classes")
        if not isinstance(classes, list) or (num_classes is not None and len(classes) != num_classes):
            raise CheckpointError(
                f'the sidecar of {label} needs "classes": a list of {num_classes or "K"} class '
                "names in label order; add it (training writes it)"
            )
        try:
            input_format = InputFormat.from_meta(meta, model)
            profiles = profiles_from_json(meta["class_profiles"]) if "class_profiles" in meta else {}
            probes = probes_from_json(meta["excitation_probes"]) if "excitation_probes" in meta else {}
        except (ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"the sidecar of {label} cannot be used: {err}") from err
        name, classes = meta["model"]["name"], [str(c) for c in classes]
        return cls(model, name, label, classes, input_format, profiles, meta, probes)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
        """A checkpoint given by its stem (``data/checkpoints/se_resnet20``) or either of its two files."""
        meta = read_meta(path)
        name, stem = meta["model"]["name"], Path(path).name.removesuffix(".safetensors").removesuffix(".json")
        return cls.from_meta(load_model(path, device), meta, name if stem == name else f"{name} ({stem})")

    @classmethod
    def from_bytes(
        cls, weights: bytes, sidecar: bytes, name: str = "uploaded", device: str | torch.device = "cpu"
    ) -> LoadedModel:
        """An uploaded checkpoint: the contents of its ``.safetensors`` and ``.json`` files (never a pickle)."""
        model, meta = load_model_from_bytes(weights, sidecar, name, device)
        return cls.from_meta(model, meta, f"{meta['model']['name']} (uploaded {name})")


@dataclass
class Inspection:
    """One image's logits (K,), probabilities (K,) and excitations per SE layer (C,), all on the CPU."""

    logits: torch.Tensor
    probs: torch.Tensor
    excitations: dict[str, torch.Tensor]
    classes: list[str]

    @property
    def predicted(self) -> int:
        """Index of the most probable class (the first one on a tie)."""
        return int(self.probs.argmax())

    @property
    def predicted_class(self) -> str:
        return self.classes[self.predicted]

    def top_k(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable classes with their probabilities, most probable first."""
        order = torch.argsort(self.probs, descending=True, stable=True)[:k]  # ties: class order, like argmax
        return [(self.classes[i], float(self.probs[i])) for i in order.tolist()]


@torch.no_grad()
def inspect(
    loaded: LoadedModel, x: torch.Tensor, overrides: Mapping[str, GateOverride] | None = None
) -> Inspection:
    """Run one image (1, 3, H, W) once: logits, softmax and every SE layer's excitation (recorded after
    ``overrides``, so a closed gate shows as 0 and later layers show their response)."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"inspect takes one image as a (1, 3, H, W) batch; got shape {tuple(x.shape)}")
    model = loaded.model.eval()
    layers = loaded.se_layers
    intervention = override_gates(model, overrides) if overrides else nullcontext()
    with intervention:  # hooks run in registration order: the override first, then the recorder
        if layers:
            with record_excitations(model) as rec:
                logits = model(x.to(loaded.device))  # (1, K)
            excitations = {
                name: s[0].float().cpu() for name, s in rec.excitations().items()
            }  # (1, C) -> (C,)
        else:
            logits, excitations = model(x.to(loaded.device)), {}
    logits = logits[0].float().cpu()  # (1, K) -> (K,)
    return Inspection(logits, logits.softmax(0), excitations, loaded.classes)


@torch.no_grad()
def excitations_by_class(
    loaded: LoadedModel, images: torch.Tensor, labels: Sequence[int], layer: str
) -> dict[str, torch.Tensor]:
    """Excitations (N_k, C) of one SE layer for a batch of normalised images (N, 3, H, W), grouped by label."""
    with record_excitations(loaded.model.eval(), [layer]) as rec:
        loaded.model(images.to(loaded.device))
    s = rec[layer].float().cpu()  # (N, C)
    labels = torch.as_tensor(list(labels))
    return {loaded.classes[k]: s[labels == k] for k in sorted(set(labels.tolist()))}

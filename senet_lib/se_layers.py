"""Find the SE layers of any model and name them as the paper does (``SE_<stage>_<block>``).

Works with our :class:`~senet_lib.se.SEBlock` and :class:`~senet_lib.eca.ECABlock`, torchvision's
``SqueezeExcitation`` and timm's SE modules.
The excitation ``s`` (Eq. 3) is the output of an SE module's gate: :func:`gate_module` finds it, so a
forward hook can read or replace ``s`` (see :mod:`senet_lib.analysis.excitation`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable

from torch import nn

from senet_lib.eca import ECABlock
from senet_lib.se import SEBlock

__all__ = [
    "UnknownLayerError",
    "find_se_layers",
    "gate_module",
    "paper_name",
    "se_channels",
    "select_se_layers",
]

# `layer{i}.{j}.se` (timm legacy: `.se_module`; optionally inside DDP's `module.` or torch.compile's
# `_orig_mod.`) -> SE_{i+1}_{j+1}
_PAPER_PATH = re.compile(r"^(?:module\.|_orig_mod\.)*layer(\d+)\.(\d+)\.se(?:_module)?$")


def _se_types() -> list[tuple[type, str]]:
    """Known SE module classes and the attribute holding their gate (the excitation's last op)."""
    from torchvision.ops import SqueezeExcitation

    types: list[tuple[type, str]] = [
        (SEBlock, "gate"),
        (ECABlock, "gate"),  # ECA-Net's successor of the SE block: same squeeze, gate and scale
        (SqueezeExcitation, "scale_activation"),
    ]
    for module_name, class_name, gate in [  # timm is optional and moves classes between versions
        ("timm.layers.squeeze_excite", "SEModule", "gate"),  # alias SqueezeExcite; seresnet*, ...
        ("timm.layers.squeeze_excite", "EffectiveSEModule", "gate"),
        ("timm.layers.squeeze_excite", "SqueezeExciteCl", "gate"),
        ("timm.models._efficientnet_blocks", "SqueezeExcite", "gate"),  # efficientnet, mobilenetv3
        ("timm.models.senet", "SEModule", "sigmoid"),  # legacy_seresnet*
    ]:
        try:
            cls = getattr(importlib.import_module(module_name), class_name, None)
        except ImportError:
            continue
        if isinstance(cls, type):
            types.append((cls, gate))
    return types


def paper_name(path: str) -> str:
    """The paper's name for an SE module path: ``layer{i}.{j}.se`` -> ``SE_{i+1}_{j+1}`` (stem = stage 1)."""
    match = _PAPER_PATH.match(path)
    return f"SE_{int(match[1]) + 1}_{int(match[2]) + 1}" if match else path


def find_se_layers(model: nn.Module) -> dict[str, nn.Module]:
    """All SE modules of ``model`` in forward order, named like the paper (``SE_4_6``) where possible."""
    types = tuple(cls for cls, _ in _se_types())
    return {paper_name(path): m for path, m in model.named_modules() if isinstance(m, types)}


def gate_module(se: nn.Module) -> nn.Module:
    """The gate submodule of an SE module; a forward hook on it sees the excitation ``s``."""
    for cls, attr in _se_types():
        if isinstance(se, cls):
            return getattr(se, attr)
    raise TypeError(
        f"{type(se).__name__} is not a known SE module; find SE modules with find_se_layers(model)"
    )


def se_channels(se: nn.Module) -> int:
    """C, the number of channels an SE module recalibrates (input width of its first FC / 1x1 conv)."""
    if isinstance(getattr(se, "channels", None), int):
        return se.channels
    for m in se.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
        if isinstance(m, nn.Linear):
            return m.in_features
    raise TypeError(f"cannot tell the channel count of {type(se).__name__}: it has no Linear or Conv2d layer")


class UnknownLayerError(KeyError, ValueError):
    """A requested SE layer name the model does not have (a KeyError for lookups, a ValueError for arguments)."""


def select_se_layers(model: nn.Module, layers: str | Iterable[str] | None = None) -> dict[str, nn.Module]:
    """The model's SE layers named in ``layers`` (one name, several, or None for all), in that order."""
    found = find_se_layers(model)
    if not found:
        raise ValueError(f"{type(model).__name__} has no SE layers; build it with SE (e.g. 'se_resnet20')")
    names = list(found if layers is None else ([layers] if isinstance(layers, str) else layers))
    if unknown := [name for name in names if name not in found]:
        raise UnknownLayerError(f"no SE layer named {unknown}; this model has {list(found)}")
    return {name: found[name] for name in names}

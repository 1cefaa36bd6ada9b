"""Excitations inside a trained network: find the SE layers, record, profile per class, intervene.

The excitation ``s`` (Eq. 3) is what an SE block multiplies each channel by. The paper reads it per
class to show that early SE layers are class-agnostic and late ones class-specific (Sec. 7.2, Fig. 6).
Works with our :class:`~senet_lib.se.SEBlock`, torchvision's ``SqueezeExcitation`` and timm's SE modules.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from senet_lib.se import SEBlock

__all__ = [
    "ClassStats", "ExcitationProfile", "ExcitationRecorder", "class_mean_profiles", "class_specificity",
    "find_se_layers", "gate_module", "override_gates", "paper_name", "record_excitations", "se_channels",
    "select_se_layers", "UnknownLayerError",
]

# `layer{i}.{j}.se` (timm legacy: `.se_module`; optionally inside DDP's `module.` or torch.compile's
# `_orig_mod.`) -> SE_{i+1}_{j+1}
_PAPER_PATH = re.compile(r"^(?:module\.|_orig_mod\.)*layer(\d+)\.(\d+)\.se(?:_module)?$")


def _se_types() -> list[tuple[type, str]]:
    """Known SE module classes and the attribute holding their gate (the excitation's last op)."""
    from torchvision.ops import SqueezeExcitation

    types: list[tuple[type, str]] = [(SEBlock, "gate"), (SqueezeExcitation, "scale_activation")]
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
    raise TypeError(f"{type(se).__name__} is not a known SE module; find SE modules with find_se_layers(model)")


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


def _as_nc(out: torch.Tensor) -> torch.Tensor:
    return out.reshape(out.shape[0], -1)  # (N, C, 1, 1) or (N, 1, 1, C) or (N, C) -> (N, C)


class ExcitationRecorder:
    """Holds the excitations ``s`` (N, C) seen per SE layer, one tensor per forward pass."""

    def __init__(self, names: Iterable[str]) -> None:
        self.batches: dict[str, list[torch.Tensor]] = {name: [] for name in names}

    def __getitem__(self, name: str) -> torch.Tensor:
        """All recorded excitations of one layer, batches concatenated: (N_total, C)."""
        if name not in self.batches:
            raise KeyError(f"no SE layer named {name!r} recorded; recorded layers: {list(self.batches)}")
        if not self.batches[name]:
            raise RuntimeError(f"nothing recorded for {name!r} yet; run a forward pass inside the `with` block")
        return torch.cat(self.batches[name])

    def names(self) -> list[str]:
        """The recorded layer names, in forward order."""
        return list(self.batches)

    def excitations(self) -> dict[str, torch.Tensor]:
        """Every recorded layer: name -> (N_total, C)."""
        return {name: self[name] for name in self.batches}

    def clear(self) -> None:
        """Forget what was recorded (the hooks stay until the ``with`` block ends)."""
        for batches in self.batches.values():
            batches.clear()


@contextmanager
def _hooked(hooks: list[tuple[nn.Module, Callable]]) -> Iterator[None]:
    handles = []
    try:  # registered inside the try: a failure part-way leaves no hook behind either
        for module, hook in hooks:
            handles.append(module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def record_excitations(model: nn.Module, layers: Iterable[str] | None = None) -> Iterator[ExcitationRecorder]:
    """Record the excitation (N, C) of each SE layer (or of ``layers``) on every forward pass inside the block."""
    selected = select_se_layers(model, layers)
    recorder = ExcitationRecorder(selected)

    def hook_for(name: str) -> Callable:
        return lambda module, inputs, output: recorder.batches[name].append(_as_nc(output).detach())

    with _hooked([(gate_module(se), hook_for(name)) for name, se in selected.items()]):
        yield recorder


GateOverride = Mapping[int, float] | torch.Tensor | float | Callable[[torch.Tensor], torch.Tensor]


def _override_fn(name: str, spec: GateOverride) -> Callable[[torch.Tensor], torch.Tensor]:
    if callable(spec) and not isinstance(spec, torch.Tensor):
        return spec
    if isinstance(spec, Mapping):
        def set_channels(s: torch.Tensor) -> torch.Tensor:
            s = s.clone()
            for channel, value in spec.items():
                if not -s.shape[1] <= channel < s.shape[1]:
                    raise IndexError(f"{name}: channel {channel} out of range; the layer has {s.shape[1]} channels")
                s[:, channel] = value
            return s

        return set_channels
    if isinstance(spec, (torch.Tensor, int, float)):
        return lambda s: torch.as_tensor(spec, dtype=s.dtype, device=s.device).expand_as(s).clone()
    raise TypeError(f"{name}: override must be {{channel: value}}, a tensor (C,) or (N, C), a number or a callable; "
                    f"got {type(spec).__name__}")


@contextmanager
def override_gates(model: nn.Module, overrides: Mapping[str, GateOverride]) -> Iterator[None]:
    """Replace excitation values inside the block: ``{layer: {channel: value}}``, a tensor, a number or ``f(s)``.

    An intervention on Eq. 4: the scale step then uses the new ``s``. Hooks are removed at exit.
    """
    selected = select_se_layers(model, overrides)

    def hook_for(name: str) -> Callable:
        fn = _override_fn(name, overrides[name])

        def hook(module, inputs, output):
            s = _as_nc(output)  # (N, C)
            new = fn(s)
            if new.shape != s.shape:
                raise ValueError(f"override for {name} gave shape {tuple(new.shape)}; expected {tuple(s.shape)}")
            return new.reshape(output.shape)

        return hook

    with _hooked([(gate_module(se), hook_for(name)) for name, se in selected.items()]):
        yield


class ClassStats:
    """Streaming per-class sums of excitations: class means, counts and the specificity eta^2."""

    def __init__(self, num_classes: int, channels: int, device: torch.device | str | None = None) -> None:
        self.num_classes = num_classes
        self.sums = torch.zeros(num_classes, channels, dtype=torch.float64, device=device)  # (K, C)
        self.counts = torch.zeros(num_classes, dtype=torch.float64, device=device)  # (K,)
        self.sq_sums = torch.zeros(channels, dtype=torch.float64, device=device)  # (C,) sum of s^2

    def update(self, s: torch.Tensor, labels: torch.Tensor) -> None:
        """Add a batch: excitations (N, C) and integer labels (N,)."""
        if s.dim() != 2 or labels.shape != s.shape[:1]:
            raise ValueError(f"expected excitations (N, C), labels (N,); got {tuple(s.shape)}, {tuple(labels.shape)}")
        labels = labels.to(self.sums.device, torch.long)
        low, high = (int(labels.min()), int(labels.max())) if labels.numel() else (0, 0)
        if low < 0 or high >= self.num_classes:
            raise ValueError(f"labels must lie in [0, {self.num_classes}); got {low}..{high}")
        s = s.to(self.sums.device, torch.float64)
        self.sums.index_add_(0, labels, s)
        self.counts += torch.bincount(labels, minlength=self.num_classes).to(self.counts)
        self.sq_sums += (s * s).sum(0)

    @property
    def means(self) -> torch.Tensor:
        """Class-mean excitations (K, C); NaN rows for classes never seen."""
        return (self.sums / self.counts[:, None]).float()

    def specificity(self) -> float:
        """eta^2 = between-class / total sum of squares, over all channels (see :func:`class_specificity`)."""
        n = self.counts.sum()
        if n == 0:
            raise RuntimeError("no excitations recorded; update() with at least one batch first")
        grand = self.sums.sum(0) / n  # (C,)
        seen = self.counts > 0
        class_means = self.sums[seen] / self.counts[seen, None]  # (K_seen, C)
        between = (self.counts[seen, None] * (class_means - grand) ** 2).sum()
        total = (self.sq_sums - n * grand**2).sum()
        if total <= 1e-12 * max(float(self.sq_sums.sum()), 1.0):
            return 0.0  # no variance at all: nothing for the class to explain
        return float((between / total).clamp(0.0, 1.0))


def class_specificity(excitations: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Class specificity of one SE layer: eta^2 = SS_between / SS_total, summed over channels, in [0, 1].

    The share of excitation variance explained by the class: 0 when every class has the same mean
    profile, 1 when excitations are constant within each class (0 too if there is no variance at all).
    """
    stats = ClassStats(num_classes, excitations.shape[-1], excitations.device)
    stats.update(excitations, labels)
    return stats.specificity()


@dataclass
class ExcitationProfile:
    """One SE layer over a dataset: class-mean excitations (K, C), images per class (K,), eta^2."""

    means: torch.Tensor
    counts: torch.Tensor
    specificity: float


@torch.no_grad()
def class_mean_profiles(
    model: nn.Module,
    loader: Iterable,
    num_classes: int,
    device: torch.device | str | None = None,
    progress: bool = True,
    layers: Iterable[str] | None = None,
) -> dict[str, ExcitationProfile]:
    """Class-mean excitations per SE layer over ``loader`` of (images, labels) (paper Fig. 6), with eta^2.

    Runs in eval mode (restored after) on ``device`` (default: the model's device).
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    stats: dict[str, ClassStats] = {}
    try:
        with record_excitations(model, layers) as rec:
            for images, labels in tqdm(loader, desc="excitations", disable=not progress, leave=False):
                model(images.to(device))
                for name, batches in rec.batches.items():
                    s = torch.cat(batches)  # (N, C)
                    if name not in stats:
                        stats[name] = ClassStats(num_classes, s.shape[1], device)
                    stats[name].update(s, labels.to(device))
                rec.clear()
    finally:
        model.train(was_training)
    if not stats:
        raise ValueError("the loader yielded no batches; pass a loader of (images, labels)")
    return {name: ExcitationProfile(st.means.cpu(), st.counts.long().cpu(), st.specificity())
            for name, st in stats.items()}

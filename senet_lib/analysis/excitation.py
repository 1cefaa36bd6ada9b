"""Excitations inside a network: record them, or replace them (an intervention on Eq. 4).

The excitation ``s`` (Eq. 3) is what an SE block multiplies each channel by. Both tools hook the gate
of each SE layer (found by :mod:`senet_lib.se_layers`) and leave no hook behind, even after an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn

from senet_lib.se_layers import gate_module, select_se_layers

__all__ = ["ExcitationRecorder", "GateOverride", "override_gates", "record_excitations"]


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
            raise RuntimeError(
                f"nothing recorded for {name!r} yet; run a forward pass inside the `with` block"
            )
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
                    raise IndexError(
                        f"{name}: channel {channel} out of range; the layer has {s.shape[1]} channels"
                    )
                s[:, channel] = value
            return s

        return set_channels
    if isinstance(spec, (torch.Tensor, int, float)):
        return lambda s: torch.as_tensor(spec, dtype=s.dtype, device=s.device).expand_as(s).clone()
    raise TypeError(
        f"{name}: override must be {{channel: value}}, a tensor (C,) or (N, C), a number or a callable; "
        f"got {type(spec).__name__}"
    )


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
                raise ValueError(
                    f"override for {name} gave shape {tuple(new.shape)}; expected {tuple(s.shape)}"
                )
            return new.reshape(output.shape)

        return hook

    with _hooked([(gate_module(se), hook_for(name)) for name, se in selected.items()]):
        yield

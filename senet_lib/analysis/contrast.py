"""Two sets of excitations side by side: two images through one model, or one image before and after an
intervention on its gates. Their difference per channel, and how far apart they are per SE layer."""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["excitation_difference", "rms_by_layer"]


def excitation_difference(
    first: Mapping[str, torch.Tensor], second: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Per SE layer in both (in ``first``'s order), ``first - second``: (C,) per layer."""
    out = {}
    for name, a in first.items():
        if name not in second:
            continue
        a, b = a.float().reshape(-1), second[name].float().reshape(-1)  # (C,)
        if a.shape != b.shape:
            raise ValueError(
                f"{name}: {a.shape[0]} channels against {b.shape[0]}; compare excitations of the same model"
            )
        out[name] = a - b
    if not out:
        raise ValueError(
            "the two sets of excitations share no SE layer; compare excitations of the same model"
        )
    return out


def rms_by_layer(difference: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Root mean square of each layer's difference (C,): sqrt(mean_c d_c^2), one number per SE layer."""
    return {name: float(d.float().pow(2).mean().sqrt()) for name, d in difference.items()}

"""Figures of one set of excitations per layer and channel (an image's gates, their attribution), and the
difference between two sets, layer by layer and by depth. The class-level figures (paper Fig. 6-7) live in
``classes``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from senet_lib.analysis.figures.common import _COLORS, _layer_rows_height, _np

__all__ = [
    "excitation_heatmap",
    "gate_attribution_heatmap",
    "excitation_difference_heatmap",
    "difference_by_depth",
]


def _layer_channel_heatmap(values: Mapping, value_label: str, title: str, signed: bool) -> go.Figure:
    """Layers (rows, forward order top to bottom) x channels; shorter layers padded with NaN."""
    if not values:
        raise ValueError(f"no layers given; pass a dict layer name -> {value_label} vector (C,)")
    rows = {name: _np(v, what=f"{value_label} of {name}").reshape(-1) for name, v in values.items()}
    width = max(len(r) for r in rows.values())
    z = np.full((len(rows), width), np.nan)  # (L, C_max)
    for i, r in enumerate(rows.values()):
        z[i, : len(r)] = r
    if signed:
        bound = float(np.nanmax(np.abs(z))) or 1.0
        colors = dict(colorscale="RdBu_r", zmid=0.0, zmin=-bound, zmax=bound)
    else:
        colors = dict(
            colorscale="Viridis", zmin=min(0.0, float(np.nanmin(z))), zmax=max(1.0, float(np.nanmax(z)))
        )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(width)),
            y=list(rows),
            colorbar=dict(title=value_label),
            **colors,
            hovertemplate=f"layer %{{y}}<br>channel %{{x}}<br>{value_label} %{{z:.3f}}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="channel",
        yaxis_title="SE layer (depth)",
        height=_layer_rows_height(len(rows)),
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def excitation_heatmap(
    excitations: Mapping, title: str = "Excitations s of one image, per SE layer (Eq. 3)"
) -> go.Figure:
    """Layers x channels heatmap of one image's excitations: dict layer -> (C,) (or (1, C)); NaN pads short layers."""
    return _layer_channel_heatmap(excitations, "excitation", title, signed=False)


def gate_attribution_heatmap(
    attributions: Mapping, title: str = "Attribution of the logit to each SE gate"
) -> go.Figure:
    """Layers x channels heatmap of gate attributions for one image: dict layer -> (C,), diverging colours."""
    return _layer_channel_heatmap(attributions, "attribution", title, signed=True)


def excitation_difference_heatmap(
    difference: Mapping, title: str = "Difference of excitations, per SE layer"
) -> go.Figure:
    """Layers x channels heatmap of a signed excitation difference (e.g. image A - image B, or after - before
    an intervention): dict layer -> (C,); red where the first is larger, blue where smaller, white equal."""
    return _layer_channel_heatmap(difference, "difference", title, signed=True)


def difference_by_depth(
    rms: Mapping, title: str = "How far apart the excitations are, by depth"
) -> go.Figure:
    """RMS difference per SE layer in depth order: dict layer -> float (e.g. contrast.rms_by_layer)."""
    if not rms:
        raise ValueError("no layers given; pass a dict layer name -> RMS difference")
    fig = go.Figure(
        go.Scatter(
            x=list(rms),
            y=[float(v) for v in rms.values()],
            mode="lines+markers",
            name="RMS difference",
            line=dict(color=_COLORS[0]),
            hovertemplate="layer %{x}<br>RMS difference %{y:.3f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="SE layer (depth)", yaxis_title="RMS difference of s")
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero")
    return fig

"""Figures of the per-layer linear probes on excitations (:mod:`senet_lib.analysis.probe`): what class one
image's gates point to at each depth, and how right the probes are on held-out images."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import plotly.graph_objects as go

from senet_lib.analysis.figures.common import _COLORS, _layer_rows_height, _near_constant_marks, _np

__all__ = ["probe_by_depth", "probe_heatmap"]


def probe_heatmap(
    probabilities,
    layers: Sequence[str],
    classes: Sequence[str],
    predicted: int | None = None,
    title: str = "What class do this image's gates point to, layer by layer?",
) -> go.Figure:
    """SE layers x classes: each layer's probe probabilities (L, K) for one image; an x marks the probe's class
    in each layer, a column of circles the network's own ``predicted`` class."""
    p = _np(probabilities, 2, "probe probabilities (layers, classes)")
    if p.shape != (len(layers), len(classes)):
        raise ValueError(
            f"probabilities are {p.shape} but got {len(layers)} layers and {len(classes)} classes"
        )
    names, rows = [str(c) for c in classes], list(layers)
    fig = go.Figure(
        go.Heatmap(
            z=p,
            x=names,
            y=rows,
            colorscale="Viridis",
            zmin=0.0,
            zmax=1.0,
            colorbar=dict(title="probe<br>probability"),
            hovertemplate="layer %{y}<br>class %{x}<br>probe probability %{z:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[names[k] for k in p.argmax(1)],
            y=rows,
            mode="markers",
            name="probe's class",
            marker=dict(symbol="x", size=11, color="red"),
            hovertemplate="layer %{y}<br>probe's class %{x}<extra></extra>",
        )
    )
    if predicted is not None:
        fig.add_trace(
            go.Scatter(
                x=[names[predicted]] * len(rows),
                y=rows,
                mode="markers",
                name="network's prediction",
                marker=dict(symbol="circle-open", size=16, color="white", line=dict(width=2)),
                hovertemplate="network's prediction %{x}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title, xaxis_title="class", yaxis_title="SE layer (depth)", height=_layer_rows_height(len(rows))
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def probe_by_depth(
    probes: Mapping,
    chance: float | None = None,
    network_accuracy: float | None = None,
    title: str = "How much class the gates carry, by depth (held-out images)",
    near_constant: Collection[str] = (),
) -> go.Figure:
    """Per SE layer, the probe's held-out accuracy (vs the true class) and its agreement with the network's
    prediction: dict layer -> object with ``accuracy`` and ``agreement`` (e.g. LayerProbe). Dotted: chance
    (1/K) and the network's own accuracy. Grey crosses on the layers in ``near_constant`` (gates that hardly depend
    on the image, from the class profiles' spread): a probe reads their tiny variations, which change nothing."""
    if not probes:
        raise ValueError("no probes given; pass a dict layer name -> LayerProbe")
    layers = list(probes)
    series = {
        "probe accuracy (true class)": [float(p.accuracy) for p in probes.values()],
        "agreement with the network": [float(p.agreement) for p in probes.values()],
    }
    fig = go.Figure()
    for i, (name, values) in enumerate(series.items()):
        fig.add_trace(
            go.Scatter(
                x=layers,
                y=values,
                mode="lines+markers",
                name=name,
                line=dict(color=_COLORS[i]),
                hovertemplate=f"layer %{{x}}<br>{name} %{{y:.1%}}<extra></extra>",
            )
        )
    for value, label in ((chance, "chance"), (network_accuracy, "network accuracy")):
        if value is not None:
            fig.add_trace(
                go.Scatter(
                    x=layers,
                    y=[value] * len(layers),
                    mode="lines",
                    name=label,
                    line=dict(color="gray", dash="dot"),
                    hovertemplate=f"{label} %{{y:.1%}}<extra></extra>",
                )
            )
    still = set(near_constant)
    if marked := [(n, float(probes[n].accuracy)) for n in layers if n in still]:
        fig.add_trace(_near_constant_marks(*zip(*marked), what="what the probe reads"))
    fig.update_layout(title=title, xaxis_title="SE layer (depth)", yaxis_title="share of validation images")
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig

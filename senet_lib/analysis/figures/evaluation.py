"""Figures of where a model is wrong: the confusion matrix and per-class accuracy, one model or an SE/plain pair."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from senet_lib.analysis.figures.common import _COLORS, _np

__all__ = ["confusion_heatmap", "per_class_accuracy_bars"]


def confusion_heatmap(confusion, classes: Sequence[str], title: str = "Confusion matrix") -> go.Figure:
    """True class (rows) x predicted class (columns): colour = share of the true class's images (each row sums
    to 1), text and hover = image counts. The diagonal is what the model gets right."""
    counts = _np(confusion, 2, "confusion matrix (K, K)")
    names = [str(c) for c in classes]
    if counts.shape != (len(names), len(names)):
        raise ValueError(f"the confusion matrix is {counts.shape} for {len(names)} classes")
    rates = counts / np.maximum(counts.sum(1, keepdims=True), 1)  # (K, K), rows sum to 1
    fig = go.Figure(
        go.Heatmap(
            z=rates,
            x=names,
            y=names,
            colorscale="Blues",
            zmin=0.0,
            zmax=1.0,
            colorbar=dict(title="share of the<br>true class"),
            customdata=counts,
            text=counts.astype(int),
            texttemplate="%{text}",
            hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata:.0f} images (%{z:.1%} of the %{y} images)"
            "<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="predicted class", yaxis_title="true class")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def per_class_accuracy_bars(
    accuracies: Mapping, classes: Sequence[str], title: str = "Accuracy per class"
) -> go.Figure:
    """Grouped bars of per-class accuracy: dict model label -> (K,) shares in [0, 1], in class order."""
    if not accuracies:
        raise ValueError("no models given; pass a dict label -> per-class accuracy (K,)")
    names = [str(c) for c in classes]
    fig = go.Figure()
    for i, (label, values) in enumerate(accuracies.items()):
        acc = _np(values, 1, f"per-class accuracy of {label!r}")
        if len(acc) != len(names):
            raise ValueError(f"{label!r} has {len(acc)} accuracies for {len(names)} classes")
        fig.add_trace(
            go.Bar(
                x=names,
                y=acc,
                name=str(label),
                marker_color=_COLORS[i % len(_COLORS)],
                hovertemplate=f"{label}<br>class %{{x}}<br>accuracy %{{y:.1%}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis_title="true class",
        yaxis_title="accuracy",
        yaxis_range=[0, 1],
        yaxis_tickformat=".0%",
        showlegend=len(accuracies) > 1,
    )
    return fig

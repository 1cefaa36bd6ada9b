"""Figures of excitations across classes (paper Fig. 6-7): class-mean profiles as a map, one image against
them, how class-specific each layer is by depth (eta^2, with the layers whose gates hardly move marked), and the
distribution of a layer's excitations per class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from senet_lib.analysis.figures.common import _COLORS, _near_constant_marks, _np, _rgba
from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD

__all__ = [
    "class_profile_heatmap",
    "excitation_vs_profiles",
    "specificity_by_depth",
    "excitation_distribution",
]


def _check_classes(means: np.ndarray, classes: Sequence[str]) -> list[str]:
    if len(classes) != means.shape[0]:
        raise ValueError(
            f"got {len(classes)} class names for {means.shape[0]} rows of class-mean excitations"
        )
    return [str(c) for c in classes]


def class_profile_heatmap(means, classes: Sequence[str], layer_name: str) -> go.Figure:
    """Classes x channels heatmap of class-mean excitations (K, C) of one SE layer (paper Fig. 6 as a map)."""
    z = _np(means, 2, "class-mean excitations (K, C)")
    names = _check_classes(z, classes)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(z.shape[1])),
            y=names,
            colorscale="Viridis",
            colorbar=dict(title="mean excitation"),
            hovertemplate=f"layer {layer_name}<br>class %{{y}}<br>channel %{{x}}<br>mean excitation %{{z:.3f}}"
            "<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Class-mean excitations, {layer_name}", xaxis_title="channel", yaxis_title="class"
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def _pick(classes: list[str], chosen: Sequence[str | int] | None) -> list[int]:
    if chosen is None:
        return list(range(len(classes)))
    picked = []
    for c in chosen:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < len(classes):
            picked.append(int(c))
        elif str(c) in classes:
            picked.append(classes.index(str(c)))
        else:
            raise ValueError(
                f"unknown class {c!r}; choose names from {classes} or indices 0..{len(classes) - 1}"
            )
    return picked


def excitation_vs_profiles(
    vector,
    means,
    classes: Sequence[str],
    chosen: Sequence[str | int] | None = None,
    layer_name: str = "",
    image_label: str = "this image",
) -> go.Figure:
    """One image's excitations (C,) drawn over the class-mean profiles (K, C) of the ``chosen`` classes."""
    s = _np(vector, what="excitation vector (C,)").reshape(-1)
    m = _np(means, 2, "class-mean excitations (K, C)")
    names = _check_classes(m, classes)
    if m.shape[1] != s.shape[0]:
        raise ValueError(
            f"the excitation vector has {s.shape[0]} channels but the class means have {m.shape[1]}; "
            "use the profile of the same SE layer"
        )
    channels = list(range(len(s)))
    fig = go.Figure()
    for i, k in enumerate(_pick(names, chosen)):
        fig.add_trace(
            go.Scatter(
                x=channels,
                y=m[k],
                mode="lines",
                name=f"class mean: {names[k]}",
                line=dict(dash="dot", color=_COLORS[i % len(_COLORS)]),
                hovertemplate=f"class {names[k]}<br>layer {layer_name}<br>channel %{{x}}<br>mean excitation %{{y:.3f}}"
                "<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=channels,
            y=s,
            mode="lines",
            name=image_label,
            line=dict(color="black", width=3),
            hovertemplate=f"{image_label}<br>layer {layer_name}<br>channel %{{x}}<br>excitation %{{y:.3f}}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Excitations vs class means, {layer_name}".rstrip(", "),
        xaxis_title="channel",
        yaxis_title="excitation",
    )
    return fig


def specificity_by_depth(
    specificity: Mapping, title: str = "Class specificity of excitations by depth"
) -> go.Figure:
    """eta^2 per SE layer in depth order: dict layer -> float (or ExcitationProfile); a dict of such dicts
    (run label -> layers) draws one line per run. Profiles that carry their spread show it on hover, and layers
    whose gates hardly depend on the image (:data:`NEAR_CONSTANT_SPREAD`) get a grey cross: their eta^2 means little.
    """
    if not specificity:
        raise ValueError("no layers given; pass a dict layer name -> class specificity")
    runs = specificity if all(isinstance(v, Mapping) for v in specificity.values()) else {"": specificity}
    fig = go.Figure()
    flagged = False
    for i, (label, layers) in enumerate(runs.items()):
        names = list(layers)
        values = [float(getattr(v, "specificity", v)) for v in layers.values()]
        spreads = [getattr(v, "spread", None) for v in layers.values()]
        prefix = f"run {label}<br>" if label else ""
        known = all(s is not None for s in spreads)
        fig.add_trace(
            go.Scatter(
                x=names,
                y=values,
                mode="lines+markers",
                name=label or "specificity",
                line=dict(color=_COLORS[i % len(_COLORS)]),
                customdata=spreads if known else None,
                hovertemplate=f"{prefix}layer %{{x}}<br>class specificity %{{y:.3f}}"
                + ("<br>spread of the gates %{customdata:.1e}" if known else "")
                + "<extra></extra>",
            )
        )
        constant = [
            (n, v) for n, v, s in zip(names, values, spreads) if s is not None and s < NEAR_CONSTANT_SPREAD
        ]
        if constant:
            fig.add_trace(_near_constant_marks(*zip(*constant), what="this η²", showlegend=not flagged))
            flagged = True
    fig.update_layout(
        title=title,
        xaxis_title="SE layer (depth)",
        yaxis_title="class specificity η²",
        showlegend=len(runs) > 1 or flagged,
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1])
    return fig


def excitation_distribution(per_class: Mapping, layer_name: str, show_all: bool = True) -> go.Figure:
    """Per-class mean excitation per channel with a +-1 std band (paper Figs. 6-7): dict class -> (N_k, C);
    ``show_all`` adds the mean over all images (the paper's "all" line)."""
    if not per_class:
        raise ValueError("no classes given; pass a dict class name -> excitations (N_k, C) of one SE layer")
    groups = {str(k): _np(v, 2, f"excitations of class {k!r} (N_k, C)") for k, v in per_class.items()}
    widths = {g.shape[1] for g in groups.values()}
    if len(widths) != 1 or any(len(g) == 0 for g in groups.values()):
        raise ValueError(
            f"every class needs at least one image and the same channel count; got shapes "
            f"{ {k: g.shape for k, g in groups.items()} }"
        )
    channels = list(range(widths.pop()))
    fig = go.Figure()
    for i, (name, g) in enumerate(groups.items()):
        mean, std = g.mean(0), g.std(0)
        band = dict(x=channels + channels[::-1], y=np.concatenate([mean + std, (mean - std)[::-1]]))
        fig.add_trace(
            go.Scatter(
                **band,
                fill="toself",
                fillcolor=_rgba(i, 0.15),
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
                legendgroup=name,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=channels,
                y=mean,
                mode="lines",
                name=f"{name} ({len(g)})",
                line=dict(color=_rgba(i, 1.0)),
                legendgroup=name,
                customdata=std,
                hovertemplate=f"class {name}<br>layer {layer_name}<br>channel %{{x}}<br>mean excitation %{{y:.3f}}"
                "<br>std %{customdata:.3f}<extra></extra>",
            )
        )
    if show_all:
        everything = np.concatenate(list(groups.values()))
        fig.add_trace(
            go.Scatter(
                x=channels,
                y=everything.mean(0),
                mode="lines",
                name=f"all ({len(everything)})",
                line=dict(color="black", dash="dash"),
                hovertemplate=f"all classes<br>layer {layer_name}<br>channel %{{x}}<br>mean excitation %{{y:.3f}}"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"Excitation per channel by class, {layer_name}",
        xaxis_title="channel",
        yaxis_title="excitation (mean ± std)",
    )
    return fig

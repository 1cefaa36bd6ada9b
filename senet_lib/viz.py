"""Plotly figure builders for excitations, class profiles, attributions and training curves.

The notebooks and the Streamlit app both display these figures; nothing here imports either.
Inputs are torch tensors or array-likes; hover labels name the layer, channel, class and value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative
from plotly.subplots import make_subplots

__all__ = [
    "ablation_comparison", "attribution_overlay", "class_profile_heatmap", "excitation_distribution",
    "excitation_heatmap", "excitation_vs_profiles", "gate_attribution_heatmap", "heatmap_csv", "overlay",
    "prediction_bars", "profile_distance_heatmap", "specificity_by_depth", "training_curves",
]

_COLORS = qualitative.Plotly


def _np(x, ndim: int | None = None, what: str = "values") -> np.ndarray:
    """A tensor or array-like as a float numpy array, optionally checked to have ``ndim`` dimensions."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension(s); got shape {arr.shape}")
    return arr


def _rgba(i: int, alpha: float) -> str:
    r, g, b = hex_to_rgb(_COLORS[i % len(_COLORS)])
    return f"rgba({r},{g},{b},{alpha})"


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
        colors = dict(colorscale="Viridis", zmin=min(0.0, float(np.nanmin(z))), zmax=max(1.0, float(np.nanmax(z))))
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(width)), y=list(rows), colorbar=dict(title=value_label), **colors,
        hovertemplate=f"layer %{{y}}<br>channel %{{x}}<br>{value_label} %{{z:.3f}}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="channel", yaxis_title="SE layer (depth)")
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def excitation_heatmap(excitations: Mapping,
                       title: str = "Excitations s of one image, per SE layer (Eq. 3)") -> go.Figure:
    """Layers x channels heatmap of one image's excitations: dict layer -> (C,) (or (1, C)); NaN pads short layers."""
    return _layer_channel_heatmap(excitations, "excitation", title, signed=False)


def gate_attribution_heatmap(attributions: Mapping,
                             title: str = "Attribution of the logit to each SE gate") -> go.Figure:
    """Layers x channels heatmap of gate attributions for one image: dict layer -> (C,), diverging colours."""
    return _layer_channel_heatmap(attributions, "attribution", title, signed=True)


def _check_classes(means: np.ndarray, classes: Sequence[str]) -> list[str]:
    if len(classes) != means.shape[0]:
        raise ValueError(f"got {len(classes)} class names for {means.shape[0]} rows of class-mean excitations")
    return [str(c) for c in classes]


def class_profile_heatmap(means, classes: Sequence[str], layer_name: str) -> go.Figure:
    """Classes x channels heatmap of class-mean excitations (K, C) of one SE layer (paper Fig. 6 as a map)."""
    z = _np(means, 2, "class-mean excitations (K, C)")
    names = _check_classes(z, classes)
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(z.shape[1])), y=names, colorscale="Viridis", colorbar=dict(title="mean excitation"),
        hovertemplate=f"layer {layer_name}<br>class %{{y}}<br>channel %{{x}}<br>mean excitation %{{z:.3f}}"
                      "<extra></extra>"))
    fig.update_layout(title=f"Class-mean excitations, {layer_name}", xaxis_title="channel", yaxis_title="class")
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
            raise ValueError(f"unknown class {c!r}; choose names from {classes} or indices 0..{len(classes) - 1}")
    return picked


def excitation_vs_profiles(vector, means, classes: Sequence[str], chosen: Sequence[str | int] | None = None,
                           layer_name: str = "", image_label: str = "this image") -> go.Figure:
    """One image's excitations (C,) drawn over the class-mean profiles (K, C) of the ``chosen`` classes."""
    s = _np(vector, what="excitation vector (C,)").reshape(-1)
    m = _np(means, 2, "class-mean excitations (K, C)")
    names = _check_classes(m, classes)
    if m.shape[1] != s.shape[0]:
        raise ValueError(f"the excitation vector has {s.shape[0]} channels but the class means have {m.shape[1]}; "
                         "use the profile of the same SE layer")
    channels = list(range(len(s)))
    fig = go.Figure()
    for i, k in enumerate(_pick(names, chosen)):
        fig.add_trace(go.Scatter(
            x=channels, y=m[k], mode="lines", name=f"class mean: {names[k]}",
            line=dict(dash="dot", color=_COLORS[i % len(_COLORS)]),
            hovertemplate=f"class {names[k]}<br>layer {layer_name}<br>channel %{{x}}<br>mean excitation %{{y:.3f}}"
                          "<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=channels, y=s, mode="lines", name=image_label, line=dict(color="black", width=3),
        hovertemplate=f"{image_label}<br>layer {layer_name}<br>channel %{{x}}<br>excitation %{{y:.3f}}<extra></extra>"))
    fig.update_layout(title=f"Excitations vs class means, {layer_name}".rstrip(", "),
                      xaxis_title="channel", yaxis_title="excitation")
    return fig


def specificity_by_depth(specificity: Mapping, title: str = "Class specificity of excitations by depth") -> go.Figure:
    """eta^2 per SE layer in depth order: dict layer -> float (or ExcitationProfile); a dict of such dicts
    (run label -> layers) draws one line per run."""
    if not specificity:
        raise ValueError("no layers given; pass a dict layer name -> class specificity")
    runs = specificity if all(isinstance(v, Mapping) for v in specificity.values()) else {"": specificity}
    fig = go.Figure()
    for i, (label, layers) in enumerate(runs.items()):
        names = list(layers)
        values = [float(getattr(v, "specificity", v)) for v in layers.values()]
        prefix = f"run {label}<br>" if label else ""
        fig.add_trace(go.Scatter(
            x=names, y=values, mode="lines+markers", name=label or "specificity",
            line=dict(color=_COLORS[i % len(_COLORS)]),
            hovertemplate=f"{prefix}layer %{{x}}<br>class specificity %{{y:.3f}}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="SE layer (depth)", yaxis_title="class specificity η²",
                      showlegend=len(runs) > 1)
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
        raise ValueError(f"every class needs at least one image and the same channel count; got shapes "
                         f"{ {k: g.shape for k, g in groups.items()} }")
    channels = list(range(widths.pop()))
    fig = go.Figure()
    for i, (name, g) in enumerate(groups.items()):
        mean, std = g.mean(0), g.std(0)
        band = dict(x=channels + channels[::-1], y=np.concatenate([mean + std, (mean - std)[::-1]]))
        fig.add_trace(go.Scatter(**band, fill="toself", fillcolor=_rgba(i, 0.15), line=dict(width=0),
                                 hoverinfo="skip", showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(
            x=channels, y=mean, mode="lines", name=f"{name} ({len(g)})", line=dict(color=_rgba(i, 1.0)),
            legendgroup=name, customdata=std,
            hovertemplate=f"class {name}<br>layer {layer_name}<br>channel %{{x}}<br>mean excitation %{{y:.3f}}"
                          "<br>std %{customdata:.3f}<extra></extra>"))
    if show_all:
        everything = np.concatenate(list(groups.values()))
        fig.add_trace(go.Scatter(
            x=channels, y=everything.mean(0), mode="lines", name=f"all ({len(everything)})",
            line=dict(color="black", dash="dash"),
            hovertemplate=f"all classes<br>layer {layer_name}<br>channel %{{x}}<br>mean excitation %{{y:.3f}}"
                          "<extra></extra>"))
    fig.update_layout(title=f"Excitation per channel by class, {layer_name}", xaxis_title="channel",
                      yaxis_title="excitation (mean ± std)")
    return fig


def training_curves(records: Sequence[Mapping] | Mapping[str, Sequence[Mapping]]) -> go.Figure:
    """Loss and accuracy vs epoch from ``metrics.jsonl`` records; a dict run label -> records compares runs.

    Train is dashed, validation solid; series missing from the records are skipped.
    """
    runs = records if isinstance(records, Mapping) else {"run": records}
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for i, (label, recs) in enumerate(runs.items()):
        recs = list(recs)
        if not recs or any("epoch" not in r for r in recs):
            raise ValueError(f"run {label!r}: need one record per epoch with an 'epoch' key (metrics.jsonl lines); "
                             f"got {len(recs)} record(s)")
        for col, metric in ((1, "loss"), (2, "acc")):
            for split, dash in (("train", "dash"), ("val", "solid")):
                key = f"{split}_{metric}"
                points = [(r["epoch"], r[key]) for r in recs if r.get(key) is not None]
                if not points:
                    continue
                x, y = zip(*points)
                name = {"loss": "loss", "acc": "accuracy"}[metric]
                fig.add_trace(go.Scatter(
                    x=x, y=y, mode="lines+markers", name=f"{label} {split}", legendgroup=label,
                    showlegend=col == 1, line=dict(color=_COLORS[i % len(_COLORS)], dash=dash),
                    hovertemplate=f"run {label}<br>{split}<br>epoch %{{x}}<br>{name} %{{y:.4f}}<extra></extra>"),
                    row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="cross-entropy loss", row=1, col=1)
    fig.update_yaxes(title_text="top-1 accuracy", row=1, col=2)
    fig.update_layout(title="Training curves")
    return fig


def _image_hwc(image) -> np.ndarray:
    """An image (3, H, W) or (H, W, 3), uint8 or float, as float (H, W, 3) in [0, 1] (min-max if out of range)."""
    is_uint8 = str(getattr(image, "dtype", "")).endswith("uint8")
    img = _np(image, 3, "image (3, H, W) or (H, W, 3)")
    if img.shape[0] == 3 and img.shape[-1] != 3:
        img = img.transpose(1, 2, 0)  # (3, H, W) -> (H, W, 3)
    if img.shape[-1] != 3:
        raise ValueError(f"image must have 3 colour channels, (3, H, W) or (H, W, 3); got shape {img.shape}")
    if is_uint8:
        return img / 255.0
    low, high = img.min(), img.max()
    if low < 0 or high > 1:  # e.g. a normalised tensor: stretch for display
        img = (img - low) / (high - low or 1.0)
    return img


def _check_map(attribution, hw: tuple[int, int]) -> np.ndarray:
    a = _np(attribution, 2, "attribution map (H, W)")
    if a.shape != hw:
        raise ValueError(f"attribution map is {a.shape} but the image is {hw}; upsample the map to the image size")
    return a


def overlay(image, attribution, alpha: float = 0.6) -> np.ndarray:
    """(H, W, 3) float image in [0, 1]: the image with |attribution| / max painted on it in a 'hot' colour map."""
    img = _image_hwc(image)
    a = np.abs(_check_map(attribution, img.shape[:2]))
    heat = a / (a.max() or 1.0)  # (H, W) in [0, 1]
    rgb = np.clip(np.stack([3 * heat, 3 * heat - 1, 3 * heat - 2], axis=-1), 0, 1)  # black-red-yellow-white
    weight = alpha * heat[..., None]
    return img * (1 - weight) + rgb * weight


def attribution_overlay(image, attribution, title: str = "Attribution", opacity: float = 0.5) -> go.Figure:
    """The image with the attribution map (H, W) as a semi-transparent heatmap on top; hover shows the value."""
    img = _image_hwc(image)
    a = _check_map(attribution, img.shape[:2])
    signed = bool((a < 0).any())
    bound = float(np.abs(a).max()) or 1.0
    colors = (dict(colorscale="RdBu_r", zmid=0.0, zmin=-bound, zmax=bound) if signed
              else dict(colorscale="Hot", zmin=0.0, zmax=bound))
    fig = go.Figure([
        go.Image(z=np.round(img * 255).astype(np.uint8), hoverinfo="skip"),
        go.Heatmap(z=a, opacity=opacity, colorbar=dict(title="attribution"), **colors,
                   hovertemplate="x %{x}<br>y %{y}<br>attribution %{z:.3g}<extra></extra>"),
    ])
    fig.update_layout(title=title)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor="x")
    return fig


def heatmap_csv(z, row_labels: Sequence, col_labels: Sequence, corner: str = "") -> str:
    """The numbers behind a heatmap as CSV text: a header of column labels, then one labelled row each.

    NaN (padding) is written as an empty field."""
    values = _np(z, 2, "heatmap values (rows, columns)")
    if values.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"values are {values.shape} but got {len(row_labels)} row and {len(col_labels)} column labels")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([corner, *col_labels])
    for label, row in zip(row_labels, values):
        writer.writerow([label, *("" if np.isnan(v) else repr(float(v)) for v in row)])
    return out.getvalue()


def prediction_bars(probabilities: Mapping, classes: Sequence[str], top_k: int | None = None,
                    title: str = "Prediction") -> go.Figure:
    """Class probabilities as grouped bars: dict label -> (K,) probabilities, e.g. {"unmodified": p, "gates off": q}.

    ``top_k`` keeps the k classes most probable under the first entry (all classes if None)."""
    if not probabilities:
        raise ValueError("no predictions given; pass a dict label -> class probabilities (K,)")
    runs = {str(k): _np(v, what=f"probabilities {k!r}").reshape(-1) for k, v in probabilities.items()}
    for label, p in runs.items():
        if len(p) != len(classes):
            raise ValueError(f"{label!r} has {len(p)} probabilities but there are {len(classes)} classes")
    first = next(iter(runs.values()))
    order = np.argsort(-first, kind="stable")[: top_k or len(classes)]
    names = [str(classes[i]) for i in order]
    fig = go.Figure([go.Bar(x=names, y=p[order], name=label, marker_color=_COLORS[i % len(_COLORS)],
                            hovertemplate=f"{label}<br>class %{{x}}<br>probability %{{y:.3f}}<extra></extra>")
                     for i, (label, p) in enumerate(runs.items())])
    fig.update_layout(title=title, barmode="group", xaxis_title="class", yaxis_title="probability",
                      yaxis_range=[0, 1], showlegend=len(runs) > 1)
    return fig


def ablation_comparison(rows: Sequence, caption: str = "paper error (%)", title: str = "Ablation") -> go.Figure:
    """Our validation error (mean ± std over seeds) beside the paper's number, per row of an experiment grid.

    ``rows``: objects with ``label``, ``errors`` (list of %) and ``paper`` (% or None), like
    :class:`senet_lib.experiments.Row`. Two panels, since the paper's numbers are often another dataset."""
    if not rows:
        raise ValueError("no rows given; pass the rows returned by senet_lib.experiments.run_grid")
    if empty := [row.label for row in rows if not row.errors]:
        raise ValueError(f"rows {empty} have no finished runs; train them first (run_grid)")
    from senet_lib.experiments import mean_std  # the runner's own mean ± std, so figure and tables agree

    labels = [row.label for row in rows]
    means, stds = map(list, zip(*(mean_std(row.errors) for row in rows)))
    seeds = [len(row.errors) for row in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ours: validation error (%)", caption))
    fig.add_trace(go.Bar(x=labels, y=means, error_y=dict(type="data", array=stds), customdata=np.c_[stds, seeds],
                         marker_color=_COLORS[0], name="ours",
                         hovertemplate="%{x}<br>error %{y:.2f} ± %{customdata[0]:.2f} %<br>"
                                       "seeds %{customdata[1]}<extra></extra>"), row=1, col=1)
    paper = [np.nan if row.paper is None else float(row.paper) for row in rows]
    fig.add_trace(go.Bar(x=labels, y=paper, marker_color=_COLORS[1], name="paper",
                         hovertemplate="%{x}<br>paper error %{y:.2f} %<extra></extra>"), row=1, col=2)
    spans = {1: ([m - s for m, s in zip(means, stds)], [m + s for m, s in zip(means, stds)]),
             2: ([v for v in paper if not np.isnan(v)],) * 2}
    for col, (lows, highs) in spans.items():
        if lows:  # zoom on the differences: errors sit far from 0
            low, high = min(lows), max(highs)
            pad = 0.25 * (high - low) + 0.1
            fig.update_yaxes(range=[max(0.0, low - pad), high + pad], row=1, col=col)
    fig.update_layout(title=title, showlegend=False)
    return fig


def profile_distance_heatmap(distances, layers: Sequence[str], classes: Sequence[str],
                             title: str = "Which class does this image look like, layer by layer?") -> go.Figure:
    """SE layers x classes heatmap of the distance (L, K) between one image's excitations and each class-mean
    profile (e.g. :func:`senet_lib.inspection.profile_distances`); near = bright, the nearest class is marked."""
    d = _np(distances, 2, "distances (layers, classes)")
    if d.shape != (len(layers), len(classes)):
        raise ValueError(f"distances are {d.shape} but got {len(layers)} layers and {len(classes)} classes")
    names = [str(c) for c in classes]
    nearest = d.argmin(1)  # (L,)
    fig = go.Figure(go.Heatmap(
        z=d, x=names, y=list(layers), colorscale="Viridis_r", colorbar=dict(title="RMS distance"),
        hovertemplate="layer %{y}<br>class %{x}<br>RMS distance to the class mean %{z:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[names[k] for k in nearest], y=list(layers), mode="markers", name="nearest class",
        marker=dict(symbol="x", size=10, color="red"),
        hovertemplate="layer %{y}<br>nearest class %{x}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="class", yaxis_title="SE layer (depth)", showlegend=False)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig

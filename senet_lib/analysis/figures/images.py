"""Figures over images: attribution maps on the image, and the class probabilities of a prediction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from senet_lib.analysis.figures.common import _COLORS, _np

__all__ = ["overlay", "attribution_overlay", "prediction_bars"]


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
        raise ValueError(
            f"attribution map is {a.shape} but the image is {hw}; upsample the map to the image size"
        )
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
    colors = (
        dict(colorscale="RdBu_r", zmid=0.0, zmin=-bound, zmax=bound)
        if signed
        else dict(colorscale="Hot", zmin=0.0, zmax=bound)
    )
    fig = go.Figure(
        [
            go.Image(z=np.round(img * 255).astype(np.uint8), hoverinfo="skip"),
            go.Heatmap(
                z=a,
                opacity=opacity,
                colorbar=dict(title="attribution"),
                **colors,
                hovertemplate="x %{x}<br>y %{y}<br>attribution %{z:.3g}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(title=title)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor="x")
    return fig


def prediction_bars(
    probabilities: Mapping, classes: Sequence[str], top_k: int | None = None, title: str = "Prediction"
) -> go.Figure:
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
    fig = go.Figure(
        [
            go.Bar(
                x=names,
                y=p[order],
                name=label,
                marker_color=_COLORS[i % len(_COLORS)],
                hovertemplate=f"{label}<br>class %{{x}}<br>probability %{{y:.3f}}<extra></extra>",
            )
            for i, (label, p) in enumerate(runs.items())
        ]
    )
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis_title="class",
        yaxis_title="probability",
        yaxis_range=[0, 1],
        showlegend=len(runs) > 1,
    )
    return fig

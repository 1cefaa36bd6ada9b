"""What every figure builder shares: array conversion, colours, and the numbers behind a heatmap as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative

from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD

__all__ = ["heatmap_csv"]

_COLORS = qualitative.Plotly


def _np(x, ndim: int | None = None, what: str = "values") -> np.ndarray:
    """A tensor or array-like as a float numpy array, optionally checked to have ``ndim`` dimensions."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension(s); got shape {arr.shape}")
    return arr


def _layer_rows_height(n_layers: int) -> int:
    """Pixel height of a figure with one row per SE layer: plotly's default 450 fits the 9 layers of
    SE-ResNet-20; deeper networks get 18 px a row, so each of SE-ResNet-56's 27 layers keeps a row and a label."""
    return max(450, 140 + 18 * n_layers)


def _near_constant_marks(
    x: Sequence[str], y: Sequence[float], what: str, showlegend: bool = True
) -> go.Scatter:
    """Grey crosses on the layers whose gates hardly depend on the image (spread < NEAR_CONSTANT_SPREAD): ``what``
    (e.g. "this η²") then describes variations too small to matter."""
    return go.Scatter(
        x=list(x),
        y=list(y),
        mode="markers",
        marker=dict(symbol="x", size=11, color="#7f7f7f"),
        name=f"gates ~ constant (spread < {NEAR_CONSTANT_SPREAD:g})",
        legendgroup="near-constant",
        showlegend=showlegend,
        hovertemplate=f"layer %{{x}}: its gates hardly depend on the image, so {what} means little<extra></extra>",
    )


def _rgba(i: int, alpha: float) -> str:
    r, g, b = hex_to_rgb(_COLORS[i % len(_COLORS)])
    return f"rgba({r},{g},{b},{alpha})"


def heatmap_csv(z, row_labels: Sequence, col_labels: Sequence, corner: str = "") -> str:
    """The numbers behind a heatmap as CSV text: a header of column labels, then one labelled row each.

    NaN (padding) is written as an empty field."""
    values = _np(z, 2, "heatmap values (rows, columns)")
    if values.shape != (len(row_labels), len(col_labels)):
        raise ValueError(
            f"values are {values.shape} but got {len(row_labels)} row and {len(col_labels)} column labels"
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([corner, *col_labels])
    for label, row in zip(row_labels, values):
        writer.writerow([label, *("" if np.isnan(v) else repr(float(v)) for v in row)])
    return out.getvalue()

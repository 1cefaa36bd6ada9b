"""The numbers behind a plotly figure of :mod:`senet_lib.analysis.figures`, as CSV text (for download buttons and notebooks).

A figure with a heatmap gives its matrix (rows and columns labelled as on the axes, via
:func:`senet_lib.analysis.figures.heatmap_csv`); a figure of lines or bars gives one row per point:
series, x, y (plus the hover's extra value, e.g. the std of a mean, when the trace carries one).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import plotly.graph_objects as go

from senet_lib.analysis.figures import heatmap_csv

__all__ = ["figure_csv"]


def _axis_title(axis, default: str) -> str:
    text = axis.title.text if axis is not None and axis.title is not None else None
    return text or default


def figure_csv(fig: go.Figure) -> str:
    """CSV of a figure's data: the first heatmap's labelled matrix, else long rows (series, x, y[, extra])."""
    heatmaps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    if heatmaps:
        z = np.asarray(heatmaps[0].z, dtype=float)  # (rows, columns)
        rows = list(heatmaps[0].y) if heatmaps[0].y is not None else list(range(z.shape[0]))
        cols = list(heatmaps[0].x) if heatmaps[0].x is not None else list(range(z.shape[1]))
        corner = f"{_axis_title(fig.layout.yaxis, 'row')} \\ {_axis_title(fig.layout.xaxis, 'column')}"
        return heatmap_csv(z, rows, cols, corner=corner)
    series = [
        t
        for t in fig.data  # lines and bars; filled bands (e.g. mean ± std) are derived, so skipped
        if isinstance(t, (go.Scatter, go.Bar)) and getattr(t, "fill", None) != "toself"
    ]
    if not series:
        raise ValueError("the figure has no heatmap, line or bar trace to export")
    carrying = [t for t in series if t.customdata is not None and np.ndim(t.customdata) == 1]
    extra = bool(carrying)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["series", _axis_title(fig.layout.xaxis, "x"), _axis_title(fig.layout.yaxis, "y")]
    if extra:  # excitation_distribution carries each mean's std for the hover
        header.append("std" if all("std" in (t.hovertemplate or "") for t in carrying) else "customdata")
    writer.writerow(header)
    for trace in series:
        custom = trace.customdata if trace.customdata is not None and np.ndim(trace.customdata) == 1 else None
        for i, (x, y) in enumerate(zip(trace.x, trace.y)):
            row = [trace.name or "", x, repr(float(y))]
            if extra:
                row.append(repr(float(custom[i])) if custom is not None else "")
            writer.writerow(row)
    return out.getvalue()

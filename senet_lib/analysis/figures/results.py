"""Figures of training results: curves per epoch, and an ablation grid beside the paper's numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from senet_lib.analysis.figures.common import _COLORS

__all__ = ["training_curves", "ablation_comparison"]


def training_curves(records: Sequence[Mapping] | Mapping[str, Sequence[Mapping]]) -> go.Figure:
    """Loss and accuracy vs epoch from ``metrics.jsonl`` records; a dict run label -> records compares runs.

    Train is dashed, validation solid; series missing from the records are skipped.
    """
    runs = records if isinstance(records, Mapping) else {"run": records}
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for i, (label, recs) in enumerate(runs.items()):
        recs = list(recs)
        if not recs or any("epoch" not in r for r in recs):
            raise ValueError(
                f"run {label!r}: need one record per epoch with an 'epoch' key (metrics.jsonl lines); "
                f"got {len(recs)} record(s)"
            )
        for col, metric in ((1, "loss"), (2, "acc")):
            for split, dash in (("train", "dash"), ("val", "solid")):
                key = f"{split}_{metric}"
                points = [(r["epoch"], r[key]) for r in recs if r.get(key) is not None]
                if not points:
                    continue
                x, y = zip(*points)
                name = {"loss": "loss", "acc": "accuracy"}[metric]
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=y,
                        mode="lines+markers",
                        name=f"{label} {split}",
                        legendgroup=label,
                        showlegend=col == 1,
                        line=dict(color=_COLORS[i % len(_COLORS)], dash=dash),
                        hovertemplate=f"run {label}<br>{split}<br>epoch %{{x}}<br>{name} %{{y:.4f}}<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="cross-entropy loss", row=1, col=1)
    fig.update_yaxes(title_text="top-1 accuracy", row=1, col=2)
    fig.update_layout(title="Training curves")
    return fig


def ablation_comparison(
    rows: Sequence, caption: str = "paper error (%)", title: str = "Ablation"
) -> go.Figure:
    """Our validation error (mean ± std over seeds) beside the paper's number, per row of an experiment grid.

    ``rows``: objects with ``label``, ``errors`` (list of %), ``mean``, ``std`` and ``paper`` (% or None), like
    :class:`senet_lib.training.experiments.Row`. Two panels, since the paper's numbers are often another dataset."""
    if not rows:
        raise ValueError("no rows given; pass the rows returned by senet_lib.training.experiments.run_grid")
    if empty := [row.label for row in rows if not row.errors]:
        raise ValueError(f"rows {empty} have no finished runs; train them first (run_grid)")
    labels = [row.label for row in rows]
    means, stds = [row.mean for row in rows], [row.std for row in rows]  # the runner's own, as in its tables
    seeds = [len(row.errors) for row in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ours: validation error (%)", caption))
    fig.add_trace(
        go.Bar(
            x=labels,
            y=means,
            error_y=dict(type="data", array=stds),
            customdata=np.c_[stds, seeds],
            marker_color=_COLORS[0],
            name="ours",
            hovertemplate="%{x}<br>error %{y:.2f} ± %{customdata[0]:.2f} %<br>"
            "seeds %{customdata[1]}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    paper = [np.nan if row.paper is None else float(row.paper) for row in rows]
    fig.add_trace(
        go.Bar(
            x=labels,
            y=paper,
            marker_color=_COLORS[1],
            name="paper",
            hovertemplate="%{x}<br>paper error %{y:.2f} %<extra></extra>",
        ),
        row=1,
        col=2,
    )
    spans = {
        1: ([m - s for m, s in zip(means, stds)], [m + s for m, s in zip(means, stds)]),
        2: ([v for v in paper if not np.isnan(v)],) * 2,
    }
    for col, (lows, highs) in spans.items():
        if lows:  # zoom on the differences: errors sit far from 0
            low, high = min(lows), max(highs)
            pad = 0.25 * (high - low) + 0.1
            fig.update_yaxes(range=[max(0.0, low - pad), high + pad], row=1, col=col)
    fig.update_layout(title=title, showlegend=False)
    return fig

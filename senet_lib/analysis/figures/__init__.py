"""Plotly figure builders for excitations, class profiles, attributions and training results.

The notebooks and the Streamlit app both display these figures; nothing here imports either.
Inputs are torch tensors or array-likes; hover labels name the layer, channel, class and value.
Modules by what the figures show: ``excitations`` (per layer and channel), ``classes`` (across classes, Figs.
6-7), ``images`` (attribution, predictions), ``probes``,
``evaluation`` (confusion, per-class accuracy), ``results`` (training).
"""

from senet_lib.analysis.figures.classes import (
    class_profile_heatmap,
    excitation_distribution,
    excitation_vs_profiles,
    specificity_by_depth,
)
from senet_lib.analysis.figures.common import heatmap_csv
from senet_lib.analysis.figures.evaluation import confusion_heatmap, per_class_accuracy_bars
from senet_lib.analysis.figures.excitations import (
    difference_by_depth,
    excitation_difference_heatmap,
    excitation_heatmap,
    gate_attribution_heatmap,
)
from senet_lib.analysis.figures.images import attribution_overlay, overlay, prediction_bars
from senet_lib.analysis.figures.probes import probe_by_depth, probe_heatmap
from senet_lib.analysis.figures.results import ablation_comparison, training_curves

__all__ = [
    "ablation_comparison",
    "attribution_overlay",
    "class_profile_heatmap",
    "confusion_heatmap",
    "difference_by_depth",
    "excitation_difference_heatmap",
    "excitation_distribution",
    "excitation_heatmap",
    "excitation_vs_profiles",
    "gate_attribution_heatmap",
    "heatmap_csv",
    "overlay",
    "per_class_accuracy_bars",
    "prediction_bars",
    "probe_by_depth",
    "probe_heatmap",
    "specificity_by_depth",
    "training_curves",
]

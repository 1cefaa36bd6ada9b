"""Plotly figure builders (viz.py): traces, shapes, labels, hover text, CSV export, overlays."""

import csv
import io
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from senet_lib.analysis.figures import (
    ablation_comparison,
    attribution_overlay,
    class_profile_heatmap,
    excitation_distribution,
    excitation_heatmap,
    excitation_vs_profiles,
    gate_attribution_heatmap,
    heatmap_csv,
    overlay,
    prediction_bars,
    specificity_by_depth,
    training_curves,
)
from senet_lib.analysis.profiles import ExcitationProfile

CLASSES = ["airplane", "cat", "dog", "ship"]


def hover(trace) -> str:
    return trace.hovertemplate or ""


def test_excitation_heatmap_pads_layers_with_nan():
    excitations = {"SE_2_1": torch.rand(16), "SE_3_1": torch.rand(1, 32), "SE_4_1": torch.rand(64)}
    fig = excitation_heatmap(excitations)
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (3, 64)
    np.testing.assert_allclose(z[1, :32], excitations["SE_3_1"][0].numpy(), rtol=1e-6)
    assert np.isnan(z[0, 16:]).all() and not np.isnan(z[0, :16]).any() and not np.isnan(z[2]).any()
    assert list(fig.data[0].y) == ["SE_2_1", "SE_3_1", "SE_4_1"]
    assert fig.layout.xaxis.title.text == "channel" and "SE layer" in fig.layout.yaxis.title.text
    assert (
        "layer" in hover(fig.data[0])
        and "channel" in hover(fig.data[0])
        and "excitation" in hover(fig.data[0])
    )
    fig.to_json()  # NaN padding serialises
    with pytest.raises(ValueError, match="no layers"):
        excitation_heatmap({})


def test_a_deeper_network_gets_a_taller_heatmap_with_a_row_per_layer():
    def layers(blocks):  # a CIFAR SE-ResNet: 3 stages of `blocks` blocks, 16/32/64 channels
        return {
            f"SE_{st}_{b}": torch.rand(c)
            for st, c in ((2, 16), (3, 32), (4, 64))
            for b in range(1, blocks + 1)
        }

    small, deep = excitation_heatmap(layers(3)), excitation_heatmap(layers(9))  # SE-ResNet-20 and -56
    assert small.layout.height == 450  # plotly's default, as before
    assert deep.layout.height >= 18 * 27 + 100  # 18 px a row and room for title and axis
    assert list(deep.data[0].y) == list(layers(9)) and deep.layout.yaxis.type == "category"


def test_gate_attribution_heatmap_is_centred_at_zero():
    fig = gate_attribution_heatmap(
        {"SE_2_1": torch.tensor([-2.0, 1.0]), "SE_3_1": torch.tensor([0.5, 0.1, 0.3])}
    )
    trace = fig.data[0]
    assert trace.zmid == 0 and trace.zmin == -2 and trace.zmax == 2
    assert "attribution" in hover(trace) and "layer" in hover(trace)


def test_class_profile_heatmap():
    means = torch.rand(4, 32)
    fig = class_profile_heatmap(means, CLASSES, "SE_3_3")
    trace = fig.data[0]
    assert np.asarray(trace.z).shape == (4, 32)
    assert list(trace.y) == CLASSES and list(trace.x) == list(range(32))
    assert "SE_3_3" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "channel" and fig.layout.yaxis.title.text == "class"
    for word in ("layer SE_3_3", "class", "channel"):
        assert word in hover(trace)
    with pytest.raises(ValueError, match="3 class names for 4 rows"):
        class_profile_heatmap(means, CLASSES[:3], "SE_3_3")


def test_excitation_vs_profiles():
    means, vector = torch.rand(4, 16), torch.rand(16)
    fig = excitation_vs_profiles(vector, means, CLASSES, chosen=["cat", 3], layer_name="SE_2_2")
    assert len(fig.data) == 3
    assert [t.name for t in fig.data] == ["class mean: cat", "class mean: ship", "this image"]
    np.testing.assert_allclose(fig.data[1].y, means[3].numpy(), rtol=1e-6)
    np.testing.assert_allclose(fig.data[2].y, vector.numpy(), rtol=1e-6)
    assert all("layer SE_2_2" in hover(t) and "channel" in hover(t) for t in fig.data)
    assert "class cat" in hover(fig.data[0])
    assert fig.layout.yaxis.title.text == "excitation"
    assert len(excitation_vs_profiles(vector, means, CLASSES).data) == 5  # default: every class
    with pytest.raises(ValueError, match="unknown class 'horse'"):
        excitation_vs_profiles(vector, means, CLASSES, chosen=["horse"])
    with pytest.raises(ValueError, match="same SE layer"):
        excitation_vs_profiles(torch.rand(32), means, CLASSES)


def test_specificity_by_depth_keeps_depth_order():
    spec = {"SE_2_1": 0.01, "SE_3_1": 0.1, "SE_4_3": 0.6}
    fig = specificity_by_depth(spec)
    assert list(fig.data[0].x) == list(spec) and list(fig.data[0].y) == list(spec.values())
    assert "layer" in hover(fig.data[0]) and "specificity" in hover(fig.data[0])
    assert "specificity" in fig.layout.yaxis.title.text and "depth" in fig.layout.xaxis.title.text
    profiles = {name: ExcitationProfile(torch.rand(2, 4), torch.ones(2), v) for name, v in spec.items()}
    assert list(specificity_by_depth(profiles).data[0].y) == list(spec.values())
    two = specificity_by_depth({"r=16": spec, "r=4": {k: v / 2 for k, v in spec.items()}})
    assert [t.name for t in two.data] == ["r=16", "r=4"] and "run r=4" in hover(two.data[1])


def test_specificity_by_depth_marks_near_constant_gates():
    spreads = {"SE_2_1": 3e-7, "SE_3_1": 0.02, "SE_4_3": 0.05}
    profiles = {n: ExcitationProfile(torch.rand(2, 4), torch.ones(2), 0.4, s) for n, s in spreads.items()}
    fig = specificity_by_depth(profiles)
    assert list(fig.data[0].customdata) == list(spreads.values()) and "spread" in hover(fig.data[0])
    crosses = fig.data[1]
    assert list(crosses.x) == ["SE_2_1"] and crosses.marker.symbol == "x" and "constant" in crosses.name
    assert fig.layout.showlegend
    # two runs, both with a near-constant layer: one legend entry for the crosses
    two = specificity_by_depth({"a": profiles, "b": profiles})
    assert [t.showlegend for t in two.data if t.mode == "markers"] == [True, False]
    # without spreads (older sidecars) nothing is marked
    assert len(specificity_by_depth({n: 0.4 for n in spreads}).data) == 1


def test_excitation_distribution_means_and_bands():
    per_class = {"cat": torch.rand(5, 8), "dog": torch.rand(3, 8)}
    fig = excitation_distribution(per_class, "SE_4_1")
    lines = [t for t in fig.data if t.mode == "lines"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert [t.name for t in lines] == ["cat (5)", "dog (3)", "all (8)"] and len(bands) == 2
    np.testing.assert_allclose(lines[0].y, per_class["cat"].mean(0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(lines[2].y, torch.cat(list(per_class.values())).mean(0).numpy(), rtol=1e-6)
    upper = np.asarray(bands[1].y[:8])
    np.testing.assert_allclose(
        upper, (per_class["dog"].mean(0) + per_class["dog"].double().std(0, correction=0)).numpy(), rtol=1e-5
    )
    assert all("layer SE_4_1" in hover(t) and "channel" in hover(t) for t in lines)
    assert len(excitation_distribution(per_class, "SE_4_1", show_all=False).data) == 4
    with pytest.raises(ValueError, match="same channel count"):
        excitation_distribution({"cat": torch.rand(2, 8), "dog": torch.rand(2, 4)}, "SE_4_1")


RECORDS = [
    {
        "epoch": e,
        "train_loss": 2.0 / e,
        "train_acc": 0.3 * e,
        "val_loss": 2.2 / e,
        "val_acc": 0.25 * e,
        "lr": 0.1,
    }
    for e in (1, 2, 3)
]


def test_training_curves_one_run_and_several():
    fig = training_curves(RECORDS)
    assert [t.name for t in fig.data] == ["run train", "run val", "run train", "run val"]
    assert list(fig.data[1].y) == [r["val_loss"] for r in RECORDS] and list(fig.data[3].x) == [1, 2, 3]
    assert fig.data[0].line.dash == "dash" and fig.data[1].line.dash == "solid"
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis2.title.text == "top-1 accuracy"
    assert "epoch" in hover(fig.data[0]) and "run run" in hover(fig.data[0])
    several = training_curves({"ResNet-20": RECORDS, "SE-ResNet-20": [{"epoch": 1, "val_acc": 0.5}]})
    assert [t.name for t in several.data] == [
        "ResNet-20 train",
        "ResNet-20 val",
        "ResNet-20 train",
        "ResNet-20 val",
        "SE-ResNet-20 val",
    ]
    with pytest.raises(ValueError, match="'epoch' key"):
        training_curves([{"val_acc": 0.5}])
    with pytest.raises(ValueError, match="0 record"):
        training_curves([])


def test_overlay_paints_heat_only_where_attribution_is():
    image = torch.randint(0, 256, (3, 6, 5), dtype=torch.uint8)
    attribution = torch.zeros(6, 5)
    attribution[2, 3] = -4.0  # signed maps are shown by magnitude
    out = overlay(image, attribution, alpha=0.5)
    assert out.shape == (6, 5, 3) and out.min() >= 0 and out.max() <= 1
    plain = image.permute(1, 2, 0).numpy() / 255
    mask = np.ones((6, 5), bool)
    mask[2, 3] = False
    np.testing.assert_allclose(out[mask], plain[mask])
    np.testing.assert_allclose(out[2, 3], 0.5 * plain[2, 3] + 0.5 * np.ones(3))  # full heat = white
    hwc = overlay(image.permute(1, 2, 0).numpy(), attribution.numpy(), alpha=0.5)  # (H, W, 3) works too
    np.testing.assert_allclose(hwc, out)
    with pytest.raises(ValueError, match="upsample"):
        overlay(image, torch.zeros(3, 3))


def test_attribution_overlay_figure():
    image = torch.randn(3, 8, 8)  # a normalised image is stretched to [0, 1] for display
    attribution = torch.randn(8, 8)
    fig = attribution_overlay(image, attribution, title="Integrated Gradients")
    assert [type(t).__name__ for t in fig.data] == ["Image", "Heatmap"]
    assert np.asarray(fig.data[0].z).shape == (8, 8, 3) and np.asarray(fig.data[1].z).shape == (8, 8)
    assert fig.data[1].zmid == 0  # signed map: diverging colours
    assert fig.layout.title.text == "Integrated Gradients" and "attribution" in hover(fig.data[1])
    assert attribution_overlay(image, attribution.abs()).data[1].zmin == 0
    with pytest.raises(ValueError, match="3 colour channels"):
        attribution_overlay(torch.rand(4, 8, 8), attribution)


def test_heatmap_csv_round_trips():
    z = np.array([[0.25, 1 / 3, np.nan], [1.0, -2.5e-7, 0.5]])
    text = heatmap_csv(z, ["SE_2_1", "SE_3_1"], [0, 1, 2], corner="layer")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["layer", "0", "1", "2"]
    assert [r[0] for r in rows[1:]] == ["SE_2_1", "SE_3_1"]
    back = np.array([[float(v) if v else math.nan for v in r[1:]] for r in rows[1:]])
    np.testing.assert_array_equal(back, z)  # exact: repr() keeps every digit, NaN -> empty field
    with pytest.raises(ValueError, match="labels"):
        heatmap_csv(z, ["a"], [0, 1, 2])


def test_prediction_bars_group_and_order_by_the_first_entry():
    classes = ["airplane", "cat", "dog", "ship"]
    before = torch.tensor([0.1, 0.6, 0.25, 0.05])
    after = torch.tensor([0.7, 0.1, 0.1, 0.1])
    fig = prediction_bars({"unmodified": before, "gates off": after}, classes, top_k=3)
    assert [t.name for t in fig.data] == ["unmodified", "gates off"] and fig.layout.barmode == "group"
    assert list(fig.data[0].x) == ["cat", "dog", "airplane"]  # top 3 of the first entry, most probable first
    assert np.allclose(fig.data[1].y, [0.1, 0.1, 0.7])  # the same classes for the second entry
    assert "gates off" in hover(fig.data[1]) and "probability" in hover(fig.data[1])
    with pytest.raises(ValueError, match="has 3 probabilities but there are 4 classes"):
        prediction_bars({"x": [0.2, 0.3, 0.5]}, classes)
    with pytest.raises(ValueError, match="no predictions given"):
        prediction_bars({}, classes)


def test_ablation_comparison_shows_mean_std_and_paper():
    from senet_lib.training.grid_tables import Row

    rows = [
        Row("r = 2", {}, 22.29, [10.0, 12.0]),
        Row("r = 16", {}, 22.28, [11.0]),
        Row("ours only", {}, None, [9.0]),
    ]
    fig = ablation_comparison(rows, caption="paper ImageNet top-1 err (%)")
    ours, paper = fig.data
    assert list(ours.x) == ["r = 2", "r = 16", "ours only"]
    assert np.allclose(ours.y, [11.0, 11.0, 9.0]) and np.allclose(
        ours.error_y.array, [math.sqrt(2), 0.0, 0.0]
    )
    assert np.allclose(paper.y[:2], [22.29, 22.28]) and np.isnan(paper.y[2])
    assert fig.layout.annotations[1].text == "paper ImageNet top-1 err (%)"
    low, high = fig.layout.yaxis2.range
    assert low > 20 and high < 25  # zoomed on the paper's numbers, not from 0
    with pytest.raises(ValueError, match=r"rows \['r = 16'\] have no finished runs"):
        ablation_comparison([Row("r = 16", {}, 22.28, [])])

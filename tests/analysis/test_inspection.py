"""senet_lib.inspection (one forward pass: prediction + excitations, interventions), export.figure_csv,
and the latency benchmark."""

import csv
import io

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from senet_lib.analysis import latency
from senet_lib.analysis.excitation import override_gates, record_excitations
from senet_lib.analysis.export import figure_csv
from senet_lib.analysis.figures import (
    excitation_distribution,
    excitation_heatmap,
    prediction_bars,
)
from senet_lib.analysis.images import InputFormat, load_image, to_model_input
from senet_lib.analysis.inspection import Inspection, LoadedModel, excitations_by_class, inspect
from senet_lib.checkpoint import CheckpointError
from senet_lib.models import create_model
from senet_lib.paths import REPO_ROOT, checkpoints_dir, samples_dir

ROOT = REPO_ROOT
SAMPLES = samples_dir()
CLASSES = [f"c{k}" for k in range(10)]
SPEC = InputFormat(32, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


@pytest.fixture(scope="module")
def se_model():
    torch.manual_seed(0)
    return LoadedModel(
        create_model("se_resnet20").eval(), "se_resnet20", "se_resnet20 (random)", CLASSES, SPEC
    )


@pytest.fixture(scope="module")
def x():
    return torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_inspect_is_one_forward_pass_with_every_excitation(se_model, x):
    result = inspect(se_model, x)
    with torch.no_grad(), record_excitations(se_model.model) as rec:
        logits = se_model.model(x)[0]
    torch.testing.assert_close(result.logits, logits)
    torch.testing.assert_close(result.probs, logits.softmax(0))
    assert (
        list(result.excitations)
        == se_model.se_layers
        == [f"SE_{s}_{b}" for s in (2, 3, 4) for b in (1, 2, 3)]
    )
    for name, s in result.excitations.items():
        torch.testing.assert_close(s, rec[name][0])
        assert s.shape == ({"2": 16, "3": 32, "4": 64}[name[3]],)
    top = result.top_k(5)
    assert len(top) == 5 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert top[0] == (result.predicted_class, pytest.approx(float(result.probs.max())))
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        inspect(se_model, x[0])


def test_inspect_with_overrides_intervenes_and_records_what_follows(se_model, x):
    before = inspect(se_model, x)
    after = inspect(se_model, x, {"SE_3_2": {0: 0.0, 5: 0.0, 7: 1.0}})
    with torch.no_grad(), override_gates(se_model.model, {"SE_3_2": {0: 0.0, 5: 0.0, 7: 1.0}}):
        expected = se_model.model(x)[0]
    torch.testing.assert_close(after.logits, expected)
    assert not torch.allclose(after.logits, before.logits)
    s = after.excitations["SE_3_2"]
    assert s[0] == 0 and s[5] == 0 and s[7] == 1  # the recorder sees the overridden gates
    torch.testing.assert_close(s[1:5], before.excitations["SE_3_2"][1:5])
    for name in ("SE_2_1", "SE_2_3", "SE_3_1"):  # upstream: untouched
        torch.testing.assert_close(after.excitations[name], before.excitations[name])
    assert not torch.allclose(
        after.excitations["SE_4_1"], before.excitations["SE_4_1"]
    )  # downstream responds


def test_plain_model_has_a_prediction_and_no_excitations(x):
    plain = LoadedModel(create_model("resnet20").eval(), "resnet20", "resnet20", CLASSES, SPEC)
    result = inspect(plain, x)
    assert result.excitations == {} and plain.se_layers == [] and result.probs.shape == (10,)


def test_top_k_ties_follow_class_order():
    result = Inspection(torch.zeros(4), torch.full((4,), 0.25), {}, list("abcd"))
    assert result.top_k(2) == [("a", 0.25), ("b", 0.25)] and result.predicted_class == "a"


def test_shipped_checkpoint_prediction_matches_the_model(tmp_path):
    loaded = LoadedModel.from_checkpoint(checkpoints_dir() / "se_resnet20")
    assert loaded.label == "se_resnet20" and loaded.classes[3] == "cat" and loaded.input_format.size == 32
    assert set(loaded.profiles) == set(loaded.se_layers) == set(loaded.probes)
    image = load_image((SAMPLES / "ship_1.jpg").read_bytes())
    x = to_model_input(image, loaded.input_format)
    result = inspect(loaded, x)
    with torch.no_grad():
        assert result.predicted == int(loaded.model(x).argmax())


def test_excitations_by_class(se_model):
    x = torch.randn(5, 3, 32, 32)
    groups = excitations_by_class(se_model, x, [3, 1, 3, 3, 1], "SE_4_1")
    assert list(groups) == ["c1", "c3"] and groups["c1"].shape == (2, 64) and groups["c3"].shape == (3, 64)


def test_from_meta_needs_classes_and_normalisation(se_model):
    meta = {
        "model": {"name": "se_resnet20", "num_classes": 10},
        "normalization": {"mean": [0] * 3, "std": [1] * 3},
    }
    with pytest.raises(CheckpointError, match="classes"):
        LoadedModel.from_meta(se_model.model, meta, "x")
    with pytest.raises(CheckpointError, match="normalization"):
        LoadedModel.from_meta(se_model.model, {"model": meta["model"], "classes": CLASSES}, "x")


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_figure_csv_heatmap_lines_and_bars():
    table = rows(
        figure_csv(excitation_heatmap({"SE_2_1": torch.tensor([0.25, 0.5]), "SE_3_1": torch.tensor([1.0])}))
    )
    assert table == [
        ["SE layer (depth) \\ channel", "0", "1"],
        ["SE_2_1", "0.25", "0.5"],
        ["SE_3_1", "1.0", ""],
    ]
    dist = rows(
        figure_csv(excitation_distribution({"cat": torch.tensor([[0.0, 1.0], [1.0, 1.0]])}, "SE_2_1"))
    )
    assert dist[0] == ["series", "channel", "excitation (mean ± std)", "std"]
    assert dist[1] == ["cat (2)", "0", "0.5", repr(float(np.std([0.0, 1.0])))]  # bands are skipped
    assert [r[0] for r in dist[1:]] == ["cat (2)", "cat (2)", "all (2)", "all (2)"]
    bars = rows(figure_csv(prediction_bars({"before": [0.7, 0.3], "after": [0.4, 0.6]}, ["cat", "dog"])))
    assert bars[0] == ["series", "class", "probability"] and ["after", "dog", "0.6"] in bars
    with pytest.raises(ValueError, match="no heatmap"):
        figure_csv(go.Figure())


def test_latency_benchmark_measures_every_stage(capsys):
    loaded = LoadedModel.from_checkpoint(checkpoints_dir() / "se_resnet20")
    files = sorted(SAMPLES.glob("*.jpg"))[:3]
    timings = latency.measure(loaded, files, warmup=1)
    assert len(timings) == 3 and all(set(t) == set(latency.STAGES) and min(t.values()) > 0 for t in timings)
    figures = latency.excitation_figures(
        loaded, inspect(loaded, to_model_input(load_image(files[0].read_bytes()), loaded.input_format))
    )
    assert len(figures) == 3  # heatmap, image vs class means, the probes' classes by depth
    from senet_lib.cli import main

    assert main(["latency", "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 images, per image" in out and "p90" in out and "150 ms target" in out
    for stage in latency.STAGES:
        assert stage in out

"""senet_lib.analysis.probe: the per-layer linear probe on excitations, its scores, JSON form and the command
that fits it on a checkpoint's training split and scores it on the validation split."""

import pytest
import torch

from senet_lib.analysis.figures import probe_by_depth, probe_heatmap
from senet_lib.analysis.probe import (
    LayerProbe,
    collect_excitations,
    fit_probe,
    probe_probabilities,
    probes_from_json,
    probes_to_json,
    score_probe,
)
from senet_lib.models import create_model


def separable(n: int = 300, channels: int = 8, classes: int = 3, seed: int = 0):
    """Excitations in (0, 1) whose class shows in its own channel: (N, C) and labels (N,)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes
    s = 0.3 + 0.1 * torch.rand(n, channels, generator=g)
    s[torch.arange(n), labels] += 0.4  # class k lights channel k
    return s, labels


def test_fit_probe_reads_the_class_from_separable_excitations():
    s, labels = separable()
    weight, bias = fit_probe(s, labels, 3)
    assert weight.shape == (3, 8) and bias.shape == (3,)
    test_s, test_labels = separable(seed=1)
    accuracy, agreement = score_probe(weight, bias, test_s, test_labels, torch.zeros_like(test_labels))
    assert accuracy == 1.0 and agreement == pytest.approx(1 / 3)  # agrees only where the "network" said 0


def test_fit_probe_on_noise_is_near_chance_on_new_images():
    g = torch.Generator().manual_seed(0)
    s, labels = torch.rand(600, 8, generator=g), torch.randint(0, 4, (600,), generator=g)
    weight, bias = fit_probe(s, labels, 4)
    test_s, test_labels = torch.rand(2000, 8, generator=g), torch.randint(0, 4, (2000,), generator=g)
    accuracy, _ = score_probe(weight, bias, test_s, test_labels, test_labels)
    assert 0.18 < accuracy < 0.32  # chance is 0.25: nothing to read


def test_fit_probe_rejects_misshapen_input():
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        fit_probe(torch.rand(5), torch.zeros(5), 2)


def test_probe_probabilities_and_json_round_trip():
    s, labels = separable()
    weight, bias = fit_probe(s, labels, 3)
    probes = {"SE_2_1": LayerProbe(weight, bias, 0.9, 0.8, 0.95, 300)}
    image = {"SE_2_1": s[4], "SE_3_1": torch.rand(16)}  # SE_3_1 has no probe: skipped
    layers, p = probe_probabilities(image, probes)
    assert layers == ["SE_2_1"] and p.shape == (1, 3) and int(p[0].argmax()) == int(labels[4])
    torch.testing.assert_close(p.sum(1), torch.ones(1))
    back = probes_from_json(probes_to_json(probes, "train", "val"))
    torch.testing.assert_close(back["SE_2_1"].weight, weight, atol=1e-6, rtol=0)
    assert back["SE_2_1"].accuracy == 0.9 and back["SE_2_1"].count == 300
    with pytest.raises(ValueError, match="channels"):
        probe_probabilities({"SE_2_1": torch.rand(5)}, probes)
    with pytest.raises(ValueError, match="SE_2_1"):
        probes_from_json({"layers": {"SE_2_1": {"weight": [[1.0]], "bias": [0.0, 1.0]}}})


def test_collect_excitations_records_every_layer_labels_and_predictions():
    torch.manual_seed(0)
    model = create_model("se_resnet20").eval()
    batches = [(torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])) for _ in range(2)]
    s, labels, predictions = collect_excitations(model, batches)
    assert len(s) == 9 and s["SE_4_3"].shape == (8, 64) and labels.tolist() == [0, 1, 2, 3] * 2
    with torch.no_grad():
        expected = model(batches[1][0]).argmax(1)
    assert predictions[4:].tolist() == expected.tolist()


def test_probe_figures():
    fig = probe_heatmap(
        torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), ["SE_2_1", "SE_4_3"], list("abc"), 2
    )
    heat, probe_class, predicted = fig.data
    assert list(probe_class.x) == ["a", "c"] and list(predicted.x) == ["c", "c"]
    probes = {"SE_2_1": LayerProbe(torch.zeros(3, 2), torch.zeros(3), 0.4, 0.3, 0.5, 10)}
    lines = probe_by_depth(probes, chance=1 / 3, network_accuracy=0.87)
    assert [t.name for t in lines.data] == [
        "probe accuracy (true class)",
        "agreement with the network",
        "chance",
        "network accuracy",
    ]
    probes["SE_4_3"] = LayerProbe(torch.zeros(3, 2), torch.zeros(3), 0.6, 0.6, 0.7, 10)
    marked = probe_by_depth(probes, near_constant=["SE_4_3", "SE_9_9"]).data[
        -1
    ]  # a layer without a probe: skipped
    assert list(marked.x) == ["SE_4_3"] and list(marked.y) == [0.6] and marked.marker.symbol == "x"
    assert len(probe_by_depth(probes).data) == 2  # nothing near-constant: no crosses
    with pytest.raises(ValueError, match="layers"):
        probe_heatmap(torch.rand(2, 3), ["SE_2_1"], list("abc"))


def test_probe_command_fits_on_train_scores_on_val_into_the_sidecar(tmp_path, capsys):
    from senet_lib.checkpoint import read_meta, save_checkpoint
    from senet_lib.cli import main as senet

    torch.manual_seed(0)
    model = create_model("se_resnet20")
    meta = {
        "model": model.spec,
        "classes": [f"class_{k}" for k in range(10)],
        "normalization": {"mean": [0.5] * 3, "std": [0.25] * 3},
        "recipe": {"dataset": "synthetic", "val_size": 100, "seed": 0},
        "data": {"image_size": 32},
    }
    save_checkpoint(tmp_path / "tiny", model, meta)
    assert senet(["probe", str(tmp_path / "tiny"), "--device", "cpu", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "SE_2_1" in printed and "agrees with the network" in printed
    record = read_meta(tmp_path / "tiny")["excitation_probes"]
    assert record["fit_split"] == "train" and record["score_split"] == "val"
    probes = probes_from_json(record)
    assert len(probes) == 9 and probes["SE_4_3"].weight.shape == (10, 64)
    assert all(p.count == 100 and 0 <= p.accuracy <= 1 and 0 <= p.agreement <= 1 for p in probes.values())
    assert read_meta(tmp_path / "tiny")["model"]["name"] == "se_resnet20"  # the rest of the sidecar is kept

"""Finding SE layers, recording and overriding excitations, class profiles and eta^2 (excitation.py)."""

import pytest
import torch
from torch import nn

from senet_lib.analysis.excitation import override_gates, record_excitations
from senet_lib.analysis.profiles import (
    NEAR_CONSTANT_SPREAD,
    ClassStats,
    ExcitationProfile,
    class_mean_profiles,
    class_specificity,
    excitation_spread,
    profiles_from_json,
    profiles_to_json,
)
from senet_lib.se import SEBlock
from senet_lib.se_layers import find_se_layers, gate_module, paper_name, se_channels


class Block(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.se = SEBlock(c, reduction=2)

    def forward(self, x):
        return x + self.se(self.conv(x))


class TinySENet(nn.Module):
    """Stem + two stages of SE blocks, named like our models (layer{i}.{j}.se)."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.layer1 = nn.Sequential(Block(4), Block(4))
        self.layer2 = nn.Sequential(nn.Conv2d(4, 8, 1), Block(8))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(x.mean((2, 3)))


class LinearInGate(nn.Module):
    """logits = W (s * u) with u = 1: each logit is a known linear function of the gated channels."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Sequential(nn.Module())
        self.layer1[0].se = SEBlock(2, reduction=1)
        self.fc = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[3.0, 0.0], [1.0, 5.0]]))

    def forward(self, x):  # x: (N, 2, H, W), fed as u
        return self.fc(self.layer1[0].se(x).mean((2, 3)))


def all_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_paper_names_and_order():
    model = TinySENet()
    assert list(find_se_layers(model)) == ["SE_2_1", "SE_2_2", "SE_3_2"]
    assert paper_name("layer3.5.se") == "SE_4_6"
    assert paper_name("module.layer1.0.se") == "SE_2_1"
    assert paper_name("features.3.block.2") == "features.3.block.2"


def test_recorder_shapes_values_and_no_hooks_left():
    torch.manual_seed(0)
    model = TinySENet().eval()
    x = torch.randn(5, 3, 8, 8)
    with record_excitations(model) as rec:
        model(x)
        model(x[:2])
    assert all_hooks(model) == 0
    assert rec["SE_2_1"].shape == (7, 4) and rec["SE_3_2"].shape == (7, 8)
    se = model.layer1[0].se
    u = model.layer1[0].conv(model.stem(x))
    torch.testing.assert_close(rec["SE_2_1"][:5], se.excite(se.squeeze(u)))
    assert not rec["SE_2_1"].requires_grad


def test_recorder_selected_layers_and_bad_name():
    model = TinySENet()
    with record_excitations(model, ["SE_3_2"]) as rec:
        model(torch.randn(1, 3, 4, 4))
    assert rec.names() == ["SE_3_2"]
    with pytest.raises(KeyError, match="SE_2_1"):
        with record_excitations(model, ["SE_9_9"]):
            pass
    with pytest.raises(ValueError, match="no SE layers"):
        with record_excitations(nn.Linear(2, 2)):
            pass


def test_no_hooks_left_after_exception():
    model = TinySENet()
    with pytest.raises(RuntimeError, match="boom"):
        with record_excitations(model):
            model(torch.randn(1, 3, 4, 4))
            raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        with override_gates(model, {"SE_2_1": 0.0}):
            raise RuntimeError("boom")
    assert all_hooks(model) == 0


def test_override_removes_known_logit_contribution():
    torch.manual_seed(0)
    model = LinearInGate().eval()
    u = torch.ones(3, 2, 4, 4)
    with record_excitations(model) as rec:
        base = model(u)
    s = rec["SE_2_1"]  # (3, 2)
    torch.testing.assert_close(base, s @ model.fc.weight.T)
    with override_gates(model, {"SE_2_1": {1: 0.0}}):
        cut = model(u)
    # logit 0 = 3 s_0 (no channel-1 term) is unchanged; logit 1 = s_0 + 5 s_1 loses 5 s_1
    torch.testing.assert_close(cut[:, 0], base[:, 0])
    torch.testing.assert_close(cut[:, 1], base[:, 1] - 5 * s[:, 1])
    with override_gates(model, {"SE_2_1": torch.tensor([1.0, 0.5])}):
        torch.testing.assert_close(model(u), torch.tensor([[3.0, 3.5]]).expand(3, 2))
    with override_gates(model, {"SE_2_1": lambda s: 2 * s}):
        torch.testing.assert_close(model(u), 2 * base)
    assert all_hooks(model) == 0


def test_override_bad_inputs():
    model = LinearInGate()
    with pytest.raises(IndexError, match="out of range"):
        with override_gates(model, {"SE_2_1": {7: 0.0}}):
            model(torch.ones(1, 2, 2, 2))
    with pytest.raises(TypeError, match="override must be"):
        with override_gates(model, {"SE_2_1": "zero"}):
            pass
    assert all_hooks(model) == 0


def test_recorder_entered_after_override_sees_new_values():
    model = TinySENet()
    with override_gates(model, {"SE_3_2": 0.25}), record_excitations(model, ["SE_3_2"]) as rec:
        model(torch.randn(2, 3, 4, 4))
    assert torch.equal(rec["SE_3_2"], torch.full((2, 8), 0.25))


def test_specificity_known_values():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat(2000)  # balanced, 3 classes
    same = torch.rand(6000, 4, generator=g)  # class-independent
    assert class_specificity(same, labels, 3) < 0.01
    const = torch.tensor([[0.1, 0.9], [0.5, 0.2], [0.7, 0.7]])[labels]  # constant within class
    assert class_specificity(const, labels, 3) == pytest.approx(1.0)
    # one channel, classes {0: [0, 2], 1: [4, 6]}: grand mean 3, SS_total = 9+1+1+9 = 20,
    # class means 1 and 5, SS_between = 2*(1-3)^2 + 2*(5-3)^2 = 16 -> eta^2 = 0.8
    x = torch.tensor([[0.0], [2.0], [4.0], [6.0]])
    assert class_specificity(x, torch.tensor([0, 0, 1, 1]), 2) == pytest.approx(0.8)
    # SS add over channels: a second channel [0, 6 | 4, 2] has class means 3 = grand mean,
    # so SS_between 0 and SS_total 20 -> eta^2 = (16 + 0) / (20 + 20)
    x2 = torch.cat([x, torch.tensor([[0.0], [6.0], [4.0], [2.0]])], 1)
    assert class_specificity(x2, torch.tensor([0, 0, 1, 1]), 2) == pytest.approx(0.4)
    assert class_specificity(torch.ones(4, 2), torch.tensor([0, 0, 1, 1]), 2) == 0.0


def test_spread_known_values():
    # channel 1: [0, 2, 4, 6] around 3 -> squares 9, 1, 1, 9; channel 2 constant -> 0; mean of the 8 is 20/8
    x = torch.tensor([[0.0, 0.5], [2.0, 0.5], [4.0, 0.5], [6.0, 0.5]])
    assert excitation_spread(x) == pytest.approx((20 / 8) ** 0.5)
    assert excitation_spread(torch.full((5, 3), 0.4)) == 0.0
    # a gate that moves by 1e-5 has a spread of 1e-5, whatever its eta^2 (here 1: the class decides it)
    tiny = 0.5 + 1e-5 * torch.tensor([[1.0], [1.0], [-1.0], [-1.0]], dtype=torch.float64)
    assert class_specificity(tiny, torch.tensor([0, 0, 1, 1]), 2) == pytest.approx(1.0)
    assert excitation_spread(tiny) == pytest.approx(1e-5) and excitation_spread(tiny) < NEAR_CONSTANT_SPREAD
    with pytest.raises(ValueError, match=r"expected excitations \(N, C\)"):
        excitation_spread(torch.rand(4))


def test_streaming_matches_batch_and_rejects_bad_labels():
    g = torch.Generator().manual_seed(1)
    x, labels = torch.rand(50, 3, generator=g), torch.randint(0, 4, (50,), generator=g)
    stats = ClassStats(4, 3)
    for i in range(0, 50, 7):
        stats.update(x[i : i + 7], labels[i : i + 7])
    assert stats.specificity() == pytest.approx(class_specificity(x, labels, 4))
    assert stats.spread() == pytest.approx(excitation_spread(x))
    torch.testing.assert_close(stats.means[1], x[labels == 1].mean(0))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\)"):
        stats.update(x[:2], torch.tensor([0, 4]))


def test_class_mean_profiles():
    torch.manual_seed(0)
    model = TinySENet().train()
    images, labels = torch.randn(12, 3, 6, 6), torch.tensor([0, 1] * 6)
    loader = [(images[:5], labels[:5]), (images[5:], labels[5:])]
    profiles = class_mean_profiles(model, loader, num_classes=3, progress=False)
    assert model.training and all_hooks(model) == 0
    assert list(profiles) == ["SE_2_1", "SE_2_2", "SE_3_2"]
    p = profiles["SE_3_2"]
    assert p.means.shape == (3, 8) and p.counts.tolist() == [6, 6, 0]
    assert torch.isnan(p.means[2]).all()
    with record_excitations(model.eval()) as rec:
        model(images)
    torch.testing.assert_close(p.means[0], rec["SE_3_2"][labels == 0].mean(0))
    assert p.specificity == pytest.approx(class_specificity(rec["SE_3_2"], labels, 3), abs=1e-6)
    assert p.spread == pytest.approx(excitation_spread(rec["SE_3_2"]), rel=1e-4)


def test_profiles_json_round_trip_keeps_spread_and_reads_older_sidecars():
    profiles = {"SE_2_1": ExcitationProfile(torch.rand(2, 4), torch.tensor([3, 1]), 0.3, 2e-4)}
    back = profiles_from_json(profiles_to_json(profiles, "val"))["SE_2_1"]
    assert back.spread == 2e-4 and back.near_constant is True and back.counts.tolist() == [3, 1]
    older = profiles_to_json(profiles, "val")
    del older["layers"]["SE_2_1"]["spread"]  # written before the spread was stored
    assert profiles_from_json(older)["SE_2_1"].near_constant is None


@pytest.mark.parametrize("name", ["efficientnet_b0", "mobilenet_v3_small", "regnet_y_400mf"])
def test_torchvision_models(name):
    import torchvision

    model = torchvision.models.get_model(name, weights=None).eval()
    expected = [m for m in model.modules() if type(m).__name__ == "SqueezeExcitation"]
    layers = find_se_layers(model)
    assert len(layers) == len(expected) > 0
    assert all(type(gate_module(se)).__name__ in {"Sigmoid", "Hardsigmoid"} for se in layers.values())
    with torch.no_grad(), record_excitations(model) as rec:
        model(torch.randn(2, 3, 64, 64))
    for name_, se in layers.items():
        assert rec[name_].shape == (2, se.fc2.out_channels)
    assert all_hooks(model) == 0


@pytest.mark.parametrize(
    "name, se_class, first, last",
    [
        ("seresnet18", "SEModule", "SE_2_1", "SE_5_2"),  # timm names stages layer1..4 as we do
        ("legacy_seresnet18", "SEModule", "SE_2_1", "SE_5_2"),  # layer{i}.{j}.se_module
        ("mobilenetv3_small_100", "SqueezeExcite", "blocks.0.0.se", "blocks.4.2.se"),
    ],
)
def test_timm_models(name, se_class, first, last):
    timm = pytest.importorskip("timm")
    model = timm.create_model(name, pretrained=False, num_classes=5).eval()
    layers = find_se_layers(model)
    expected = [m for m in model.modules() if type(m).__name__ == se_class]
    assert len(layers) == len(expected) > 0
    assert list(layers)[0] == first and list(layers)[-1] == last
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad(), record_excitations(model) as rec:
        base = model(x)
    assert rec[last].shape == (2, se_channels(layers[last]))
    with torch.no_grad(), override_gates(model, {last: rec[last]}):
        torch.testing.assert_close(model(x), base)
    assert all_hooks(model) == 0


def test_se_resnet20_names_and_interventions():
    from senet_lib.models import create_model

    torch.manual_seed(0)
    model = create_model("se_resnet20").eval()
    layers = find_se_layers(model)
    assert list(layers) == [f"SE_{s}_{b}" for s in (2, 3, 4) for b in (1, 2, 3)]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), record_excitations(model) as rec:
        base = model(x)
    last = [name for name in layers if name.startswith("SE_4_")]
    with torch.no_grad(), override_gates(model, {name: 0.0 for name in last}):
        zeroed = model(x)
    with torch.no_grad(), override_gates(model, {name: rec[name] for name in last}):
        same = model(x)
    assert not torch.allclose(zeroed, base, atol=1e-4)
    torch.testing.assert_close(same, base)
    assert all_hooks(model) == 0

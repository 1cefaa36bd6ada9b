"""Captum wrappers (attribution.py) against hand-written autograd, IG completeness and gate interventions."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from senet_lib.analysis.attribution import gate_attribution, grad_cam, integrated_gradients, saliency
from senet_lib.analysis.excitation import override_gates
from senet_lib.models import create_model
from senet_lib.se_layers import find_se_layers, gate_module

SIZE = 16  # se_resnet20 runs on any size (adaptive pooling); 16x16 keeps the tests quick on a CPU


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny batches: one thread is faster, and much faster beside a busy CPU job (no oversubscription)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("se_resnet20").eval()


@pytest.fixture(scope="module")
def model64():
    torch.manual_seed(0)
    return create_model("se_resnet20").double().eval()


@pytest.fixture
def images():
    return torch.randn(3, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))


def logits_of(model, x):
    with torch.no_grad():
        return model(x)


def test_ig_of_a_linear_model_is_input_times_weight():
    torch.manual_seed(0)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 5)).double()
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    target = torch.tensor([1, 4])
    maps = integrated_gradients(linear, x, target, steps=4)
    w = linear[1].weight[target].reshape(2, 3, 4, 4)
    torch.testing.assert_close(maps, (x * w).sum(1).detach())  # IG = (x - 0) * dF/dx, summed over channels


@pytest.mark.parametrize("baseline", [None, 0.5])
def test_ig_completeness_on_se_resnet20(model64, baseline):
    x = torch.randn(2, 3, SIZE, SIZE, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    target = torch.tensor([3, 7])
    maps, delta = integrated_gradients(model64, x, target, baseline=baseline, steps=32, return_delta=True)
    assert maps.shape == (2, SIZE, SIZE)
    base = torch.zeros_like(x) if baseline is None else torch.full_like(x, baseline)
    diff = (logits_of(model64, x) - logits_of(model64, base))[torch.arange(2), target]  # F(x) - F(x')
    torch.testing.assert_close(maps.sum((1, 2)), diff + delta)  # the maps are a signed channel sum
    # completeness, up to the quadrature error of a piecewise-linear (ReLU) network
    assert (delta.abs() <= 0.05 * diff.abs().clamp(min=0.05)).all(), (delta, diff)


def test_saliency_is_max_abs_gradient_over_channels(model, images):
    target = torch.tensor([0, 5, 9])
    x = images.clone().requires_grad_()
    model(x)[torch.arange(3), target].sum().backward()
    expected = x.grad.abs().amax(1)  # (N, 3, H, W) -> (N, H, W)
    torch.testing.assert_close(saliency(model, images, target), expected)


def test_default_target_is_the_predicted_class(model, images):
    predicted = logits_of(model, images).argmax(1)
    torch.testing.assert_close(saliency(model, images), saliency(model, images, predicted))
    one = saliency(model, images, 2)
    torch.testing.assert_close(one, saliency(model, images, torch.tensor([2, 2, 2])))


def test_grad_cam_matches_hand_computation(model, images):
    target = torch.tensor([1, 2, 3])
    feats = {}
    handle = model.layer3.register_forward_hook(lambda m, i, out: feats.update(a=out))
    try:
        out = model(images)
    finally:
        handle.remove()
    a = feats["a"]  # (N, 64, h, w)
    (grads,) = torch.autograd.grad(out[torch.arange(3), target].sum(), a)
    alpha = grads.mean((2, 3), keepdim=True)  # Grad-CAM weights: spatially averaged gradients
    cam = F.relu((alpha * a).sum(1, keepdim=True))  # (N, 1, h, w)
    expected = F.interpolate(cam, size=(SIZE, SIZE), mode="bilinear")[:, 0].detach()

    maps = grad_cam(model, images, target)
    assert maps.shape == (3, SIZE, SIZE)
    assert (maps >= 0).all()
    torch.testing.assert_close(maps, expected)
    small = grad_cam(model, images, target, upsample=False)
    assert small.shape == (3, SIZE // 4, SIZE // 4)  # layer3 has stride 4
    torch.testing.assert_close(small, cam[:, 0].detach())


def test_grad_cam_layer_by_name(model, images):
    maps = grad_cam(model, images, 0, layer="layer2")
    assert maps.shape == (3, SIZE, SIZE) and (maps >= 0).all()
    with pytest.raises(ValueError, match="no submodule"):
        grad_cam(model, images, 0, layer="layer9")
    with pytest.raises(ValueError, match="layerK"):
        grad_cam(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(2)), images)


def test_gate_attribution_shapes_per_se_layer(model, images):
    attrs = gate_attribution(model, images)
    expected = {
        f"SE_{stage + 1}_{block}": 16 * 2 ** (stage - 1) for stage in (1, 2, 3) for block in (1, 2, 3)
    }
    assert {name: tuple(a.shape) for name, a in attrs.items()} == {
        name: (3, c) for name, c in expected.items()
    }
    assert list(attrs) == list(find_se_layers(model))  # forward (depth) order


def test_gate_gradient_x_activation_matches_hand(model, images):
    target = torch.tensor([4, 4, 8])
    se = find_se_layers(model)["SE_3_2"]
    seen = {}

    def keep(module, inputs, out):
        out.retain_grad()
        seen["s"] = out

    handle = gate_module(se).register_forward_hook(keep)
    try:
        model(images)[torch.arange(3), target].sum().backward()
    finally:
        handle.remove()
    model.zero_grad(set_to_none=True)
    s = seen["s"]
    expected = (s * s.grad).detach()  # s_c * d logit / d s_c
    got = gate_attribution(model, images, target, layers=["SE_3_2"])
    assert list(got) == ["SE_3_2"]
    torch.testing.assert_close(got["SE_3_2"], expected)


def test_gate_integrated_gradients_sums_to_closing_the_layer(model64):
    x = torch.randn(2, 3, SIZE, SIZE, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    target = torch.tensor([1, 6])
    attrs = gate_attribution(model64, x, target, layers="SE_4_3", method="integrated_gradients", steps=16)
    assert attrs["SE_4_3"].shape == (2, 64)
    with torch.no_grad(), override_gates(model64, {"SE_4_3": 0.0}):
        closed = model64(x)
    diff = (logits_of(model64, x) - closed)[torch.arange(2), target]  # logit(s) - logit(gates closed)
    torch.testing.assert_close(attrs["SE_4_3"].sum(1), diff, atol=1e-3, rtol=1e-2)


def test_training_mode_is_restored(images):
    m = create_model("se_resnet20").train()
    saliency(m, images[:1])
    gate_attribution(m, images[:1], layers=["SE_2_1"])
    assert m.training


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(images=torch.randn(3, SIZE, SIZE)), "batch dimension"),
        (dict(images=torch.randn(SIZE, SIZE)), r"\(N, 3, H, W\)"),
        (dict(target=10), "out of range"),
        (dict(target=-1), "out of range"),
        (dict(target=[1, 2]), "one class index per image"),
        (dict(target=torch.tensor([0.5, 1.0, 2.0])), "int class index"),
    ],
)
def test_bad_input_raises_clear_errors(model, images, kwargs, match):
    args = {"images": images, "target": None, **kwargs}
    for fn in (saliency, integrated_gradients, grad_cam):
        with pytest.raises(ValueError, match=match):
            fn(model, args["images"], args["target"])


def test_gate_attribution_bad_input(model, images):
    with pytest.raises(ValueError, match="no SE layer named"):
        gate_attribution(model, images, layers=["SE_9_9"])
    with pytest.raises(ValueError, match="choose one of"):
        gate_attribution(model, images, method="shap")
    with pytest.raises(ValueError, match="no SE layers"):
        gate_attribution(create_model("resnet20"), images)
    with pytest.raises(ValueError, match="out of range"):
        gate_attribution(model, images, target=11)

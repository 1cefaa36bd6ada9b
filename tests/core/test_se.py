"""The SE block against the paper's equations (Eq. 2-4), torchvision, gradcheck and odd inputs."""

import pytest
import torch
from torch import nn
from torchvision.ops import SqueezeExcitation

from senet_lib.se import GATES, SEBlock, excite, hidden_width, scale, squeeze


def loop_se(u, w1, b1, w2, b2, gate):
    """Eq. 2-4 written with explicit loops, as a reader would on paper."""
    n, c, h, w = u.shape
    out = torch.empty_like(u)
    for i in range(n):
        z = [sum(u[i, k, a, b] for a in range(h) for b in range(w)) / (h * w) for k in range(c)]  # Eq. 2
        hid = [
            max(0.0, sum(w1[j, k] * z[k] for k in range(c)) + b1[j]) for j in range(w1.shape[0])
        ]  # delta(W1 z)
        s = [gate(sum(w2[k, j] * hid[j] for j in range(len(hid))) + b2[k]) for k in range(c)]  # Eq. 3
        for k in range(c):
            out[i, k] = s[k] * u[i, k]  # Eq. 4
    return out


def test_block_matches_loop_implementation():
    torch.manual_seed(0)
    block = SEBlock(8, reduction=4).double()
    u = torch.randn(2, 8, 3, 5, dtype=torch.float64)
    ref = loop_se(u, block.fc1.weight, block.fc1.bias, block.fc2.weight, block.fc2.bias, torch.sigmoid)
    torch.testing.assert_close(block(u), ref)


def test_steps_compose_to_block():
    torch.manual_seed(1)
    block = SEBlock(32, reduction=8)
    u = torch.randn(4, 32, 7, 7)
    z = squeeze(u)
    assert z.shape == (4, 32)
    torch.testing.assert_close(z, u.mean(dim=(2, 3)))
    s = excite(z, block.fc1.weight, block.fc2.weight, block.fc1.bias, block.fc2.bias, gate="sigmoid")
    assert s.shape == (4, 32) and bool(((s > 0) & (s < 1)).all())
    torch.testing.assert_close(scale(u, s), block(u))
    torch.testing.assert_close(block.excite(block.squeeze(u)), s)


def test_max_squeeze():
    u = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(squeeze(u, "max"), u.flatten(2).max(dim=2).values)
    block = SEBlock(4, reduction=2, squeeze_mode="max")
    s = block.excite(squeeze(u, "max"))
    torch.testing.assert_close(block(u), u * s[:, :, None, None])


def test_equals_torchvision_squeeze_excitation():
    """Same maths as torchvision's 1x1-conv formulation once the weights are copied across."""
    torch.manual_seed(2)
    ours = SEBlock(64, reduction=16)
    theirs = SqueezeExcitation(64, 4)
    with torch.no_grad():
        theirs.fc1.weight.copy_(ours.fc1.weight[:, :, None, None])  # (C/r, C) -> (C/r, C, 1, 1)
        theirs.fc1.bias.copy_(ours.fc1.bias)
        theirs.fc2.weight.copy_(ours.fc2.weight[:, :, None, None])
        theirs.fc2.bias.copy_(ours.fc2.bias)
    u = torch.randn(3, 64, 9, 11)
    torch.testing.assert_close(ours(u), theirs(u))


@pytest.mark.parametrize("gate", sorted(GATES))
def test_gradcheck_float64(gate):
    torch.manual_seed(3)
    block = SEBlock(6, reduction=2, gate=gate).double()
    u = torch.randn(2, 6, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (u,))


@pytest.mark.parametrize(
    "gate,fn",
    [
        ("sigmoid", torch.sigmoid),
        ("tanh", torch.tanh),
        ("relu", torch.relu),
        ("hard_sigmoid", nn.functional.hardsigmoid),
    ],
)
def test_gate_kinds(gate, fn):
    block = SEBlock(8, reduction=2, gate=gate)
    z = torch.randn(5, 8)
    torch.testing.assert_close(block.excite(z), fn(block.fc2(torch.relu(block.fc1(z)))))


@pytest.mark.parametrize("shape", [(1, 16, 1, 1), (1, 16, 7, 3), (3, 16, 5, 9), (2, 16, 32, 32)])
def test_shapes(shape):
    block = SEBlock(16)
    u = torch.randn(*shape)
    assert block(u).shape == u.shape


def test_channels_last_matches_contiguous():
    block = SEBlock(32, reduction=4)
    u = torch.randn(2, 32, 8, 8)
    out = block(u.to(memory_format=torch.channels_last))
    torch.testing.assert_close(out, block(u))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_forward(dtype):
    block = SEBlock(32, reduction=4)
    u = torch.randn(2, 32, 6, 6)
    out = block.to(dtype)(u.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), block.float()(u), atol=3e-2, rtol=3e-2)


def test_gate_hook_sees_excitation():
    block = SEBlock(16, reduction=4)
    seen = []
    block.gate.register_forward_hook(lambda mod, inp, out: seen.append(out))
    u = torch.randn(2, 16, 4, 4)
    block(u)
    assert seen[0].shape == (2, 16)
    torch.testing.assert_close(seen[0], block.excite(block.squeeze(u)))


def test_hidden_width_rule():
    assert hidden_width(16, 16) == 1  # a CIFAR 16-channel stage at r = 16: one hidden unit
    assert hidden_width(8, 16) == 1  # C/r < 1 still keeps one unit
    assert hidden_width(16, 16, min_hidden=4) == 4
    assert hidden_width(256, 16) == 16
    assert SEBlock(64, reduction=16).hidden == 4
    assert SEBlock(16, reduction=16, min_hidden=8).fc1.out_features == 8


def test_no_bias_option():
    block = SEBlock(32, reduction=4, bias=False)
    assert block.fc1.bias is None and block.fc2.bias is None
    assert sum(p.numel() for p in block.parameters()) == 2 * 32 * 8


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"reduction": 0}, "reduction ratio r must be > 0"),
        ({"reduction": -4}, "reduction ratio r must be > 0"),
        ({"gate": "softmax"}, "unknown gate 'softmax'; choose one of"),
        ({"squeeze_mode": "median"}, "unknown squeeze mode 'median'; choose one of"),
        ({"min_hidden": 0}, "min_hidden must be >= 1"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SEBlock(16, **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="squeeze expects a feature map of shape"):
        squeeze(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 16, H, W\)"):
        SEBlock(16)(torch.randn(2, 8, 4, 4))
    with pytest.raises(ValueError, match="scale needs s of shape"):
        scale(torch.randn(2, 4, 3, 3), torch.randn(2, 5))
    with pytest.raises(ValueError, match="excite expects squeezed descriptors"):
        excite(torch.randn(2, 4, 1, 1), torch.randn(1, 4), torch.randn(4, 1))


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_global_avg_pool_is_the_mean_in_either_layout_with_the_same_gradient(layout):
    from senet_lib.se import global_avg_pool

    u = torch.randn(4, 16, 5, 7, dtype=torch.float64)
    if layout == "channels_last":
        u = u.contiguous(memory_format=torch.channels_last)
    u.requires_grad_(True)
    z = global_avg_pool(u)
    torch.testing.assert_close(z, u.mean(dim=(2, 3)))
    z.pow(2).sum().backward()
    reference = u.detach().clone().requires_grad_(True)
    reference.mean(dim=(2, 3)).pow(2).sum().backward()
    torch.testing.assert_close(u.grad, reference.grad)
    if layout == "channels_last":  # the point of the NHWC path: its gradient stays NHWC
        assert u.grad.is_contiguous(memory_format=torch.channels_last)


def test_scale_add_is_scale_plus_the_residual_and_the_block_folds_it():
    from senet_lib.se import scale_add

    torch.manual_seed(0)
    u, residual, s = torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4), torch.rand(2, 8)
    torch.testing.assert_close(scale_add(u, s, residual), scale(u, s) + residual)
    with pytest.raises(ValueError, match=r"scale needs s of shape \(N, C\) = \(2, 8\)"):
        scale_add(u, s[:, :4], residual)
    block = SEBlock(8, reduction=2)
    torch.testing.assert_close(block(u, residual), block(u) + residual)

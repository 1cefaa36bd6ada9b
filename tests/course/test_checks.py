"""senet_lib.checks: right answers pass with a ✓, each classic mistake gets its plain-words message."""

import pytest
import torch
import torch.nn.functional as F

from senet_lib import se
from senet_lib.course.checks import check_excite, check_scale, check_se_parameters, check_squeeze

# ------------------------------------------------------------------------------------------------ squeeze


def test_squeeze_accepts_the_library_and_a_loop(capsys):
    assert check_squeeze(se.squeeze) is True
    assert check_squeeze(lambda u: u.sum(dim=(2, 3)) / (u.shape[2] * u.shape[3]))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda u: F.adaptive_avg_pool2d(u, 1),
            r"returned shape \(2, 8, 1, 1\).*shape \(N, C\).*forget to flatten",
        ),
        (lambda u: u.sum(dim=(2, 3)), "did you sum instead of averaging"),
        (lambda u: u.amax(dim=(2, 3)), "max pooling"),
        (lambda u: u.sum(dim=(2, 3)) / u.shape[2] ** 2, "H·H or W·W"),
        (lambda u: u.mean(dim=(0, 2, 3)), "average over the batch"),
        (lambda u: u.mean(dim=(1, 2, 3)), "over the channels too"),
        (lambda u: u.mean(dim=3), "only one spatial dimension"),
        (lambda u: u.mean(dim=(2, 3)).numpy(), "return a torch.Tensor"),
        (lambda u: u.mean(dim=(2, 3)) + 1e-2, "values differ from the mean over H and W"),
        (
            lambda u: u.view(u.shape[0], u.shape[1], -1).mean(dim=2, keepdim=True).reshape(5),
            "raised RuntimeError",
        ),
    ],
)
def test_squeeze_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_squeeze(wrong)


# ------------------------------------------------------------------------------------------------ excitation


def test_excite_accepts_the_library_and_matmuls(capsys):
    assert check_excite(se.excite)
    assert check_excite(lambda z, w1, w2: torch.sigmoid(torch.relu(z @ w1.T) @ w2.T))
    assert check_excite(lambda z, w1, w2: torch.sigmoid(w2 @ torch.relu(w1 @ z.T)).T)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z, w1, w2: torch.sigmoid(z @ w1.T @ w2.T), "ReLU δ between the two FC layers is missing"),
        (lambda z, w1, w2: torch.relu(z @ w1.T) @ w2.T, "sigmoid gate σ is missing"),
        (lambda z, w1, w2: torch.softmax(torch.relu(z @ w1.T) @ w2.T, dim=-1), "softmax instead of sigmoid"),
        (lambda z, w1, w2: torch.sigmoid(torch.relu(z @ w1) @ w2), "transposed weights"),
        (lambda z, w1, w2: torch.sigmoid(torch.relu(z @ w2) @ w1), "wrong order"),
        (lambda z, w1, w2: torch.sigmoid(torch.sigmoid(z @ w1.T) @ w2.T), "inner non-linearity δ is a ReLU"),
        (lambda z, w1, w2: torch.sigmoid(w2 @ torch.relu(w1 @ z.T)), r"shape \(8, 3\).*transpose it back"),
        (lambda z, w1, w2: torch.tanh(torch.relu(z @ w1.T) @ w2.T), r"leave \(0, 1\)"),
    ],
)
def test_excite_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_excite(wrong)


# ------------------------------------------------------------------------------------------------ scale


def test_scale_accepts_the_library(capsys):
    assert check_scale(se.scale)
    assert check_scale(lambda u, s: u * s.view(*s.shape, 1, 1))
    assert "✓" in capsys.readouterr().out


def _inplace(u, s):
    u *= s[:, :, None, None]
    return u


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda u, s: u * s, "broadcast along H and W"),
        (lambda u, s: u + s[:, :, None, None], "you added s"),
        (lambda u, s: s[:, :, None, None].expand_as(u), "you returned the weights"),
        (lambda u, s: u * (1 - s[:, :, None, None]), "1 - s"),
        (_inplace, "in place"),
        (lambda u, s: (u * s[:, :, None, None]).mean(dim=(2, 3)), "keeps the shape of U"),
    ],
)
def test_scale_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_scale(wrong)


def test_scale_shape_error_explains_the_reshape():
    def crash(u, s):
        return u * s.unsqueeze(-1)  # (N, C, 1) against (N, C, H, W): a size error at the shapes used

    with pytest.raises(AssertionError, match=r"reshape s to \(N, C, 1, 1\)"):
        check_scale(crash)


# ------------------------------------------------------------------------------------------------ parameters


def test_se_parameters_accepts_the_formula(capsys):
    assert check_se_parameters(lambda c, r: 2 * c * c / r)
    assert check_se_parameters(lambda c, r: 2 * c * (c // r))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda c, r: c * c / r, "one FC layer; the SE block has two"),
        (lambda c, r: 2 * c * c / r + c / r + c, "includes the biases"),
        (lambda c, r: 2 * c / r, "factor C is missing"),
        (lambda c, r: 2 * c * c * r, "multiplied by r"),
        (lambda c, r: 2 * c * c, "reduction ratio is missing"),
        (lambda c, r: 7, r"C=64, r=16 you returned 7, but one SE block adds 2·C²/r = 512"),
        (lambda c, r: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_se_parameters_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_se_parameters(wrong)


def test_checker_formula_agrees_with_a_real_block():
    block = se.SEBlock(64, reduction=16, bias=False)
    assert sum(p.numel() for p in block.parameters()) == 2 * 64 * 64 // 16

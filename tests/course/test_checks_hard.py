"""The harder exercises' checkers (SE block forward, placements, hook recorder, eta^2): each accepts a correct
answer, rejects typical wrong attempts with a plain-words message, and reports a shipped stub as "not done yet"."""

import pytest
import torch

from senet_lib.analysis.profiles import class_specificity
from senet_lib.course.checks import (
    check_eta_squared,
    check_excite,
    check_placement,
    check_recorder,
    check_scale,
    check_se_block,
    check_se_parameters,
    check_squeeze,
)
from senet_lib.se import SEBlock
from senet_lib.se_layers import find_se_layers, gate_module

# ------------------------------------------------------------------------------------------------ stubs


def _stub(*args):
    raise NotImplementedError("average over H and W")


@pytest.mark.parametrize("check", [check_squeeze, check_excite, check_scale, check_se_parameters])
def test_a_stub_is_not_done_yet_not_an_error(check, capsys):
    assert check(_stub) is False
    out = capsys.readouterr().out
    assert "not done yet" in out and "Hint: average over H and W" in out and "notebooks/solutions/" in out


# ------------------------------------------------------------------------------------------------ SE block


def _block(forward):
    return type("MySEBlock", (SEBlock,), {"forward": forward})


def _right(self, u):
    z = u.mean(dim=(2, 3))
    s = self.gate(self.fc2(torch.relu(self.fc1(z))))
    return u * s[:, :, None, None]


def test_se_block_accepts_squeeze_excite_scale(capsys):
    assert check_se_block(_block(_right)) is True
    assert check_se_block(_block(lambda self, u: self.scale(u, self.excite(self.squeeze(u)))))
    assert "✓" in capsys.readouterr().out
    assert check_se_block(_block(lambda self, u: _stub())) is False


@pytest.mark.parametrize(
    "forward, message",
    [
        (lambda self, u: self.gate(self.fc2(torch.relu(self.fc1(u.mean(dim=(2, 3)))))), "that is the excitation s"),
        (lambda self, u: u * self.fc2(torch.relu(self.fc1(u.mean(dim=(2, 3)))))[:, :, None, None], "gate is missing"),
        (lambda self, u: u * self.gate(self.fc2(self.fc1(u.mean(dim=(2, 3)))))[:, :, None, None], "ReLU between fc1 and fc2"),
        (lambda self, u: u * self.gate(self.fc2(torch.relu(self.fc1(u.amax(dim=(2, 3))))))[:, :, None, None], "max pooling"),
        (lambda self, u: u * self.gate(self.fc2(torch.relu(self.fc1(u.mean(dim=(2, 3)))))), "broadcast along H and W"),
        (lambda self, u: u * torch.sigmoid(self.fc2(torch.relu(self.fc1(u.mean(dim=(2, 3))))))[:, :, None, None], "never calls self.gate"),
        (lambda self, u: u * torch.softmax(self.fc2(torch.relu(self.fc1(u.mean(dim=(2, 3))))), 1)[:, :, None, None], "softmax"),
    ],
)  # fmt: skip
def test_se_block_mistakes(forward, message):
    with pytest.raises(AssertionError, match=message):
        check_se_block(_block(forward))


# ------------------------------------------------------------------------------------------------ placements

RIGHT = {
    "standard": lambda unit, x: torch.relu(unit.se(unit.residual(x)) + unit.shortcut(x)),
    "pre": lambda unit, x: torch.relu(unit.residual(unit.se(x)) + unit.shortcut(x)),
    "post": lambda unit, x: unit.se(torch.relu(unit.residual(x) + unit.shortcut(x))),
    "identity": lambda unit, x: torch.relu(unit.residual(x) + unit.shortcut(unit.se(x))),
}


@pytest.mark.parametrize("placement", list(RIGHT))
def test_placement_accepts_the_four_forwards(placement, capsys):
    assert check_placement(RIGHT[placement], placement) is True
    assert f"create_model('se_resnet20', placement='{placement}')" in capsys.readouterr().out


@pytest.mark.parametrize(
    "placement, wrong, message",
    [
        ("standard", RIGHT["post"], "this is SE-POST"),
        (
            "standard",
            lambda unit, x: torch.relu(unit.residual(x) + unit.shortcut(x)),
            "left the SE block out",
        ),
        (
            "standard",
            lambda unit, x: unit.se(unit.residual(x)) + unit.shortcut(x),
            "ReLU after the sum is missing",
        ),
        ("post", lambda unit, x: torch.relu(unit.se(unit.residual(x) + unit.shortcut(x))), "before the ReLU"),
        ("post", RIGHT["standard"], "standard placement"),
        (
            "pre",
            lambda unit, x: torch.relu(unit.residual(unit.se(x)) + unit.shortcut(unit.se(x))),
            "both branches",
        ),
        ("identity", RIGHT["pre"], "this is SE-PRE"),
        (
            "identity",
            lambda unit, x: torch.relu(unit.residual(x)),
            "returned shape|not the identity placement",
        ),
    ],
)
def test_placement_mistakes(placement, wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_placement(wrong, placement)


# ------------------------------------------------------------------------------------------------ recorder


def record_right(model, images):
    found, handles = {}, []
    try:
        for name, se in find_se_layers(model).items():
            hook = lambda module, inputs, output, name=name: found.__setitem__(name, output)  # noqa: E731
            handles.append(gate_module(se).register_forward_hook(hook))
        model(images)
    finally:
        for handle in handles:
            handle.remove()
    return found


def test_recorder_accepts_hooks_on_the_gates(capsys):
    assert check_recorder(record_right) is True
    assert "leaves no hook behind" in capsys.readouterr().out


def _leaky(model, images):
    found = {}
    for name, se in find_se_layers(model).items():
        gate_module(se).register_forward_hook(lambda m, i, o, name=name: found.__setitem__(name, o))
    model(images)
    return found


def _on_the_block(model, images):
    found, handles = {}, []
    for name, se in find_se_layers(model).items():
        handles.append(se.register_forward_hook(lambda m, i, o, name=name: found.__setitem__(name, o)))
    model(images)
    for h in handles:
        h.remove()
    return found


def _gate_input(model, images):
    found, handles = {}, []
    for name, se in find_se_layers(model).items():
        handles.append(
            se.gate.register_forward_hook(lambda m, i, o, name=name: found.__setitem__(name, i[0]))
        )
    model(images)
    for h in handles:
        h.remove()
    return found


def _on_fc2(model, images):
    found, handles = {}, []
    for name, se in find_se_layers(model).items():
        handles.append(se.fc2.register_forward_hook(lambda m, i, o, name=name: found.__setitem__(name, o)))
    model(images)
    for h in handles:
        h.remove()
    return found


_KEPT: dict = {}


def _accumulating(model, images):
    for name, s in record_right(model, images).items():
        _KEPT[name] = torch.cat([_KEPT[name], s]) if name in _KEPT else s
    return dict(_KEPT)


def _paths(model, images):
    return {f"{path}.se": s for path, s in zip(["layer1.0"] * 9, record_right(model, images).values())}


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_leaky, "left 9 hook"),
        (_on_the_block, "SE block's output"),
        (_gate_input, "before the sigmoid"),
        (_on_fc2, "no hook of yours ran"),
        (_accumulating, "earlier call"),
        (_paths, "keys"),
        (lambda model, images: list(record_right(model, images).values()), "return a dict"),
    ],
)
def test_recorder_mistakes(wrong, message):
    _KEPT.clear()
    with pytest.raises(AssertionError, match=message):
        check_recorder(wrong)


# ------------------------------------------------------------------------------------------------ eta^2


def test_eta_squared_accepts_the_pooled_ratio(capsys):
    def eta(s, labels, k):
        grand = s.mean(0)
        between = sum((labels == j).sum() * ((s[labels == j].mean(0) - grand) ** 2).sum() for j in range(k))
        return float(between / ((s - grand) ** 2).sum())

    assert check_eta_squared(eta) is True
    assert check_eta_squared(class_specificity) is True
    assert "summed over channels" in capsys.readouterr().out


def _per_channel_mean(s, labels, k):
    grand = s.mean(0)
    between = sum((labels == j).sum() * (s[labels == j].mean(0) - grand) ** 2 for j in range(k))
    return float((between / ((s - grand) ** 2).sum(0)).mean())


def _unweighted(s, labels, k):
    grand = s.mean(0)
    between = sum(((s[labels == j].mean(0) - grand) ** 2).sum() for j in range(k))
    return float(between / ((s - grand) ** 2).sum())


def _no_centering(s, labels, k):
    grand = s.mean(0)
    between = sum((labels == j).sum() * ((s[labels == j].mean(0) - grand) ** 2).sum() for j in range(k))
    return float(between / (s**2).sum())


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_per_channel_mean, "averaged the per-channel"),
        (_unweighted, "number of images"),
        (_no_centering, "around the grand mean"),
        (lambda s, labels, k: 1 - class_specificity(s, labels, k), "1 − η²"),
        (lambda s, labels, k: 0.5, "got 0.5000"),
    ],
)
def test_eta_squared_mistakes(wrong, message):
    with pytest.raises(AssertionError, match=message):
        check_eta_squared(wrong)

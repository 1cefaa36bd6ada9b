"""Checkers for the harder exercises of notebook 3: the SE block's ``forward`` and the four placements.

``check_se_block(MySEBlock)`` compares a student's ``SEBlock`` subclass with the library's block on the same
weights; ``check_placement(fn, placement)`` compares ``fn(unit, x)`` with the residual units, and then the whole
network, of ``create_model("se_resnet20", placement=placement)`` (paper Fig. 5 / Table 14).
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from senet_lib.course.checking import call, close, describe_difference, first_matching, reports_not_done
from senet_lib.models import PLACEMENTS, create_model
from senet_lib.se import SEBlock

__all__ = ["check_placement", "check_se_block"]

_SOLUTIONS = "notebooks/solutions/03_scale_and_the_se_block.py"


def _randomised(block: SEBlock, seed: int) -> SEBlock:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.7)
    return block.eval()


def _forward_watching_gate(block: nn.Module, u: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """The block's output on ``u``, and whether its ``gate`` submodule ran (so a hook on it would see s)."""
    seen = []
    hook = block.gate.register_forward_hook(lambda module, inputs, output: seen.append(output))
    try:
        with torch.no_grad():
            return call(block, "forward", u), bool(seen)
    finally:
        hook.remove()


def _block_mistakes(ref: SEBlock, u: torch.Tensor) -> list[tuple[str, Callable[[], torch.Tensor]]]:
    """Typical wrong forwards of an SE block, as functions of the reference block's weights and the input."""
    z = u.mean(dim=(2, 3))
    logits = ref.fc2(F.relu(ref.fc1(z)))
    s = torch.sigmoid(logits)
    return [
        ("you returned U unchanged: the block must multiply each channel by its gate s_c", lambda: u),
        ("the gate is missing: u is scaled by fc2's raw output; pass it through self.gate", lambda: u * logits[:, :, None, None]),
        ("the ReLU between fc1 and fc2 is missing: s = gate(fc2(relu(fc1(z))))", lambda: u * torch.sigmoid(ref.fc2(ref.fc1(z)))[:, :, None, None]),
        ("you squeezed with max pooling; Eq. 2 averages over H and W", lambda: u * torch.sigmoid(ref.fc2(F.relu(ref.fc1(u.amax(dim=(2, 3))))))[:, :, None, None]),
        ("you squeezed with a sum; Eq. 2 divides by H×W (use .mean(dim=(2, 3)))", lambda: u * torch.sigmoid(ref.fc2(F.relu(ref.fc1(u.sum(dim=(2, 3))))))[:, :, None, None]),
        ("s was broadcast along H and W (u * s lines s up with u's last two dims); reshape s to (N, C, 1, 1)", lambda: u * s),
        ("you multiplied by 1 - s; Eq. 4 multiplies by s", lambda: u * (1 - s)[:, :, None, None]),
        ("you added s to U; Eq. 4 multiplies: x_c = s_c · u_c", lambda: u + s[:, :, None, None]),
        ("softmax instead of the sigmoid gate: the channels would compete", lambda: u * torch.softmax(logits, 1)[:, :, None, None]),
    ]  # fmt: skip


@reports_not_done(_SOLUTIONS)
def check_se_block(block_class: type[nn.Module]) -> bool:
    """Check a subclass of :class:`~senet_lib.se.SEBlock` whose ``forward(u)`` the student wrote (Eq. 2-4)."""
    if not (isinstance(block_class, type) and issubclass(block_class, SEBlock)):
        raise AssertionError("pass the class itself (e.g. check_se_block(MySEBlock)), a subclass of SEBlock")
    # (2, 4, 2, 4): s (N, C) = (2, 4) broadcasts silently against the last two dims of u -- a classic mistake
    for seed, (shape, r) in enumerate([((2, 4, 2, 4), 2), ((2, 16, 5, 7), 4), ((1, 8, 3, 3), 2)]):
        n, c, h, w = shape
        ref = _randomised(SEBlock(c, reduction=r), seed)
        mine = block_class(c, reduction=r).eval()
        mine.load_state_dict(ref.state_dict())
        u = torch.randn(shape, generator=torch.Generator().manual_seed(100 + seed))
        try:
            got, gate_used = _forward_watching_gate(mine, u)
        except AssertionError as err:
            if isinstance(err.__cause__, RuntimeError) and "size of tensor" in str(err.__cause__):
                raise AssertionError(
                    f"{err}\n  s has shape (N, C) and u (N, C, H, W): reshape s to (N, C, 1, 1) "
                    "(s[:, :, None, None]) so that it broadcasts over H and W"
                ) from err.__cause__
            raise
        with torch.no_grad():
            want = ref(u)
            hint = first_matching(got, _block_mistakes(ref, u)) if not close(got, want) else None
        if got.shape == (n, c):
            raise AssertionError(
                f"your forward returned shape {(n, c)}: that is the excitation s (Eq. 3); the block returns "
                f"U rescaled by s (Eq. 4), shape (N, C, H, W) = {shape}"
            )
        if got.shape != want.shape:
            raise AssertionError(
                f"your forward returned shape {tuple(got.shape)} for u {shape}; an SE block keeps the shape of U"
            )
        if close(got, want):
            if not gate_used:
                raise AssertionError(
                    "the numbers are right, but your forward never calls self.gate: compute s with "
                    "self.gate(...) (not torch.sigmoid) so that hooks on the gate can record s (notebook 6)"
                )
            continue
        hint = hint or describe_difference(got, want)
        raise AssertionError(f"your SE block differs from squeeze -> excite -> scale for u {shape}: {hint}")
    print("✓ your SE block's forward matches Eq. 2-4 (and its gate is hookable)")
    return True


def _unit_mistakes(unit: nn.Module, x: torch.Tensor, placement: str) -> list[tuple[str, Callable]]:
    """Known wrong forwards of a post-activation unit (ReLU after the sum) for one placement."""
    se, res, sc, relu = unit.se, unit.residual, unit.shortcut, torch.relu
    post = "SE-POST: SE after the sum *and* after the ReLU"
    options = {
        "plain": ("you left the SE block out", lambda: relu(res(x) + sc(x))),
        "no_relu": ("the ReLU after the sum is missing (this ResNet applies ReLU after adding the shortcut)", None),
        "standard": ("this is the standard placement (SE on the residual branch, before the sum)", lambda: relu(se(res(x)) + sc(x))),
        "pre": ("this is SE-PRE (SE on the residual branch's input)", lambda: relu(res(se(x)) + sc(x))),
        "post": (f"this is {post}", lambda: se(relu(res(x) + sc(x)))),
        "identity": ("this is SE-Identity (SE on the shortcut, in parallel to the unit)", lambda: relu(res(x) + sc(se(x)))),
        "before_relu": ("SE sits after the sum but before the ReLU; SE-POST is after the ReLU", lambda: relu(se(res(x) + sc(x)))),
        "both_inputs": ("SE rescales the input of both branches; it belongs on one branch only", lambda: relu(res(se(x)) + sc(se(x)))),
        "after_shortcut": ("SE comes after the shortcut's projection here; SE-Identity rescales the unit's input x, then the shortcut", lambda: relu(res(x) + se(sc(x)))),
    }  # fmt: skip
    correct = {
        "standard": lambda: se(res(x)) + sc(x),
        "pre": lambda: res(se(x)) + sc(x),
        "post": lambda: res(x) + sc(x),
        "identity": lambda: res(x) + sc(se(x)),
    }
    no_relu_fn = (lambda: se(correct["post"]())) if placement == "post" else correct[placement]
    options["no_relu"] = (options["no_relu"][0], no_relu_fn)
    return [item for name, item in options.items() if name != placement]


@reports_not_done(_SOLUTIONS)
def check_placement(fn: Callable[[nn.Module, torch.Tensor], torch.Tensor], placement: str) -> bool:
    """Check ``fn(unit, x)``, a residual unit's forward with SE at ``placement`` (standard, pre, post, identity).

    ``unit`` is a unit of SE-ResNet-20 (``unit.residual``, ``unit.shortcut``, ``unit.se``; ReLU after the sum).
    Compared unit by unit, then with every unit's forward replaced by ``fn``, against the logits of
    ``create_model("se_resnet20", placement=placement)``.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}; got {placement!r}")
    torch.manual_seed(0)
    model = create_model("se_resnet20", placement=placement).eval()
    with torch.no_grad():  # SE biases away from 0, so that a forgotten or misplaced SE shows in the numbers
        for name, p in model.named_parameters():
            if ".se." in name:
                p.add_(torch.randn_like(p) * 0.5)
    g = torch.Generator().manual_seed(1)
    for where, unit in [
        ("layer1[0] (same width)", model.layer1[0]),
        ("layer2[0] (16 -> 32, stride 2)", model.layer2[0]),
    ]:
        x = torch.relu(torch.randn(2, 16, 8, 8, generator=g))
        with torch.no_grad():
            got = call(lambda t, unit=unit: fn(unit, t), f"forward_{placement}", x)
            want = unit(x)
            if got.shape != want.shape:
                raise AssertionError(
                    f"on unit {where} your forward returned shape {tuple(got.shape)}; the unit gives "
                    f"{tuple(want.shape)} (a unit changes width and size only through unit.residual and unit.shortcut)"
                )
            if not close(got, want):
                hint = first_matching(got, _unit_mistakes(unit, x, placement)) or describe_difference(
                    got, want
                )
                raise AssertionError(
                    f"{placement}: on unit {where} your forward is not the {placement} placement: {hint}"
                )
    mine = copy.deepcopy(model)
    for unit in mine.modules():
        if getattr(unit, "se", None) is not None and hasattr(unit, "residual"):
            unit.forward = types.MethodType(lambda self, t: fn(self, t), unit)
    images = torch.randn(4, 3, 32, 32, generator=g)
    with torch.no_grad():
        got, want = call(mine, "network", images), model(images)
    if not close(got, want, atol=1e-4):
        raise AssertionError(
            f"{placement}: each tested unit matched, but the whole network's logits differ ({describe_difference(got, want)})"
        )
    print(f"✓ forward_{placement} matches create_model('se_resnet20', placement='{placement}'): same logits")
    return True

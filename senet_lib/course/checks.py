"""Checkers for the notebooks' "your turn" exercises on the SE block's equations (notebooks 1-4).

Each ``check_*`` runs the student's function on small random inputs (non-square maps, batch 1, ...),
compares it with the paper's equation, and either prints a short "✓ ..." and returns True, or raises
``AssertionError`` whose message names the likely mistake (e.g. "did you sum instead of averaging?"); a stub
that still raises NotImplementedError prints "not done yet" and returns False (:mod:`~senet_lib.course.checking`).
The checkers of the harder exercises live in ``checks_blocks`` (SE block, placements) and ``checks_analysis``
(excitation recorder, class specificity); all are importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from senet_lib.course.checking import NotDoneYet, reports_not_done
from senet_lib.course.checking import call as _call
from senet_lib.course.checking import close as _close
from senet_lib.course.checking import describe_difference as _diff
from senet_lib.course.checks_analysis import check_eta_squared, check_recorder
from senet_lib.course.checks_blocks import check_placement, check_se_block

__all__ = [
    "check_eta_squared",
    "check_excite",
    "check_placement",
    "check_recorder",
    "check_scale",
    "check_se_block",
    "check_se_parameters",
    "check_squeeze",
]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------------- squeeze (Eq. 2)


@reports_not_done("notebooks/solutions/01_squeeze.py")
def check_squeeze(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(u) -> z``: Eq. 2, ``z_c = 1/(H W) sum_ij u_c(i, j)``, shape (N, C, H, W) -> (N, C)."""
    g = _gen(2)
    for shape in [(2, 8, 5, 7), (1, 3, 4, 6), (3, 4, 1, 9)]:  # non-square, batch 1, a single row
        n, c, h, w = shape
        u = torch.randn(shape, generator=g) + 0.5
        z = _call(fn, "squeeze", u)
        want = u.mean(dim=(2, 3))
        if z.shape != want.shape:
            got = tuple(z.shape)
            hint = ""
            if got == (n, c, 1, 1):
                hint = " — did you forget to flatten?"
            elif got == (c,):
                hint = " — did you also average over the batch dimension N?"
            elif got == (n,):
                hint = " — did you average over the channels too? Pool over H and W only (dims 2 and 3)"
            elif got in ((n, c, h), (n, c, w)):
                hint = " — you pooled over only one spatial dimension; pool over both H and W: dim=(2, 3)"
            raise AssertionError(
                f"your squeeze returned shape {got} for input {shape}; Eq. 2 gives one number per channel: "
                f"shape (N, C) = {(n, c)}{hint}"
            )
        if _close(z, want):
            continue
        s = u.sum(dim=(2, 3))
        if _close(z, s):
            hint = "did you sum instead of averaging? Divide by H×W (or use .mean)"
        elif _close(z, u.amax(dim=(2, 3))):
            hint = "this is max pooling; Eq. 2 is the average (the paper's Table 11 compares the two)"
        elif _close(z, s / (h * h)) or _close(z, s / (w * w)):
            hint = "you divided by H·H or W·W; the mean divides by H×W (the test maps are not square)"
        elif _close(z, s / (h * w * c)):
            hint = "you also divided by C; each channel's mean divides by H×W only"
        else:
            hint = _diff(z, want)
        raise AssertionError(f"values differ from the mean over H and W for input {shape}: {hint}")
    print("✓ squeeze matches Eq. 2: z_c = mean of u_c over H×W, shape (N, C)")
    return True


# ---------------------------------------------------------------------------------------------- excitation (Eq. 3)

_EXCITE_MISTAKES: list[tuple[str, Callable[..., torch.Tensor]]] = [
    (
        "the ReLU δ between the two FC layers is missing: s = σ(W2 δ(W1 z))",
        lambda z, w1, w2: torch.sigmoid(z @ w1.T @ w2.T),
    ),
    (
        "the sigmoid gate σ is missing: the excitations must lie in (0, 1)",
        lambda z, w1, w2: F.relu(z @ w1.T) @ w2.T,
    ),
    (
        "you used softmax instead of sigmoid: softmax makes the channels compete (they sum to 1), "
        "while the paper's sigmoid lets several channels be emphasised at once",
        lambda z, w1, w2: torch.softmax(F.relu(z @ w1.T) @ w2.T, dim=1),
    ),
    (
        "you used softmax over the batch instead of a sigmoid per channel",
        lambda z, w1, w2: torch.softmax(F.relu(z @ w1.T) @ w2.T, dim=0),
    ),
    (
        "the inner non-linearity δ is a ReLU, not a sigmoid",
        lambda z, w1, w2: torch.sigmoid(torch.sigmoid(z @ w1.T) @ w2.T),
    ),
    (
        "transposed weights: W1 has shape (C/r, C), so W1·z for a batch is z @ w1.T (F.linear(z, w1)), "
        "and likewise z_hidden @ w2.T",
        lambda z, w1, w2: torch.sigmoid(F.relu(z @ w1) @ w2),
    ),
    (
        "the weights are used in the wrong order/orientation (z @ w2 @ w1); W1 (shape (C/r, C)) comes first: "
        "hidden = relu(z @ w1.T), then s = sigmoid(hidden @ w2.T)",
        lambda z, w1, w2: torch.sigmoid(F.relu(z @ w2) @ w1),
    ),
]


@reports_not_done("notebooks/solutions/02_excitation.py")
def check_excite(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(z, w1, w2) -> s``: Eq. 3, ``s = σ(W2 δ(W1 z))`` with W1 (C/r, C), W2 (C, C/r), z (N, C)."""
    g = _gen(3)
    for n, c, hidden in [(3, 8, 2), (1, 12, 3), (2, 6, 6)]:  # batch 1; r = 1 makes transposes run silently
        z = torch.randn(n, c, generator=g)
        w1 = torch.randn(hidden, c, generator=g)
        w2 = torch.randn(c, hidden, generator=g)
        shapes = f"z {(n, c)}, w1 {(hidden, c)}, w2 {(c, hidden)}"
        try:
            s = _call(fn, "excite", z, w1, w2)
        except AssertionError as err:
            if isinstance(err.__cause__, RuntimeError) and "shape" in str(err.__cause__):
                raise AssertionError(
                    f"{err}\n  A shape mismatch usually means transposed weights: W1 has shape (C/r, C), so for a "
                    "batch z (N, C) the product W1·z is z @ w1.T (or F.linear(z, w1)); then hidden @ w2.T"
                ) from err.__cause__
            raise
        want = torch.sigmoid(F.relu(z @ w1.T) @ w2.T)
        if s.shape != want.shape:
            hint = " — transpose it back: each row is one example" if tuple(s.shape) == (c, n) else ""
            raise AssertionError(
                f"your excite returned shape {tuple(s.shape)} for {shapes}; Eq. 3 gives one weight per channel "
                f"and example: shape (N, C) = {(n, c)}{hint}"
            )
        if _close(s, want):
            continue
        for message, mistake in _EXCITE_MISTAKES:
            try:
                if _close(s, mistake(z, w1, w2)):
                    raise AssertionError(f"your excite does not match Eq. 3 ({shapes}): {message}")
            except RuntimeError:  # this mistake cannot happen at these shapes
                pass
        if (s < 0).any() or (s > 1).any():
            raise AssertionError(
                f"your excitations leave (0, 1) (min {float(s.min()):.3g}, max {float(s.max()):.3g}): "
                "the gate σ must be a sigmoid"
            )
        raise AssertionError(f"your excite does not match σ(W2 δ(W1 z)) ({shapes}): {_diff(s, want)}")
    print("✓ excite matches Eq. 3: s = sigmoid(W2 relu(W1 z)), shape (N, C), values in (0, 1)")
    return True


# ---------------------------------------------------------------------------------------------- scale (Eq. 4)


@reports_not_done("notebooks/solutions/03_scale_and_the_se_block.py")
def check_scale(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(u, s) -> x``: Eq. 4, ``x_c = s_c · u_c``; u (N, C, H, W), s (N, C)."""
    g = _gen(4)
    # (2, 3, 2, 3): s (2, 3) would broadcast silently over H, W -- the classic mistake
    for shape in [(2, 3, 2, 3), (1, 5, 4, 6), (3, 4, 3, 2)]:
        n, c, h, w = shape
        u = torch.randn(shape, generator=g)
        s = torch.rand(n, c, generator=g) * 0.9 + 0.05
        u_before = u.clone()
        try:
            x = fn(u, s)
        except NotImplementedError as err:
            raise NotDoneYet(str(err)) from err
        except Exception as err:
            hint = ""
            if isinstance(err, RuntimeError) and "size" in str(err):
                hint = (
                    "\n  s has shape (N, C) and u (N, C, H, W): reshape s to (N, C, 1, 1) "
                    "(s[:, :, None, None] or s.view(N, C, 1, 1)) so it broadcasts over H and W"
                )
            raise AssertionError(
                f"your scale raised {type(err).__name__}: {err}\n  (u {shape}, s {(n, c)}){hint}"
            ) from err
        if not isinstance(x, torch.Tensor):
            raise AssertionError(f"your scale returned a {type(x).__name__}; return a torch.Tensor")
        x = x.detach().float()
        if not torch.equal(u, u_before):
            raise AssertionError(
                "your scale changed its input u in place (e.g. u *= ...); return a new tensor: "
                "the block still needs U elsewhere (e.g. the residual sum)"
            )
        want = u * s[:, :, None, None]
        if x.shape != want.shape:
            raise AssertionError(
                f"your scale returned shape {tuple(x.shape)} for u {shape}; Eq. 4 keeps the shape "
                f"of U: (N, C, H, W) = {shape}"
            )
        if _close(x, want):
            continue
        if h == n and w == c and _close(x, u * s):
            hint = (
                "s was broadcast along H and W (u * s lines up s's (N, C) with u's last two dims); "
                "reshape s to (N, C, 1, 1) first"
            )
        elif _close(x, u + s[:, :, None, None]):
            hint = "you added s; Eq. 4 multiplies each channel by its weight: x_c = s_c · u_c"
        elif _close(x, s[:, :, None, None].expand(shape)):
            hint = "you returned the weights s spread over H×W; multiply them with U: x_c = s_c · u_c"
        elif _close(x, u * (1 - s[:, :, None, None])):
            hint = "you multiplied by 1 - s; Eq. 4 multiplies by s itself"
        else:
            hint = _diff(x, want)
        raise AssertionError(f"values differ from s_c · u_c (Eq. 4) for u {shape}: {hint}")
    print("✓ scale matches Eq. 4: x_c = s_c · u_c, shape (N, C, H, W)")
    return True


# ---------------------------------------------------------------------------------------------- parameter count


@reports_not_done("notebooks/solutions/04_se_resnet_and_its_cost.py")
def check_se_parameters(fn: Callable[[int, float], Any]) -> bool:
    """Check ``fn(C, r)``: one SE block adds ``2 C² / r`` parameters (its two FC weights, no biases)."""
    for c, r in [(64, 16), (256, 16), (2048, 16), (16, 4), (96, 8)]:
        try:
            got = fn(c, r)
            got_f = float(got)
        except NotImplementedError as err:
            raise NotDoneYet(str(err)) from err
        except Exception as err:
            raise AssertionError(
                f"your function raised {type(err).__name__} for C={c}, r={r}: {err}"
            ) from err
        want = 2 * c * c / r
        if abs(got_f - want) < 1e-6 * max(1.0, want):
            continue
        h = c / r
        candidates = [
            (c * c / r, "that counts one FC layer; the SE block has two: W1 (C/r × C) and W2 (C × C/r)"),
            (
                want + h + c,
                "that includes the biases (C/r + C); the paper's 2C²/r counts the FC weights only",
            ),
            (2 * c / r, "a factor C is missing: each FC weight matrix has C × C/r entries"),
            (2 * c * c * r, "you multiplied by r; the bottleneck has C/r units, so divide by r"),
            (c * c / (r * r), "W1 is (C/r) × C, not (C/r) × (C/r)"),
            (2 * c * c, "the reduction ratio is missing: the hidden layer has C/r units"),
        ]
        hint = next((m for v, m in candidates if abs(got_f - v) < 1e-6 * max(1.0, v)), "")
        raise AssertionError(
            f"for C={c}, r={r} you returned {got!r}, but one SE block adds 2·C²/r = {want:g} "
            f"parameters{': ' + hint if hint else ''}"
        )
    print("✓ one SE block adds 2·C²/r parameters (two FC weights, no biases)")
    return True

"""Checkers for the harder exercises of notebook 6: a forward-hook excitation recorder, and class specificity.

``check_recorder(record)`` compares ``record(model, images)`` with :func:`senet_lib.analysis.excitation.
record_excitations` and checks that no hook is left behind; ``check_eta_squared(eta_squared)`` compares
``eta_squared(s, labels, num_classes)`` with :func:`senet_lib.analysis.profiles.class_specificity` (eta^2: the
between-class sum of squares over the total sum of squares, both summed over all channels).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from senet_lib.analysis.excitation import record_excitations
from senet_lib.analysis.profiles import class_specificity
from senet_lib.course.checking import NotDoneYet, close, reports_not_done
from senet_lib.models import create_model
from senet_lib.se_layers import find_se_layers

__all__ = ["check_eta_squared", "check_recorder"]

_SOLUTIONS = "notebooks/solutions/06_excitation_across_classes.py"


def _hooks_left(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _record(fn: Callable, model: nn.Module, images: torch.Tensor) -> dict:
    try:
        with torch.no_grad():
            got = fn(model, images)
    except NotImplementedError as err:
        raise NotDoneYet(str(err)) from err
    except Exception as err:
        raise AssertionError(f"your recorder raised {type(err).__name__}: {err}") from err
    if not isinstance(got, dict):
        raise AssertionError(
            f"your recorder returned a {type(got).__name__}; return a dict: layer name -> (N, C)"
        )
    return got


@reports_not_done(_SOLUTIONS)
def check_recorder(fn: Callable[[nn.Module, torch.Tensor], dict]) -> bool:
    """Check ``fn(model, images) -> {SE layer name: excitations (N, C)}`` recorded with forward hooks."""
    torch.manual_seed(0)
    model = create_model("se_resnet20").eval()
    names = list(find_se_layers(model))
    g = torch.Generator().manual_seed(0)
    for n in (4, 3):  # two calls: the second must not return the first one's excitations too
        images = torch.randn(n, 3, 32, 32, generator=g)
        got = _record(fn, model, images)
        if left := _hooks_left(model):
            raise AssertionError(
                f"your recorder left {left} hook(s) on the model: every later forward pass would run them. "
                "Keep the handles that register_forward_hook returns and call handle.remove() (in a `finally:`)"
            )
        with torch.no_grad(), record_excitations(model) as rec:
            model(images)
        want = rec.excitations()
        if not got:
            raise AssertionError(
                "your recorder returned nothing: no hook of yours ran. Hook each SE layer's gate "
                "(gate_module(se)); SEBlock applies fc1 and fc2 through their weights (F.linear), so hooks on "
                "fc1 / fc2 themselves never fire"
            )
        if set(got) != set(names):
            paths = [k for k in got if isinstance(k, str) and ".se" in k]
            hint = (
                " — name them as find_se_layers(model) does (its dict keys)"
                if paths
                else (f" — missing {sorted(set(names) - set(got))[:4]}" if set(got) < set(names) else "")
            )
            raise AssertionError(
                f"your recorder's keys are {list(got)[:4]}...; expected {names[:4]}...{hint}"
            )
        for name in names:
            s, ref = got[name], want[name]
            if not isinstance(s, torch.Tensor):
                raise AssertionError(f"{name}: got a {type(s).__name__}; store the hook's output tensor")
            s = s.detach().float()
            if s.dim() >= 1 and s.shape[0] > n:
                raise AssertionError(
                    f"{name}: {s.shape[0]} rows for a batch of {n}: your recorder kept excitations from an "
                    "earlier call; start from an empty dict every call"
                )
            if s.dim() == 4 and s.shape[2:] != (1, 1):
                raise AssertionError(
                    f"{name}: you recorded a feature map {tuple(s.shape)}: that is the SE block's output (U rescaled). "
                    "Hook the block's gate (gate_module(se), i.e. se.gate): its output is s"
                )
            s = s.reshape(s.shape[0], -1)
            if close(s, ref):
                continue
            if (s < 0).any() or (s > 1).any():
                raise AssertionError(
                    f"{name}: your values leave (0, 1): that is fc2's output, before the sigmoid (or the gate's "
                    "input). Hook the gate and keep its *output* (the third argument of the hook)"
                )
            raise AssertionError(f"{name}: your excitations differ from the gate's output s")
    print(f"✓ your recorder returns s (N, C) for all {len(names)} SE layers and leaves no hook behind")
    return True


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    """Excitation-like data with unbalanced classes and channels of very different variance."""
    g = torch.Generator().manual_seed(6)
    cases = []
    for n, c, k in [(60, 5, 3), (41, 7, 4)]:
        extra = n - k - n // 3
        # every class at least once, class 0 over-represented: unbalanced classes
        labels = torch.cat(
            [
                torch.arange(k),
                torch.zeros(n // 3, dtype=torch.long),
                torch.randint(0, k, (extra,), generator=g),
            ]
        )
        spread = torch.linspace(0.02, 0.3, c)  # per-channel scale: the two averages differ
        means = torch.rand(k, c, generator=g)
        s = (0.5 + spread * (means[labels] - 0.5) + spread * 0.5 * torch.randn(n, c, generator=g)).clamp(0, 1)
        cases.append((s, labels, k))
    return cases


def _per_channel(
    s: torch.Tensor, labels: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(between (C,), total (C,), unweighted between (C,)) sums of squares per channel."""
    grand = s.mean(0)
    counts = torch.bincount(labels, minlength=k).double()
    means = torch.stack([s[labels == j].mean(0) for j in range(k)])
    between = (counts[:, None] * (means - grand) ** 2).sum(0)
    return between, ((s - grand) ** 2).sum(0), ((means - grand) ** 2).sum(0)


@reports_not_done(_SOLUTIONS)
def check_eta_squared(fn: Callable[[torch.Tensor, torch.Tensor, int], float]) -> bool:
    """Check ``fn(s, labels, num_classes) -> eta^2`` for one layer: s (N, C), labels (N,)."""
    for s, labels, k in _cases():
        try:
            got = float(fn(s.clone(), labels.clone(), k))
        except NotImplementedError as err:
            raise NotDoneYet(str(err)) from err
        except Exception as err:
            raise AssertionError(
                f"your eta_squared raised {type(err).__name__}: {err} (s {tuple(s.shape)}, {k} classes)"
            ) from err
        want = class_specificity(s, labels, k)
        if abs(got - want) < 1e-5:
            continue
        s64 = s.double()
        between, total, unweighted = _per_channel(s64, labels, k)
        candidates = [
            (float((between / total).mean()), "you averaged the per-channel η² values; this course (and senet_lib) "
             "sums the between-class sums of squares over all channels, then divides by the total sum of squares "
             "summed over all channels, so channels that vary more count more"),
            (float(unweighted.sum() / total.sum()), "the between-class sum of squares weights each class mean by its "
             "number of images: Σ_k n_k (mean_k − mean)²"),
            (float(between.sum() / (total - between).sum()), "you divided by the within-class sum of squares; η² "
             "divides by the total (between + within), so it lies in [0, 1]"),
            (float(between.sum() / (s64**2).sum()), "the total sum of squares is taken around the grand mean: "
             "Σ (s − mean)², not Σ s²"),
            (1 - want, "you returned 1 − η² (the within-class share); η² is the share the class explains"),
        ]  # fmt: skip
        hint = next((m for v, m in candidates if abs(got - v) < 1e-5), f"got {got:.4f}, expected {want:.4f}")
        raise AssertionError(
            f"your η² differs ({len(labels)} images, {s.shape[1]} channels, {k} classes): {hint}"
        )
    print(
        "✓ your η² matches SS_between / SS_total, both summed over channels (senet_lib's class_specificity)"
    )
    return True

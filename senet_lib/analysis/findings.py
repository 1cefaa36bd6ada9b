"""Does this checkpoint reproduce the paper's findings? Each verdict computed from the checkpoint's own numbers.

Three findings of Hu et al. (TPAMI 2019) that a trained SE network and its plain twin can check:

1. **Accuracy** (Sec. 5.1, Table 4, CIFAR-10): SE lowers the error of the same network trained the same way, e.g.
   ResNet-110 6.37% -> 5.21%, ResNet-164 5.46% -> 4.39%.
2. **Cost** (Sec. 4): a small price: SE-ResNet-50 has about 10% more parameters than ResNet-50 (28.1M vs 25.6M).
3. **Depth** (Sec. 7.2, Fig. 6): early SE layers excite channels alike for every class; deeper ones become
   class-specific. Measured by eta^2 (the share of excitation variance the class explains) per layer.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from senet_lib.analysis.evaluation import EvalReport, accuracy_difference
from senet_lib.analysis.inspection import LoadedModel
from senet_lib.complexity import count_parameters

__all__ = [
    "PAPER_CIFAR10_ERRORS",
    "Finding",
    "accuracy_finding",
    "check_checkpoint",
    "cost_finding",
    "depth_finding",
    "summary",
]

#: Paper Sec. 5.1, Table 4 (TPAMI numbering), CIFAR-10 top-1 error (%): network -> (plain, SE).
PAPER_CIFAR10_ERRORS = {"ResNet-110": (6.37, 5.21), "ResNet-164": (5.46, 4.39)}
#: Paper Sec. 4: SE-ResNet-50's extra parameters over ResNet-50 (28.1M / 25.6M - 1), in percent.
PAPER_PARAM_OVERHEAD_PCT = 100 * (28.1 / 25.6 - 1)
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"


@dataclass(frozen=True)
class Finding:
    """One paper claim, this checkpoint's verdict on it and the numbers behind the verdict."""

    claim: str
    verdict: str  # REPRODUCED, NOT_REPRODUCED or INCONCLUSIVE
    evidence: str


def accuracy_finding(se: EvalReport, plain: EvalReport, se_name: str, plain_name: str) -> Finding:
    """SE vs plain accuracy on the same split: reproduced only when SE is better beyond the noise of one run."""
    diff, half = accuracy_difference(se, plain)
    paper = "; ".join(f"{net} {p:.2f}% -> {s:.2f}%" for net, (p, s) in PAPER_CIFAR10_ERRORS.items())
    evidence = (
        f"{se_name} {se.accuracy:.2%} vs {plain_name} {plain.accuracy:.2%} on {se.count:,} validation images: "
        f"{100 * diff:+.2f} points, with a 95% noise band of ±{100 * half:.2f} points for one run each. "
        f"The paper's CIFAR-10 error: {paper}."
    )
    if diff > half:
        verdict = REPRODUCED
    elif diff < -half:
        verdict = NOT_REPRODUCED
    else:
        verdict = INCONCLUSIVE
        evidence += " The difference here is within the noise: more seeds or a deeper network would tell."
    return Finding("SE improves accuracy over the same network without SE", verdict, evidence)


def cost_finding(se_params: int, plain_params: int, se_name: str, plain_name: str) -> Finding:
    """The parameters SE adds, against the paper's ~10% for ResNet-50: reproduced when at most about as much."""
    overhead = 100 * (se_params / plain_params - 1)
    verdict = REPRODUCED if overhead <= 1.5 * PAPER_PARAM_OVERHEAD_PCT else NOT_REPRODUCED
    evidence = (
        f"{se_name} has {se_params:,} parameters, {plain_name} {plain_params:,}: {overhead:+.1f}% "
        f"(paper: SE-ResNet-50 {PAPER_PARAM_OVERHEAD_PCT:+.1f}% over ResNet-50)."
    )
    return Finding("SE adds few parameters", verdict, evidence)


def _stage(layer: str) -> str | None:
    match = re.fullmatch(r"SE_(\d+)_\d+", layer)
    return match[1] if match else None


def depth_finding(specificity: Mapping[str, float], near_constant: Collection[str] = ()) -> Finding:
    """eta^2 of the last stage's SE layers against the first stage's (thirds of the layers when names carry
    no stage): reproduced when the deeper layers are more class-specific. Layers in ``near_constant`` (gates that
    hardly depend on the image, see :data:`~senet_lib.analysis.profiles.NEAR_CONSTANT_SPREAD`) are left out of
    the comparison: their eta^2 describes variations too small to matter."""
    layers = list(specificity)
    if len(layers) < 2:
        return Finding("Excitations grow class-specific with depth", INCONCLUSIVE, "fewer than 2 SE layers")
    stages = [_stage(name) for name in layers]
    if None not in stages and len(set(stages)) > 1:
        first = [n for n, s in zip(layers, stages) if s == stages[0]]
        last = [n for n, s in zip(layers, stages) if s == stages[-1]]
    else:
        third = max(1, len(layers) // 3)
        first, last = layers[:third], layers[-third:]
    still = set(near_constant)
    left_out = [n for n in layers if n in still]
    note = (
        f" Left out: {len(left_out)} of the {len(layers)} SE layers, whose gates hardly depend on the image "
        f"({', '.join(left_out)})."
        if left_out
        else ""
    )
    first, last = [n for n in first if n not in left_out], [n for n in last if n not in left_out]
    if not first or not last:
        side = "first" if not first else "last"
        return Finding(
            "Excitations grow class-specific with depth",
            INCONCLUSIVE,
            f"every SE layer of the {side} stage has gates that hardly depend on the image.{note}",
        )
    early = sum(specificity[n] for n in first) / len(first)
    late = sum(specificity[n] for n in last) / len(last)
    values = [specificity[n] for n in layers if n not in left_out]
    rising = sum(b > a for a, b in zip(values, values[1:]))
    evidence = (
        f"mean η² {early:.2f} in the first stage ({_span(first)}) vs {late:.2f} in the last ({_span(last)}); "
        f"η² rises in {rising} of the {len(values) - 1} steps from one SE layer to the next.{note}"
    )
    verdict = REPRODUCED if late > early else NOT_REPRODUCED
    return Finding("Excitations grow class-specific with depth", verdict, evidence)


def _span(layers: list[str]) -> str:
    return layers[0] if len(layers) == 1 else f"{layers[0]}–{layers[-1]}"


def summary(findings: list[Finding]) -> str:
    """One sentence: how many of the findings checked this checkpoint reproduces, and which."""
    if not findings:
        return "No finding of the paper can be checked with what this checkpoint ships."
    done = [f.claim for f in findings if f.verdict == REPRODUCED]
    open_ = [f"{f.claim} ({f.verdict})" for f in findings if f.verdict != REPRODUCED]
    text = f"This checkpoint reproduces {len(done)} of the {len(findings)} paper findings checked here"
    if done:
        text += ": " + "; ".join(done)
    if open_:
        text += ". Not reproduced or open: " + "; ".join(open_)
    return text + "."


def check_checkpoint(
    se: LoadedModel,
    plain: LoadedModel | None = None,
    se_eval: EvalReport | None = None,
    plain_eval: EvalReport | None = None,
) -> list[Finding]:
    """Every finding this SE checkpoint can check: depth from its class profiles; cost and accuracy against its
    plain twin (accuracy when both evaluations on the same split ship). An empty list for a plain model."""
    if not se.se_layers:
        return []
    found = []
    if plain is not None:
        found.append(
            cost_finding(count_parameters(se.model), count_parameters(plain.model), se.name, plain.name)
        )
        if se_eval is not None and plain_eval is not None and se_eval.split == plain_eval.split:
            found.append(accuracy_finding(se_eval, plain_eval, se.name, plain.name))
    if se.profiles:
        specificity = {name: p.specificity for name, p in se.profiles.items()}
        found.append(depth_finding(specificity, [name for name, p in se.profiles.items() if p.near_constant]))
    return found

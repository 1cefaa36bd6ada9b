"""What an SE block costs: parameters, FLOPs and the paper's extra-parameter formula.

The paper (Sec. 4, around Eq. 5) counts the extra parameters of SE blocks as ``(2/r) sum_s N_s C_s^2``
(FC weights only) and reports about 10% more parameters and under 1% more FLOPs for SE-ResNet-50 (Table 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from senet_lib.se_layers import find_se_layers, se_channels

__all__ = [
    "ModelCost",
    "OverheadReport",
    "count_flops",
    "count_parameters",
    "count_se_parameters",
    "count_se_weights",
    "format_cost_report",
    "model_cost",
    "overhead_report",
    "paper_extra_parameters",
    "plain_twin",
    "se_stages",
]


def count_parameters(model: nn.Module) -> int:
    """All parameters of ``model`` (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters())


def _se_params(model: nn.Module, weights_only: bool) -> int:
    seen: dict[int, int] = {}
    for se in find_se_layers(model).values():
        for name, p in se.named_parameters():
            if not weights_only or (name.endswith("weight") and p.dim() >= 2):
                seen[id(p)] = p.numel()
    return sum(seen.values())


def count_se_parameters(model: nn.Module) -> int:
    """Parameters inside the model's SE modules (see ``find_se_layers``): FC weights, biases, anything else."""
    return _se_params(model, weights_only=False)


def count_se_weights(model: nn.Module) -> int:
    """Exact SE parameter count without biases: what the paper's formula estimates (Sec. 4)."""
    return _se_params(model, weights_only=True)


def _input_shape(model: nn.Module, input_size: int | Sequence[int] | None) -> tuple[int, ...]:
    if input_size is None:
        input_size = getattr(model, "input_size", None)
        if input_size is None:
            raise ValueError(f"{type(model).__name__} has no `input_size`; pass input_size=(1, 3, H, W)")
    if isinstance(input_size, int):
        return (1, 3, input_size, input_size)
    return tuple(int(d) for d in input_size)


@torch.no_grad()
def count_flops(model: nn.Module, input_size: int | Sequence[int] | None = None) -> int:
    """FLOPs of one forward pass, as ``torch.utils.flop_counter.FlopCounterMode`` counts them.

    A multiply-add counts as 2 FLOPs, and only ops the counter knows (matmul, conv, ...) are counted,
    not elementwise ones (ReLU, sigmoid, the SE scale). ``input_size``: (N, 3, H, W), or S for (1, 3, S, S).
    """
    shape = _input_shape(model, input_size)
    p = next(model.parameters(), None)
    x = torch.zeros(
        shape, device=p.device if p is not None else None, dtype=p.dtype if p is not None else None
    )
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


def se_stages(model: nn.Module) -> list[tuple[int, int]]:
    """``(N_s, C_s)`` per stage: SE blocks in the stage and their channels (paper-named layers by stage,
    others by runs of equal width)."""
    groups: list[tuple[str, list[int]]] = []
    for name, se in find_se_layers(model).items():
        key = name.split("_")[1] if name.startswith("SE_") else None
        c = se_channels(se)
        if groups and (key is not None and groups[-1][0] == key or key is None and groups[-1][1][-1] == c):
            groups[-1][1].append(c)
        else:
            groups.append((key, [c]))
    stages = []
    for key, widths in groups:
        if len(set(widths)) != 1:
            raise ValueError(
                f"stage {key} has SE blocks of different widths {sorted(set(widths))}; "
                "the paper's formula assumes one width per stage"
            )
        stages.append((len(widths), widths[0]))
    return stages


def _model_reduction(model: nn.Module) -> float:
    rs = {getattr(se, "reduction", None) for se in find_se_layers(model).values()}
    return rs.pop() if len(rs) == 1 and None not in rs else 16


def paper_extra_parameters(
    model_or_stages: nn.Module | Iterable[tuple[int, int]], reduction: float | None = None
) -> float:
    """The paper's extra parameters of SE: ``(2/r) sum_s N_s C_s^2`` (Sec. 4; biases not counted).

    Takes a model (stages from its SE layers, r from its SE blocks unless given) or ``[(N_s, C_s), ...]``.
    """
    if isinstance(model_or_stages, nn.Module):
        stages = se_stages(model_or_stages)
        reduction = reduction if reduction is not None else _model_reduction(model_or_stages)
    else:
        stages = [(int(n), int(c)) for n, c in model_or_stages]
    reduction = 16 if reduction is None else reduction
    if not reduction > 0:
        raise ValueError(f"reduction ratio r must be > 0 (the paper uses 16); got {reduction}")
    return 2 * sum(n * c * c for n, c in stages) / reduction


@dataclass
class ModelCost:
    """Parameters and FLOPs of one model, plus its SE share (0 for a plain model)."""

    name: str
    params: int
    flops: int
    se_params: int
    se_weights: int
    paper_extra: float
    input_shape: tuple[int, ...]
    spec: dict = field(default_factory=dict)  # model.spec: name, num_classes, SE options


def model_cost(
    model: nn.Module, name: str | None = None, input_size: int | Sequence[int] | None = None
) -> ModelCost:
    """Count everything :class:`ModelCost` holds for ``model``."""
    name = name or getattr(model, "spec", {}).get("name", type(model).__name__)
    has_se = bool(find_se_layers(model))
    return ModelCost(
        name=name,
        params=count_parameters(model),
        flops=count_flops(model, input_size),
        se_params=count_se_parameters(model),
        se_weights=count_se_weights(model),
        paper_extra=paper_extra_parameters(model) if has_se else 0.0,
        input_shape=_input_shape(model, input_size),
        spec=dict(getattr(model, "spec", {})),
    )


@dataclass
class OverheadReport:
    """An SE model against its plain twin (paper Table 2: params and GFLOPs of ResNet-50 vs SE-ResNet-50)."""

    plain: ModelCost
    se: ModelCost

    @property
    def extra_params(self) -> int:
        """Parameters the SE blocks add."""
        return self.se.params - self.plain.params

    @property
    def extra_params_pct(self) -> float:
        """Added parameters as a percentage of the plain model's."""
        return 100.0 * self.extra_params / self.plain.params

    @property
    def extra_flops(self) -> int:
        """FLOPs the SE blocks add (their FC layers, as counted)."""
        return self.se.flops - self.plain.flops

    @property
    def extra_flops_pct(self) -> float:
        """Added FLOPs as a percentage of the plain model's."""
        return 100.0 * self.extra_flops / self.plain.flops


def plain_twin(se_model_name: str) -> str:
    """The plain model an SE model is compared with: its name without the ``se_`` prefix."""
    if not se_model_name.startswith("se_"):
        raise ValueError(f"{se_model_name!r} has no 'se_' prefix; pass plain_model_name explicitly")
    return se_model_name[len("se_") :]


def overhead_report(
    se_model_name: str,
    plain_model_name: str | None = None,
    input_size: int | Sequence[int] | None = None,
    **options,
) -> OverheadReport:
    """Build both models (random weights) with ``options`` and compare their parameters and FLOPs.

    ``input_size``: S or (N, 3, H, W); default the models' own ``input_size`` (32 for CIFAR, 224 for ImageNet).
    """
    from senet_lib.models import SE_OPTION_NAMES, create_model

    plain_model_name = plain_model_name or plain_twin(se_model_name)
    se_model = create_model(se_model_name, **options)
    plain_options = {k: v for k, v in options.items() if k not in SE_OPTION_NAMES}  # e.g. no `reduction`
    plain_model = create_model(plain_model_name, **plain_options)
    return OverheadReport(
        plain=model_cost(plain_model, plain_model_name, input_size),
        se=model_cost(se_model, se_model_name, input_size),
    )


def _title(cost: ModelCost, plain: ModelCost | None = None) -> str:
    setting = [f"input {'x'.join(str(d) for d in cost.input_shape)}"]
    if "num_classes" in cost.spec:
        setting.append(f"{cost.spec['num_classes']} classes")
    if cost.se_params and "reduction" in cost.spec:
        setting.append(f"r = {cost.spec['reduction']:g}")
    return f"{cost.name}{f' vs {plain.name}' if plain else ''}  ({', '.join(setting)})"


def format_cost_report(report: OverheadReport | ModelCost) -> str:
    """A plain-text table of a :class:`OverheadReport` (SE vs plain) or a single :class:`ModelCost`."""
    if isinstance(report, ModelCost):
        rows = [
            ("parameters", f"{report.params:,}"),
            ("FLOPs", f"{report.flops:,}"),
            ("multiply-adds (paper's FLOPs)", f"{report.flops // 2:,}"),
        ]
        if report.se_params:
            rows += [
                ("SE parameters", f"{report.se_params:,}"),
                ("SE weights (no biases)", f"{report.se_weights:,}"),
                ("paper formula (2/r) sum N_s C_s^2", f"{report.paper_extra:,.0f}"),
            ]
        width = max(len(k) for k, _ in rows)
        lines = [_title(report)]
        lines += [f"  {k:<{width}}  {v:>16}" for k, v in rows]
        return "\n".join(lines + [_FLOPS_NOTE])
    p, s = report.plain, report.se
    header = ("", p.name, s.name, "extra", "extra %")
    rows = [
        (
            "parameters",
            f"{p.params:,}",
            f"{s.params:,}",
            f"{report.extra_params:,}",
            f"{report.extra_params_pct:.2f}%",
        ),
        (
            "FLOPs",
            f"{p.flops:,}",
            f"{s.flops:,}",
            f"{report.extra_flops:,}",
            f"{report.extra_flops_pct:.2f}%",
        ),
        (
            "multiply-adds (paper's FLOPs)",
            f"{p.flops // 2:,}",
            f"{s.flops // 2:,}",
            f"{report.extra_flops // 2:,}",
            "",
        ),
        ("SE parameters", "", f"{s.se_params:,}", "", ""),
        ("SE weights (no biases)", "", f"{s.se_weights:,}", "", ""),
        ("paper formula (2/r) sum N_s C_s^2", "", f"{s.paper_extra:,.0f}", "", ""),
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]

    def fmt(row: Sequence[str]) -> str:
        cells = (f"{v:<{widths[0]}}" if i == 0 else f"{v:>{widths[i]}}" for i, v in enumerate(row))
        return ("  " + "  ".join(cells)).rstrip()

    return "\n".join([_title(s, p), fmt(header), *map(fmt, rows), _FLOPS_NOTE])


_FLOPS_NOTE = (
    "  FLOPs: torch.utils.flop_counter counts a multiply-add as 2 and only conv/matmul ops, not elementwise ones\n"
    "  (squeeze pooling, gate, scale). The paper's GFLOPs (Table 2) count a multiply-add as 1: see that row."
)

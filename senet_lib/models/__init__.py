"""The model registry: every network of the course by name, plain and SE (Hu et al., TPAMI 2019).

``create_model("se_resnet56", num_classes=10, reduction=8)`` builds one; ``list_models()`` names them.
Each model carries ``model.spec`` (``create_model(**model.spec)`` rebuilds it) and ``model.input_size``.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from senet_lib.models import (  # noqa: F401  (importing registers their models)
    eca_resnet,
    resnet,
    resnet_cifar,
    wide_resnet,
)
from senet_lib.models.common import PLACEMENTS, SE_OPTION_NAMES, SEOptions
from senet_lib.models.registry import MODEL_REGISTRY, check_model_name, list_models, register_model

__all__ = [
    "MODEL_REGISTRY",
    "PLACEMENTS",
    "SE_OPTION_NAMES",
    "SEOptions",
    "create_model",
    "list_models",
    "model_options",
    "register_model",
]


def model_options(name: str) -> tuple[str, ...]:
    """The keyword options ``create_model`` accepts for ``name`` besides ``num_classes``.

    SE models take :data:`SE_OPTION_NAMES`; plain ImageNet models take ``weights`` and ``progress``.
    """
    check_model_name(name)
    params = inspect.signature(MODEL_REGISTRY[name]).parameters.values()
    named = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "num_classes")
    takes_se = any(p.kind is p.VAR_KEYWORD for p in params)
    return named + (SE_OPTION_NAMES if takes_se else ())


def create_model(name: str, num_classes: int | None = None, **options: Any) -> nn.Module:
    """Build model ``name``; ``num_classes=None`` means the family default (10 for CIFAR/WRN, 1000 for ImageNet).

    SE models accept ``reduction, min_hidden, squeeze_mode, gate, se_bias, placement, se_stages``;
    anything else, or an SE option given to a plain model, raises ValueError naming the allowed options.
    """
    allowed = model_options(name)
    bad = sorted(set(options) - set(allowed))
    if bad:
        shown = ", ".join(allowed) if allowed else "none"
        misplaced_se = [k for k in bad if k in SE_OPTION_NAMES]
        if misplaced_se:
            twin = f"se_{name}"
            use = f"; use {twin!r} for an SE network" if twin in MODEL_REGISTRY else ""
            raise ValueError(
                f"{name!r} is a plain network without SE blocks, so SE option(s) {misplaced_se} do not apply{use}. "
                f"Options of {name!r}: {shown}"
            )
        raise ValueError(f"unknown option(s) {bad} for model {name!r}. Options of {name!r}: {shown}")
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}")
        options["num_classes"] = num_classes
    return MODEL_REGISTRY[name](**options)

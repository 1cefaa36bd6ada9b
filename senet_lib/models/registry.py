"""The model registry: every network by name, added with the :func:`register_model` decorator (as timm does).

    @register_model
    def se_resnet20(num_classes: int = 10, **se_options) -> nn.Module: ...

``create_model("se_resnet20")`` then builds it; ``list_models()`` names every registered model.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from torch import nn

__all__ = ["MODEL_REGISTRY", "check_model_name", "list_models", "register_model"]

#: Model name -> builder function (the function's own name). Filled by :func:`register_model` at import.
MODEL_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: register ``builder`` under its function name; a second builder of the same name is an error."""
    name = builder.__name__
    if name in MODEL_REGISTRY and MODEL_REGISTRY[name] is not builder:
        raise ValueError(
            f"a model named {name!r} is registered twice ({MODEL_REGISTRY[name].__module__} and "
            f"{builder.__module__}); rename one of the builders"
        )
    MODEL_REGISTRY[name] = builder
    return builder


def list_models() -> list[str]:
    """All registered model names, sorted."""
    return sorted(MODEL_REGISTRY)


def check_model_name(name: str) -> None:
    """Raise ValueError for a name that is not registered, with a did-you-mean suggestion and the list."""
    if name not in MODEL_REGISTRY:
        close = difflib.get_close_matches(str(name), MODEL_REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Available models: {', '.join(list_models())}")

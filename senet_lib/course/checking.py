"""What every exercise checker shares: calling the student's code safely, comparing, and "not done yet".

An exercise ships as a stub that raises ``NotImplementedError("hint")``. A checker given such a stub prints
"✗ not done yet" with the hint and where the worked solution is, and returns False, so "Run All" goes on; a wrong
answer raises ``AssertionError`` with the likely mistake in plain words; a right one prints "✓ ..." and returns True.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch

__all__ = ["NotDoneYet", "call", "close", "describe_difference", "first_matching", "reports_not_done"]

ATOL = 1e-5
F = TypeVar("F", bound=Callable[..., bool])


class NotDoneYet(Exception):
    """The student's function still raises NotImplementedError (the exercise as shipped)."""


def call(fn: Callable, what: str, *args: Any, clone: bool = True) -> torch.Tensor:
    """``fn(*args)`` on clones of tensor ``args``; a crash or a non-tensor result becomes a plain-words error."""
    shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, torch.Tensor))
    given = [a.clone() if clone and isinstance(a, torch.Tensor) else a for a in args]
    try:
        out = fn(*given)
    except NotImplementedError as err:
        raise NotDoneYet(str(err)) from err
    except Exception as err:  # the student's code crashed: say where and with what
        raise AssertionError(
            f"your {what} raised {type(err).__name__}: {err}\n  (inputs of shape {shapes})"
        ) from err
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"your {what} returned a {type(out).__name__}; return a torch.Tensor")
    return out.detach().float()


def close(a: torch.Tensor, b: torch.Tensor, atol: float = ATOL) -> bool:
    """Same shape and the same values up to float rounding."""
    return a.shape == b.shape and torch.allclose(a.float(), b.float(), atol=atol, rtol=1e-4)


def describe_difference(a: torch.Tensor, b: torch.Tensor) -> str:
    return f"largest difference {float((a.float() - b.float()).abs().max()):.3g}"


def first_matching(got: torch.Tensor, mistakes: list[tuple[str, Callable[[], torch.Tensor]]]) -> str | None:
    """The message of the first known mistake whose result equals ``got`` (mistakes that cannot run are skipped)."""
    for message, mistake in mistakes:
        try:
            if close(got, mistake()):
                return message
        except (RuntimeError, ValueError, IndexError):  # this mistake cannot happen at these shapes
            continue
    return None


def reports_not_done(solution_hint: str) -> Callable[[F], F]:
    """Decorate a checker: a stub that raises NotImplementedError prints "not done yet" and returns False."""

    def wrap(check: F) -> F:
        @functools.wraps(check)
        def checked(*args: Any, **kwargs: Any) -> bool:
            try:
                return check(*args, **kwargs)
            except NotDoneYet as err:
                hint = f" Hint: {err}" if str(err) else ""
                print(f"✗ not done yet: replace the `raise NotImplementedError` with your code.{hint}")
                print(f"  (stuck? the worked solution is in {solution_hint})")
                return False

        return checked  # type: ignore[return-value]

    return wrap

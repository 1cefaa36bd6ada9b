"""``senet list`` and ``senet info MODEL``: the model registry and the cost of SE (paper Table 2's columns)."""

from __future__ import annotations

import argparse
import sys

from senet_lib.complexity import format_cost_report, model_cost, overhead_report, plain_twin
from senet_lib.models import create_model, list_models


def add_list(parser: argparse.ArgumentParser) -> None:
    """``list`` takes no arguments."""


def run_list(args: argparse.Namespace) -> int:
    print("\n".join(list_models()))
    return 0


def add_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. se_resnet50 (see `list`)")
    parser.add_argument(
        "--plain", metavar="NAME", help="plain model to compare with (default: MODEL without 'se_')"
    )
    parser.add_argument(
        "--reduction", "-r", type=float, metavar="R", help="SE reduction ratio r (model default: 16)"
    )
    parser.add_argument(
        "--num-classes", type=int, metavar="K", help="classes of the final layer (model default)"
    )
    parser.add_argument(
        "--input-size", type=int, metavar="S", help="count FLOPs on a 1x3xSxS input (model default)"
    )


def run_info(args: argparse.Namespace) -> int:
    for name in filter(None, [args.model, args.plain]):
        if name not in list_models():
            print(
                f"error: unknown model {name!r}; `python -m senet_lib list` shows the names", file=sys.stderr
            )
            return 2
    options = {"num_classes": args.num_classes}
    if args.reduction is not None:
        options["reduction"] = int(args.reduction) if float(args.reduction).is_integer() else args.reduction
    options = {k: v for k, v in options.items() if v is not None}
    plain = args.plain or (plain_twin(args.model) if args.model.startswith("se_") else None)
    if plain is None:  # a plain model on its own
        if "reduction" in options:
            print(
                f"error: --reduction applies to SE models; {args.model!r} has no SE blocks", file=sys.stderr
            )
            return 2
        report = model_cost(create_model(args.model, **options), args.model, args.input_size)
    elif plain not in list_models():
        print(f"error: {args.model!r} has no plain twin {plain!r}; name one with --plain", file=sys.stderr)
        return 2
    else:
        report = overhead_report(args.model, plain, input_size=args.input_size, **options)
    print(format_cost_report(report))
    return 0

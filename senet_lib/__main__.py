"""The ``senet`` command line: ``python -m senet_lib <command> ...`` (or ``senet <command> ...``).

    python -m senet_lib list                    # model names
    python -m senet_lib info se_resnet50        # parameters and FLOPs, SE vs plain twin (paper Table 2)
    python -m senet_lib train --model se_resnet20 ...

A command lives in the module that owns its concept: that module defines ``add_arguments(parser)``
and ``run(args) -> int``, and registers with one line in :func:`commands`. It is imported only
when its command runs, so ``senet list`` never pays for the imports of ``senet train``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Command", "commands", "main", "module_command"]


@dataclass(frozen=True)
class Command:
    """One subcommand: a help line, a function adding its arguments, and one running it (exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def module_command(module: str, help: str) -> Command:
    """A command whose ``module`` defines ``add_arguments(parser)`` and ``run(args)``; imported on use."""
    return Command(
        help=help,
        add_arguments=lambda parser: importlib.import_module(module).add_arguments(parser),
        run=lambda args: importlib.import_module(module).run(args),
    )


def commands() -> dict[str, Command]:
    """Every subcommand by name; add a line here to register a new one."""
    return {
        "list": Command("list the model names", lambda parser: None, _run_list),
        "info": Command("parameters and FLOPs of a model; an SE model against its plain twin",
                        _add_info_arguments, _run_info),
        "train": module_command("senet_lib.train", "train a model: one readable loop, checkpoints and exact resume"),
        "evaluate": module_command("senet_lib.evaluate", "accuracy, per-class accuracy and confusion of a checkpoint"),
        "profile": module_command("senet_lib.profiles", "class-mean excitations of a checkpoint, into its sidecar"),
        "bench": module_command("senet_lib.bench", "training images/s: textbook vs fast path, and the SE overhead"),
        "latency": module_command("senet_lib.latency", "dashboard time per image: upload bytes to excitation figures"),
        "course": module_command("senet_lib.course", "run the course notebooks, write HTML copies to notebooks/_html"),
        "experiments": module_command("senet_lib.experiments", "run a grid of training runs, write results tables"),
    }


def _run_list(args: argparse.Namespace) -> int:
    from senet_lib.models import list_models

    print("\n".join(list_models()))
    return 0


def _add_info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model name, e.g. se_resnet50 (see `list`)")
    parser.add_argument("--plain", metavar="NAME", help="plain model to compare with (default: MODEL without 'se_')")
    parser.add_argument("--reduction", "-r", type=float, metavar="R", help="SE reduction ratio r (model default: 16)")
    parser.add_argument("--num-classes", type=int, metavar="K", help="classes of the final layer (model default)")
    parser.add_argument("--input-size", type=int, metavar="S", help="count FLOPs on a 1x3xSxS input (model default)")


def _run_info(args: argparse.Namespace) -> int:
    from senet_lib.complexity import format_report, model_cost, overhead_report, plain_twin
    from senet_lib.models import create_model, list_models

    for name in filter(None, [args.model, args.plain]):
        if name not in list_models():
            print(f"error: unknown model {name!r}; `python -m senet_lib list` shows the names", file=sys.stderr)
            return 2
    options = {"num_classes": args.num_classes}
    if args.reduction is not None:
        options["reduction"] = int(args.reduction) if float(args.reduction).is_integer() else args.reduction
    options = {k: v for k, v in options.items() if v is not None}
    plain = args.plain or (plain_twin(args.model) if args.model.startswith("se_") else None)
    if plain is None:  # a plain model on its own
        if "reduction" in options:
            print(f"error: --reduction applies to SE models; {args.model!r} has no SE blocks", file=sys.stderr)
            return 2
        report = model_cost(create_model(args.model, **options), args.model, args.input_size)
    elif plain not in list_models():
        print(f"error: {args.model!r} has no plain twin {plain!r}; name one with --plain", file=sys.stderr)
        return 2
    else:
        report = overhead_report(args.model, plain, input_size=args.input_size, **options)
    print(format_report(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the chosen command, return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    table = commands()
    parser = argparse.ArgumentParser(prog="senet", description="SENet Lab: Squeeze-and-Excitation networks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in table.items():
        sub_parser = sub.add_parser(name, help=command.help, description=command.help)
        if argv and argv[0] == name:  # only the chosen command's module is imported
            command.add_arguments(sub_parser)
    args = parser.parse_args(argv)
    return table[args.command].run(args)


if __name__ == "__main__":
    raise SystemExit(main())

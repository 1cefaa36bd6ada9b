"""The ``senet`` command line: ``python -m senet_lib <command> ...`` (or ``senet <command> ...``).

    python -m senet_lib list                    # model names
    python -m senet_lib info se_resnet50        # parameters and FLOPs, SE vs plain twin
    python -m senet_lib train --model se_resnet20 ...

Every command's arguments and dispatch live in this package, one module per area (``models``, ``training``,
``checkpoints``, ``course``); each command calls plain library functions. A command's module is imported
only when that command runs, so ``senet list`` never pays for the imports of ``senet train``.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Command", "commands", "main"]


@dataclass(frozen=True)
class Command:
    """One subcommand: a help line, a function adding its arguments, and one running it (exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _command(module: str, name: str, help: str) -> Command:
    """The command ``name`` of ``senet_lib.cli.<module>``: its functions ``add_<name>(parser)`` and ``run_<name>(args)``."""

    def load(kind: str) -> Callable:
        return getattr(importlib.import_module(f"senet_lib.cli.{module}"), f"{kind}_{name}")

    return Command(help, lambda parser: load("add")(parser), lambda args: load("run")(args))


def commands() -> dict[str, Command]:
    """Every subcommand by name; add a line here (and two functions in the area's module) for a new one."""
    return {
        "list": _command("models", "list", "list the model names"),
        "info": _command(
            "models", "info", "parameters and FLOPs of a model; an SE model against its plain twin"
        ),
        "train": _command(
            "training", "train", "train a model: one readable loop, checkpoints and exact resume"
        ),
        "experiments": _command(
            "training", "experiments", "run a grid of training runs, write results tables"
        ),
        "carry": _command(
            "training", "carry", "pack an unfinished run to commit it, unpack it on the next machine"
        ),
        "status": _command(
            "training", "status", "where runs stand: epoch, pace, time to go, training now, where they ran"
        ),
        "bench": _command(
            "training", "bench", "training images/s: textbook vs fast path, and the SE overhead"
        ),
        "evaluate": _command(
            "checkpoints", "evaluate", "accuracy, per-class accuracy and confusion of a checkpoint"
        ),
        "profile": _command(
            "checkpoints", "profile", "class-mean excitations of a checkpoint, into its sidecar"
        ),
        "probe": _command(
            "checkpoints",
            "probe",
            "a linear probe per SE layer (fit on train, scored on val), into the sidecar",
        ),
        "latency": _command(
            "checkpoints", "latency", "dashboard time per image: upload bytes to excitation figures"
        ),
        "course": _command(
            "course", "course", "run the course notebooks, write HTML copies to notebooks/_html"
        ),
    }


#: Set to 1 to see the full traceback of a user error (same as --debug).
DEBUG_ENV = "SENET_DEBUG"


def _user_error_message(error: BaseException) -> str | None:
    """One or two lines for an error the user can fix (bad input, missing file, full disk); None for a bug."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        if error.strerror and error.strerror != os.strerror(errno.ENOSPC):  # says what was kept, what to do
            return f"the disk is full: {error.strerror}"
        where = f" while writing {error.filename}" if error.filename else ""
        return f"the disk is full{where}; free some space and run the command again"
    if isinstance(error, (ValueError, OSError, FloatingPointError)):  # FloatingPointError: training diverged
        return str(error) or type(error).__name__
    return None


def main(argv: list[str] | None = None, prog: str = "senet") -> int:
    """Parse ``argv`` (default: the process arguments), run the chosen command, return its exit code.

    A user error (bad value, missing file, full disk) prints ``error: ...`` and exits 2; ``--debug`` (or
    ``SENET_DEBUG=1``) shows the traceback instead. Ctrl-C exits 130 with a line on what was kept; a reader that
    closes the pipe early (``| head``) ends the command quietly, exit 1.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get(DEBUG_ENV) == "1"
    argv = [a for a in argv if a != "--debug"]
    table = commands()
    parser = argparse.ArgumentParser(
        prog=prog,
        description="SENet Lab: Squeeze-and-Excitation networks.",
        epilog="--debug (or SENET_DEBUG=1): show the traceback of an error",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in table.items():
        sub_parser = sub.add_parser(name, help=command.help, description=command.help)
        if argv and argv[0] == name:  # only the chosen command's module is imported
            command.add_arguments(sub_parser)
    args = parser.parse_args(argv)
    try:
        return table[args.command].run(args)
    except KeyboardInterrupt:
        if debug:
            raise
        hint = getattr(args, "interrupt_hint", "")  # a command may set it, as text or a function
        hint = hint() if callable(hint) else hint
        print(f"\n{prog} {args.command}: interrupted (Ctrl-C). {hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped early (`... | head`): stop quietly, as other tools do
        # what is left in stdout's buffer goes nowhere, so the flush at exit cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        message = _user_error_message(error)
        if debug or message is None:
            raise
        print(f"error: {message}\n(run with --debug to see where it happened)", file=sys.stderr)
        return 2

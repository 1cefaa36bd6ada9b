"""``senet course [--quick]``: execute the course notebooks and keep HTML copies."""

from __future__ import annotations

import argparse

from senet_lib.course import runner


def add_course(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: every notebooks/NN_*.ipynb)")
    parser.add_argument(
        "--quick", action="store_true", help="quick mode (SENET_QUICK=1): about a minute each on CPU"
    )
    parser.add_argument(
        "--out", default=str(runner.HTML_DIR), help="folder for the HTML copies (default: notebooks/_html)"
    )


def run_course(args: argparse.Namespace) -> int:
    failed = runner.run_course(args.notebooks, quick=args.quick, out=args.out)
    return 1 if failed else 0

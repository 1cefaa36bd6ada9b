"""``senet course [--tier quick|laptop|full] [--stalls N]``: execute the course notebooks and keep HTML copies."""

from __future__ import annotations

import argparse

from senet_lib.course import runner
from senet_lib.course.tiers import TIERS, resolve_tier


def add_course(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: every notebooks/NN_*.ipynb)")
    parser.add_argument(
        "--tier",
        choices=TIERS,
        default=None,
        help="quick (CI: seconds each), laptop (no GPU: <= 10 min each), full (GPU); default: $SENET_TIER, "
        "else full with a GPU and laptop without",
    )
    parser.add_argument("--quick", action="store_true", help="the same as --tier quick")
    parser.add_argument(
        "--blank",
        action="store_true",
        help="run the exercises as shipped (stubs), not their worked solutions",
    )
    parser.add_argument(
        "--out", default=str(runner.HTML_DIR), help="folder for the HTML copies (default: notebooks/_html)"
    )
    parser.add_argument(
        "--stalls",
        type=int,
        metavar="N",
        default=0,
        help="instead: execute every notebook N times under plain nbclient (default settings) and report "
        "the longest wait between cells (fails above 10 s)",
    )


def run_course(args: argparse.Namespace) -> int:
    tier = "quick" if args.quick else (args.tier or ("quick" if args.stalls else resolve_tier()))
    if args.stalls:
        from senet_lib.course.stalls import stall_check

        results = stall_check(args.notebooks or None, runs=args.stalls, tier=tier)
        return 1 if any(r.error or r.gap > 10 for r in results) else 0
    failed = runner.run_course(args.notebooks, tier=tier, out=args.out, solutions=not args.blank)
    return 1 if failed else 0

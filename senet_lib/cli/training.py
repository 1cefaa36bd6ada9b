"""``senet train``, ``experiments run``, ``bench`` and ``carry``: training runs, grids of them, their speed, and
moving an unfinished run to another machine."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from senet_lib.training.bench import format_bench_table, run_benchmark
from senet_lib.training.config import TrainConfig, load_config_file, load_run_config, parse_assignment
from senet_lib.training.experiments import run_grid, write_grid_tables
from senet_lib.training.grid_tables import Row
from senet_lib.training.loop import train
from senet_lib.training.rundir import resume_hint

#: Options of the model that the command line sets directly (others go through --model-option).
MODEL_OPTION_FLAGS = {
    "reduction": float,
    "placement": str,
    "squeeze_mode": str,
    "gate": str,
    "min_hidden": int,
}


def add_train(parser: argparse.ArgumentParser) -> None:
    """One --flag per TrainConfig field (plus model-option shortcuts); defaults stay unset."""
    parser.add_argument("--config", help="JSON or YAML file of config fields; flags override it")
    parser.add_argument(
        "--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR exactly where it stopped"
    )
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "model_options":
            parser.add_argument(
                "--model-option",
                dest="model_option",
                action="append",
                default=[],
                metavar="KEY=VALUE",
                help="any model option, e.g. se_stages=[3]",
            )
        elif isinstance(f.default, bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None)
        elif f.name == "milestones":
            parser.add_argument(flag, dest=f.name, type=float, nargs="+", default=None)
        else:
            parser.add_argument(flag, dest=f.name, type=type(f.default), default=None)
    for name, kind in MODEL_OPTION_FLAGS.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest="opt_" + name,
            type=kind,
            default=None,
            help=f"model option {name}",
        )


def given_values(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the command sets: the --config file's, overridden by the flags given."""
    values: dict[str, Any] = load_config_file(args.config) if args.config else {}
    for f in dataclasses.fields(TrainConfig):
        given = getattr(args, f.name, None)
        if given is not None and f.name != "model_options":
            values[f.name] = given
    options = values.get("model_options", {})
    if not isinstance(options, dict):
        raise ValueError(f"model_options must be a mapping of option names to values; got {options!r}")
    options = dict(options)
    for name in MODEL_OPTION_FLAGS:
        if getattr(args, "opt_" + name) is not None:
            options[name] = getattr(args, "opt_" + name)
    for item in args.model_option:
        key, value = parse_assignment(item)
        options[key] = value
    if options:
        values["model_options"] = options
    return values


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < config file < command-line flags."""
    config = TrainConfig.from_dict(given_values(args))
    config.validate()
    return config


def run_train(args: argparse.Namespace) -> int:
    if args.resume:  # the saved recipe; a flag may change only where data lives and whether progress shows
        cfg = load_run_config(args.resume, **given_values(args))
    else:
        cfg = config_from_args(args)
    run_dir = cfg.resolved_run_dir()
    args.interrupt_hint = lambda: resume_hint(run_dir)  # Ctrl-C: say what was kept and how to go on
    summary = train(cfg, resume=bool(args.resume))
    print(json.dumps(summary, indent=2))
    return 0


def add_experiments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="train a grid of runs and write the results tables")
    status = sub.add_parser(
        "status", help="where every run of a grid stands, those not started too (give the run's arguments)"
    )
    tables = sub.add_parser(
        "tables",
        help="write the tables of a grid's finished rows, training nothing (a grid part-way through ships what "
        "it has; give the run's arguments)",
    )
    for grid in (run, status, tables):
        grid.add_argument("config", help="experiment YAML, e.g. experiments/cifar10_paper.yaml")
        grid.add_argument("--seeds", type=int, default=3)
        grid.add_argument(
            "--out-dir", default="experiments", help="runs go to OUT/runs, tables to OUT/results"
        )
        grid.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config field in every run, e.g. --set dataset=path/to/images --set epochs=10",
        )
        if grid is tables:
            continue
        grid.add_argument(
            "--row",
            action="append",
            default=None,
            metavar="LABEL",
            help="run only the row with this label (repeatable), e.g. --row 'r = 16'",
        )
    run.add_argument("--no-progress", action="store_true")
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="when only runs other processes train are left, stop instead of waiting to write the tables "
        "(the grid's last runner writes them): a runner that then has another grid to start moves on",
    )


def run_experiments(args: argparse.Namespace) -> int:
    overrides = dict(parse_assignment(item) for item in args.set)
    if args.action == "status":
        from senet_lib.training.status import format_grid_status, grid_status

        grid = grid_status(args.config, args.seeds, args.out_dir, overrides, only=args.row)
        print(format_grid_status(grid))
        return 0
    if args.action == "tables":
        rows = write_grid_tables(args.config, seeds=args.seeds, out_dir=args.out_dir, overrides=overrides)
        _print_rows(rows)
        return 0
    args.interrupt_hint = "Finished runs are kept; run the same command again to resume the interrupted one."
    rows = run_grid(
        args.config,
        seeds=args.seeds,
        out_dir=args.out_dir,
        progress=not args.no_progress,
        overrides=overrides,
        only=args.row,
        wait=not args.no_wait,
    )
    _print_rows(rows)
    return 0


def _print_rows(rows: list[Row]) -> None:
    for row in rows:
        print(f"{row.label:30s} val error {row.mean:6.2f} ± {row.std:4.2f} %   paper {row.paper_text}")


def add_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plain", default="resnet20", help="the plain model of the SE-overhead pair")
    parser.add_argument("--se", default="se_resnet20", help="the SE model (both paths are measured on it)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", help="the fast path's number format: auto, bf16, fp32")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (compiling happens here)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="interleaved repeats of the SE-overhead timing"
    )
    parser.add_argument("--num-workers", type=int, default=2, help="DataLoader workers of the textbook path")
    parser.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="measure the fast path eager only (default: eager and torch.compile)",
    )
    parser.add_argument("--out", help="write the result as JSON here")


def run_bench(args: argparse.Namespace) -> int:
    result = run_benchmark(
        args.plain,
        args.se,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        steps=args.steps,
        warmup=args.warmup,
        repeats=args.repeats,
        compile=args.compile,
        num_workers=args.num_workers,
    )
    print(format_bench_table(result))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


def add_carry(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    pack = sub.add_parser(
        "pack",
        help="copy a run's resume state (or a finished run's results) into a folder, in committable parts",
    )
    pack.add_argument(
        "run_dir", help="the folder a run trains in (its --run-dir), or a grid's folder of runs"
    )
    pack.add_argument("dest", help="where it goes, e.g. experiments/carried/ship-se_resnet56")
    unpack = sub.add_parser("unpack", help="rebuild packed runs, ready for --resume or the grid runner")
    unpack.add_argument("src", help="a folder written by `carry pack`")
    unpack.add_argument(
        "run_dir", help="the run directory (new, or holding no run), or a grid's folder of runs"
    )


def _carried_line(name: str, manifest: dict | None, kept: str) -> str:
    if manifest is None:
        return f"{name}: {kept}"
    done = (
        "finished, results only" if manifest["finished"] else f"{manifest['state_bytes'] / 1e6:.1f} MB state"
    )
    return f"{name}: epoch {manifest['epoch']} of {manifest['epochs']} ({manifest['model']}, {done})"


def run_carry(args: argparse.Namespace) -> int:
    from senet_lib.training.carry import MANIFEST_FILE, pack_run, pack_runs, unpack_run, unpack_runs
    from senet_lib.training.rundir import CONFIG_FILE

    if args.action == "pack":
        single = (Path(args.run_dir) / CONFIG_FILE).is_file()
        done = (
            {args.run_dir: pack_run(args.run_dir, args.dest)}
            if single
            else pack_runs(args.run_dir, args.dest)
        )
        for name, manifest in done.items():
            print(_carried_line(name, manifest, "no epoch finished yet, nothing to carry"))
        print(f"packed into {args.dest}: commit it (git add {args.dest})")
    else:
        single = (Path(args.src) / MANIFEST_FILE).is_file()
        done = (
            {args.run_dir: unpack_run(args.src, args.run_dir)}
            if single
            else unpack_runs(args.src, args.run_dir)
        )
        for name, manifest in done.items():
            print(_carried_line(name, manifest, "already here, left as it is"))
        print(
            f"unpacked into {args.run_dir}; continue with the command that started it: "
            "`python -m senet_lib train --resume RUN_DIR` for a run, the same `experiments run` for a grid"
        )
    return 0


def add_status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dirs", nargs="+", metavar="RUN_DIR", help="run directories, or a grid's folder of runs"
    )


def run_status(args: argparse.Namespace) -> int:
    from senet_lib.training import status

    runs = [run for path in args.run_dirs for run in status.run_dirs(path)]
    print("\n".join(status.format_status(status.run_status(run)) for run in runs))
    return 0

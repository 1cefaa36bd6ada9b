"""``senet evaluate``, ``senet profile``, ``senet probe`` and ``senet latency``: what a trained checkpoint does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from senet_lib.analysis.latency import time_checkpoint
from senet_lib.analysis.probe import probe_checkpoint
from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD, profile_checkpoint
from senet_lib.paths import checkpoints_dir, samples_dir
from senet_lib.training.evaluate import evaluate_checkpoint


def _add_checkpoint_arguments(parser: argparse.ArgumentParser, split: bool = True) -> None:
    """Arguments shared by the commands that run a checkpoint over a split (evaluate, profile, probe)."""
    parser.add_argument("checkpoint", help="checkpoint stem or file (e.g. data/checkpoints/se_resnet20)")
    parser.add_argument("--dataset", help="dataset (default: the one in the checkpoint's recipe)")
    parser.add_argument(
        "--data-dir", default=None, help="data folder (default: $SENET_DATA or the repo's data/)"
    )
    if split:  # probe uses both: it fits on train and reports on val
        parser.add_argument("--split", default="val", choices=["train", "val"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--no-progress", action="store_true")


def add_evaluate(parser: argparse.ArgumentParser) -> None:
    _add_checkpoint_arguments(parser)
    parser.add_argument("--out", help="write the JSON result here (default: print it)")
    parser.add_argument(
        "--flip-tta",
        action="store_true",
        help="also report the accuracy with flip test-time augmentation, apart (a second pass over the split)",
    )


def run_evaluate(args: argparse.Namespace) -> int:
    result = evaluate_checkpoint(
        args.checkpoint,
        args.split,
        args.dataset,
        args.data_dir,
        args.batch_size,
        args.device,
        progress=not args.no_progress,
        flip_tta=args.flip_tta,
    )
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
        flip = f" (flip TTA {result['flip_tta']['accuracy']:.4f}, apart)" if args.flip_tta else ""
        print(f"accuracy {result['accuracy']:.4f}{flip} on {result['count']} images; wrote {args.out}")
    else:
        print(text)
    return 0


def add_profile(parser: argparse.ArgumentParser) -> None:
    _add_checkpoint_arguments(parser)


def run_profile(args: argparse.Namespace) -> int:
    record = profile_checkpoint(
        args.checkpoint,
        args.dataset,
        args.data_dir,
        args.split,
        args.device,
        args.batch_size,
        not args.no_progress,
    )
    print(f"{'layer':<10} {'channels':>8} {'class-specificity':>18} {'spread':>9}")
    constant = []
    for name, layer in record["layers"].items():
        flag = "  gates ~ constant" if layer["spread"] < NEAR_CONSTANT_SPREAD else ""
        constant += [name] if flag else []
        print(
            f"{name:<10} {len(layer['means'][0]):>8} {layer['specificity']:>18.3f} {layer['spread']:>9.1e}{flag}"
        )
    if constant:
        print(
            f"{len(constant)} of {len(record['layers'])} SE layers {'has' if len(constant) == 1 else 'have'} gates "
            "that hardly depend on the image "
            f"(spread < {NEAR_CONSTANT_SPREAD:g}): each acts as a fixed per-channel scale, so its class-specificity "
            "describes variations too small to matter"
        )
    print(f"stored under 'class_profiles' in {args.checkpoint}'s sidecar")
    return 0


def add_probe(parser: argparse.ArgumentParser) -> None:
    _add_checkpoint_arguments(parser, split=False)


def run_probe(args: argparse.Namespace) -> int:
    record = probe_checkpoint(
        args.checkpoint, args.dataset, args.data_dir, args.device, args.batch_size, not args.no_progress
    )
    print(f"{'layer':<10} {'train acc':>9} {'val acc':>8} {'agrees with the network':>24}")
    for name, layer in record["layers"].items():
        print(
            f"{name:<10} {layer['train_accuracy']:>9.3f} {layer['accuracy']:>8.3f} {layer['agreement']:>24.3f}"
        )
    print(f"network val accuracy {record['network_accuracy']:.4f}")
    print(f"stored under 'excitation_probes' in {args.checkpoint}'s sidecar")
    return 0


def _at_least(minimum: int):
    """An argparse type: a whole number >= ``minimum`` (argparse then names the flag in its error)."""

    def parse(text: str) -> int:
        value = int(text)  # a ValueError: argparse says "invalid whole number value"
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}; got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def add_latency(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        default=str(checkpoints_dir() / "se_resnet20"),
        help="checkpoint stem (default: the shipped se_resnet20)",
    )
    parser.add_argument(
        "--images", type=Path, default=samples_dir(), help="folder of images to time (default: data/samples)"
    )
    parser.add_argument(
        "-n", type=_at_least(1), default=30, help="number of images (cycled if the folder has fewer)"
    )
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, auto")
    parser.add_argument(
        "--threads",
        type=_at_least(0),
        default=1,
        help="torch CPU threads (default 1, as the dashboard runs; 0: torch's own choice)",
    )


def run_latency(args: argparse.Namespace) -> int:
    print(time_checkpoint(args.checkpoint, args.images, args.n, args.device, args.threads))
    return 0

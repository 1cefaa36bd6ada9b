"""Do the SE gates of a grid's runs still depend on the image at their final epoch? The shipped se_resnet56
(150 epochs) ended with 20 of its 27 SE layers near-constant (README, Shipped checkpoints); this measures the same
thing on the runs of a grid, e.g. the three SE-ResNet-56 seeds of the 34-epoch SE-vs-plain comparison:

    python experiments/scripts/se_gate_spread_runs.py [RUN_DIR ...] [--out experiments/results/F.csv] [--threads 1]

Each run's final weights (``RUN_DIR/latest``, a finished run) go over the 5,000 images its own recipe held out
(every seed holds out its own): per SE layer, the spread of its gates and eta^2 (senet_lib.analysis.profiles, the
numbers `python -m senet_lib profile` stores for the shipped models). Prints how many layers are near-constant per
run and writes one CSV row per run and layer. Runs still training are skipped (said so), and the rows of runs
measured before whose folders are gone are kept: run folders are not carried once finished, so run this on the
machine that trained them, as each run finishes; the CSV gathers the seeds across sessions.
"""

from __future__ import annotations

import argparse
import csv
import glob
from pathlib import Path

import torch

from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD, class_mean_profiles
from senet_lib.data import checkpoint_on_split
from senet_lib.sidecar import read_meta

RUNS = "experiments/runs/se_vs_plain/se_resnet_56*-s*"  # both SE-ResNet-56 rows: with and without SE decay
OUT = Path("experiments/results/se_vs_plain-se_resnet56-gate-spread.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help=f"finished run folders (default: {RUNS})")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--threads", type=int, help="torch threads (1 while training runs share the cores)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = args.runs or sorted(glob.glob(RUNS))
    if not runs:
        raise SystemExit(f"no run folders match {RUNS}; pass finished run folders (RUN_DIR with latest.json)")
    rows = []
    for run in map(Path, runs):
        if not (run / "latest.json").is_file():
            print(f"{run.name}: skipped, no epoch finished yet (measure it once it has finished)")
            continue
        meta = read_meta(run / "latest")
        recipe, epoch = meta["recipe"], meta["metrics"]["epoch"]
        if epoch != recipe["epochs"]:
            print(
                f"{run.name}: skipped, at epoch {epoch} of {recipe['epochs']} (measure it once it has finished)"
            )
            continue
        held = checkpoint_on_split(run / "latest", "val", progress=False)
        profiles = class_mean_profiles(held.model, held.loader, len(held.meta["classes"]), progress=False)
        still = [name for name, p in profiles.items() if p.near_constant]
        print(
            f"{run.name}: epoch {epoch}, val acc {held.meta['metrics']['val_acc']:.2%}; {len(still)} of "
            f"{len(profiles)} SE layers near-constant (spread < {NEAR_CONSTANT_SPREAD:g}): {', '.join(still) or 'none'}"
        )
        rows += [
            {
                "run": run.name,
                "seed": recipe["seed"],
                "epoch": epoch,
                "layer": name,
                "spread": f"{p.spread:.3e}",
                "eta2": f"{p.specificity:.3f}",
            }
            for name, p in profiles.items()
        ]
    if not rows:
        raise SystemExit("no finished run to measure: every run given is still training")
    out = Path(args.out)
    measured = {row["run"] for row in rows}
    kept = [row for row in _read_rows(out) if row["run"] not in measured]  # earlier sessions' runs
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        # a stable sort: each run's layers stay in model order
        writer.writerows(sorted(kept + rows, key=lambda row: row["run"]))
    before = {row["run"] for row in kept}
    print(f"wrote {out}: {len(measured)} run(s) measured now, {len(before)} kept from before")


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


if __name__ == "__main__":
    main()

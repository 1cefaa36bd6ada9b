"""Does weight decay still se_resnet56's SE gates? The same epochs trained again without it, from the same state.

The shipped se_resnet56 went from 6 SE layers with near-constant gates at epoch 20 to 15 at epoch 32
(experiments/results/se_resnet56-gate-spread-by-epoch.csv). This script continues that run's carried epoch-20
training state (weights, momentum buffers, the learning-rate schedule's position and the data order; from git
history, experiments/carried/long-se_resnet56) over the same epochs 21-32 with one change: no weight decay on the
SE blocks' weights (the recipe field ``se_weight_decay: false``; every other weight still decays). Then it measures
every SE layer's spread at epoch 32 on the same 1,000 held-out images as se_gate_spread_by_epoch.py, beside the run
that kept decay.

    python experiments/scripts/se_resnet56_without_se_decay.py [--run-dir runs/se_resnet56-no-se-decay-from-20]
        [--until 32] [--threads 1] [--out experiments/results/se_resnet56-without-se-decay.csv]   (+ .json: a summary)

About 12 epochs of se_resnet56 (an hour or more on a 2-core CPU). Interrupted, the same command continues from the
run directory's last epoch (the library's exact resume). The run directory's config.json records the changed field
for the whole run; fork.json records where it forked from. Reads git history: run it in a clone with its history.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from itertools import chain
from pathlib import Path

from se_gate_spread_by_epoch import carried_state, carried_versions, check_out, read_spreads, spreads
from se_gate_weight_decay import fc_matrices, group_names

from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD
from senet_lib.checkpoint import load_training_state, save_training_state
from senet_lib.course.data import shipped_model
from senet_lib.models import create_model
from senet_lib.training.carry import unpack_run
from senet_lib.training.config import TrainConfig, load_run_config
from senet_lib.training.loop import train
from senet_lib.training.rundir import STATE_FILE, saved_epoch

FORK_EPOCH = 20
SHIPPED_METRICS = Path("data/checkpoints/se_resnet56.metrics.jsonl")


class Reached(Exception):
    """Raised after the last wanted epoch is saved: training stops there."""


def fork(run_dir: Path, threads: int) -> None:
    """Unpack the carried epoch-20 state into ``run_dir`` and switch off decay on the SE weights from here on."""
    commit, folder = next((c, f) for c, f, epoch in carried_versions() if epoch == FORK_EPOCH)
    with tempfile.TemporaryDirectory() as tmp:
        check_out(commit, folder, tmp)
        unpack_run(tmp, run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    before = TrainConfig.from_dict({**config, "run_dir": ""})
    config.update(se_weight_decay=False, run_dir=str(run_dir), threads=threads, progress=False)
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))
    regroup_optimizer(run_dir / STATE_FILE, before, TrainConfig.from_dict(config))
    (run_dir / "fork.json").write_text(
        json.dumps(
            {"from": f"{folder} at commit {commit}", "epoch": FORK_EPOCH, "changed": "se_weight_decay: false"}
        )
    )


def regroup_optimizer(path: Path, before: TrainConfig, after: TrainConfig) -> None:
    """Move each parameter's momentum buffer to its place in the optimizer ``after`` builds (the SE weights change
    from the decayed group to the other); the groups' settings (learning rate, momentum, decay) stay as saved."""
    model = create_model(before.model, num_classes=10, **before.model_options)
    state = load_training_state(path)
    saved = state["optimizer"]
    old = {name: i for i, name in enumerate(chain(*group_names(model, before)))}
    new = group_names(model, after)
    saved["state"] = {
        j: saved["state"][old[n]] for j, n in enumerate(chain(*new)) if old[n] in saved["state"]
    }
    start = 0
    for group, members in zip(saved["param_groups"], new):
        group["params"] = list(range(start, start + len(members)))
        start += len(members)
    save_training_state(path, state)


def train_until(run_dir: Path, until: int, threads: int) -> None:
    def stop(record: dict) -> None:
        print(
            f"epoch {record['epoch']}: val acc {record['val_acc']:.2%} ({record['seconds']:.0f} s)",
            flush=True,
        )
        if record["epoch"] >= until:
            raise Reached

    if (saved_epoch(run_dir) or 0) >= until:
        return
    try:
        train(load_run_config(run_dir, threads=threads), resume=True, on_epoch=stop)
    except Reached:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", default="runs/se_resnet56-no-se-decay-from-20")
    parser.add_argument("--until", type=int, default=32, help="the last epoch to train (default 32)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="experiments/results/se_resnet56-without-se-decay.csv")
    args = parser.parse_args()
    kept = read_spreads()
    if not any(epoch == args.until for epoch, _ in kept):
        raise SystemExit(
            f"--until {args.until}: the run that kept decay has no measured spreads at that epoch; pick one of "
            f"{sorted({epoch for epoch, _ in kept if epoch > FORK_EPOCH})} (the epochs its training state was carried at)"
        )
    run_dir = Path(args.run_dir)
    if not (run_dir / STATE_FILE).is_file():
        fork(run_dir, args.threads)
    train_until(run_dir, args.until, args.threads)

    held = shipped_model("se_resnet56", images=1000)
    runs = {
        "with_decay": carried_epoch(args.until),
        "without_se_decay": load_training_state(run_dir / STATE_FILE),
    }
    matrices = fc_matrices(held.model)
    measured = {}
    for run, state in runs.items():
        held.model.load_state_dict(state["model"])
        measured[run] = spreads(held.model, held.loader)
    rows = [
        {
            "layer": layer,
            f"spread_epoch{FORK_EPOCH}": f"{kept[(FORK_EPOCH, layer)]:.3e}",
            **{f"spread_epoch{args.until}_{run}": f"{measured[run][layer]:.3e}" for run in runs},
            **{
                f"fc_norm_epoch{args.until}_{run}": f"{fc_norm(runs[run]['model'], layer, matrices):.4f}"
                for run in runs
            },
        }
        for layer in measured["without_se_decay"]
    ]
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    metrics = {"with_decay": SHIPPED_METRICS, "without_se_decay": run_dir / "metrics.jsonl"}
    at_fork = {layer: kept[(FORK_EPOCH, layer)] for layer in measured["without_se_decay"]}
    summary = {
        "command": "python experiments/scripts/se_resnet56_without_se_decay.py",
        "fork": json.loads((run_dir / "fork.json").read_text()),
        "until": args.until,
        "images": 1000,
        "near_constant_spread": NEAR_CONSTANT_SPREAD,
        "near_constant": {f"epoch{FORK_EPOCH}": near_constant(at_fork)}
        | {run: near_constant(measured[run]) for run in runs},
        "val_acc": {run: epoch_record(path, args.until)["val_acc"] for run, path in metrics.items()},
        "val_acc_by_epoch": {
            run: {e: epoch_record(path, e)["val_acc"] for e in range(FORK_EPOCH + 1, args.until + 1)}
            for run, path in metrics.items()
        },
    }
    Path(args.out).with_suffix(".json").write_text(json.dumps(summary, indent=2))
    for name, still in summary["near_constant"].items():
        print(f"{name}: {len(still)} of {len(rows)} SE layers near-constant: {', '.join(still) or 'none'}")
    print(
        f"validation accuracy at epoch {args.until}: "
        + ", ".join(f"{k} {v:.2%}" for k, v in summary["val_acc"].items())
    )
    print(f"wrote {args.out} and its .json summary")


def near_constant(spread: dict[str, float]) -> list[str]:
    return [layer for layer, value in spread.items() if value < NEAR_CONSTANT_SPREAD]


def carried_epoch(epoch: int) -> dict:
    commit, folder = next((c, f) for c, f, e in carried_versions() if e == epoch)
    return carried_state(commit, folder)


def fc_norm(weights: dict, layer: str, matrices: dict[tuple[str, str], str]) -> float:
    """sqrt(||W1||^2 + ||W2||^2) of SE layer ``layer`` in the state dict ``weights`` (``matrices``: fc_matrices)."""
    return sum(weights[matrices[layer, m]].float().norm() ** 2 for m in ("W1", "W2")).sqrt().item()


def epoch_record(path: Path, epoch: int) -> dict:
    return next(r for r in map(json.loads, path.read_text().splitlines()) if r["epoch"] == epoch)


if __name__ == "__main__":
    main()

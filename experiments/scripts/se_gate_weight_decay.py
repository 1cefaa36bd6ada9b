"""Is weight decay what stilled se_resnet56's SE gates? A test on the training states the repository carried.

An SE block's gates are s = sigmoid(W2 relu(W1 z + b1) + b2) (TPAMI 2019, Sec. 3.2, Eq. 3). With W1 and W2 at zero
they are sigmoid(b2) for every image: a fixed per-channel scale. The two FC matrices carry weight decay (5e-4; the
biases do not), and unlike a convolution followed by BatchNorm they are not scale-invariant, so decay shrinks what
they compute. Two measurements, per SE layer and matrix, at each carried epoch (experiments/carried/*-se_resnet56 in
git history; see se_gate_spread_by_epoch.py):

- shrink against decay alone: ||W|| at this epoch over ||W|| at the previous carried epoch, and what SGD (Nesterov,
  the run's one-cycle learning rate and momentum, step by step) would give if the loss gradient were zero and weight
  decay the only force; and the share of decay's pull that went unopposed, ln(measured) / ln(decay alone): 1 when
  nothing but decay moved the matrix's size, 0 when the loss gradient held it.
- decay's share of the update at that moment (CSV only): rho = (1 - mu) <v, W> / (wd ||W||^2), with v the
  optimizer's momentum buffer. Under decay alone v -> wd W / (1 - mu), so rho = 1; where the loss gradient holds the
  size against decay, rho ~ 0. One snapshot of a noisy buffer: it scatters widely, but it is 1.00 exactly where the
  loss sends a matrix no gradient at all.

    python experiments/scripts/se_gate_weight_decay.py [--out experiments/results/F.csv]

Layers are grouped by the spread measured at the same epoch (experiments/results/se_resnet56-gate-spread-by-epoch.csv,
from se_gate_spread_by_epoch.py). Reads git history, so run it in a clone with its history; no forward passes.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from pathlib import Path

import torch
from se_gate_spread_by_epoch import carried_states, read_spreads

from senet_lib import pretrained
from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD
from senet_lib.se_layers import find_se_layers
from senet_lib.sidecar import read_meta
from senet_lib.training.config import TrainConfig
from senet_lib.training.optim import make_optimizer, make_scheduler

SHIPPED = Path("data/checkpoints/se_resnet56")


def schedule(cfg: TrainConfig, steps_per_epoch: int) -> list[tuple[float, float]]:
    """(learning rate, momentum) of every optimizer step of the run, as its scheduler set them."""
    param = torch.nn.Parameter(torch.zeros(2, 2))
    optimizer = torch.optim.SGD([param], lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    scheduler = make_scheduler(optimizer, cfg, steps_per_epoch)
    steps = []
    for _ in range(cfg.epochs * steps_per_epoch):
        group = optimizer.param_groups[0]
        steps.append((group["lr"], group["momentum"]))
        optimizer.step()
        scheduler.step()
    return steps


def decay_only_shrink(steps: list[tuple[float, float]], wd: float) -> float:
    """The factor by which SGD (Nesterov, PyTorch's form) shrinks a weight over ``steps`` with a zero loss gradient."""
    lr, mu = steps[0]
    w, v = 1.0, wd / (1 - mu)  # the buffer as decay alone leaves it
    for lr, mu in steps:
        d = wd * w
        v = mu * v + d
        w -= lr * (d + mu * v)
    return w


def fc_matrices(model) -> dict[tuple[str, str], str]:
    """(paper layer name, "W1" | "W2") -> parameter name of that FC weight in the model's state dict."""
    paths = {id(m): path for path, m in model.named_modules()}
    return {
        (name, label): f"{paths[id(se)]}.{fc}.weight"
        for name, se in find_se_layers(model).items()
        for label, fc in (("W1", "fc1"), ("W2", "fc2"))
    }


def group_names(model, cfg: TrainConfig) -> list[list[str]]:
    """The parameter names in each of the optimizer's groups, as ``make_optimizer`` builds them for ``cfg``."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [[names[id(p)] for p in g["params"]] for g in make_optimizer(model, cfg).param_groups]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="experiments/results/se_resnet56-gate-weight-decay.csv")
    args = parser.parse_args()
    cfg = TrainConfig.from_dict(read_meta(SHIPPED)["recipe"])
    model = pretrained("se_resnet56")
    matrices = fc_matrices(model)
    decayed = group_names(model, cfg)[0]  # the parameters with weight decay
    states = carried_states()
    states[cfg.epochs] = {"model": model.state_dict()}  # weights only: no optimizer state ships
    steps_per_epoch = states[min(states)]["scheduler"]["total_steps"] // cfg.epochs
    steps = schedule(cfg, steps_per_epoch)
    still = {(e, layer) for (e, layer), spread in read_spreads().items() if spread < NEAR_CONSTANT_SPREAD}
    rows, previous = [], None
    for epoch in sorted(states):
        state = states[epoch]
        weights = state["model"]
        buffers = {}
        if "optimizer" in state:
            saved = state["optimizer"]
            lr_now = saved["param_groups"][0]["lr"]
            assert math.isclose(lr_now, steps[epoch * steps_per_epoch][0], rel_tol=1e-6), (
                f"the rebuilt schedule disagrees with the run's at epoch {epoch}: {steps[epoch * steps_per_epoch][0]} "
                f"against {lr_now}"
            )
            ids = saved["param_groups"][0]["params"]
            buffers = {name: saved["state"][i]["momentum_buffer"] for name, i in zip(decayed, ids)}
            mu = saved["param_groups"][0]["momentum"]
        predicted = (
            decay_only_shrink(steps[previous * steps_per_epoch : epoch * steps_per_epoch], cfg.weight_decay)
            if previous is not None
            else math.nan
        )
        for (layer, label), param in matrices.items():
            w = weights[param].float()
            norm = w.norm().item()
            rho = math.nan
            if param in buffers and norm > 0:
                rho = (
                    (1 - mu)
                    * torch.dot(buffers[param].flatten(), w.flatten()).item()
                    / (cfg.weight_decay * norm**2)
                )
            before = states[previous]["model"][param].float().norm().item() if previous is not None else 0.0
            rows.append(
                {
                    "epoch": epoch,
                    "layer": layer,
                    "matrix": label,
                    "near_constant": int((epoch, layer) in still),
                    "norm": f"{norm:.4e}",
                    "shrink_measured": f"{norm / before:.4e}" if before > 0 else "",
                    "shrink_decay_only": f"{predicted:.4e}" if previous is not None else "",
                    "unopposed": f"{math.log(norm / before) / math.log(predicted):.3f}"
                    if before > 0 and norm > 0
                    else "",
                    "decay_share_rho": "" if math.isnan(rho) else f"{rho:.3f}",
                }
            )
        previous = epoch
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summarize(rows)
    print(f"wrote {args.out}")


def summarize(rows: list[dict]) -> None:
    """One line per carried epoch and group of layers: medians over their FC matrices."""
    for epoch in sorted({r["epoch"] for r in rows}):
        for flag, group in ((1, "near-constant"), (0, "moving")):
            sel = [r for r in rows if r["epoch"] == epoch and r["near_constant"] == flag]
            if not sel:
                continue
            shrink = [float(r["shrink_measured"]) for r in sel if r["shrink_measured"]]
            unopposed = [float(r["unopposed"]) for r in sel if r["unopposed"]]
            predicted = sel[0]["shrink_decay_only"]
            print(
                f"epoch {epoch:3d} {group:13s} ({len(sel) // 2:2d} layers): "
                f"norm median {statistics.median(float(r['norm']) for r in sel):.3g}"
                + (
                    f"; shrink since last: median {statistics.median(shrink):.3g} vs decay alone {float(predicted):.3g} "
                    f"(unopposed {statistics.median(unopposed):.2f})"
                    if shrink
                    else ""
                )
            )


if __name__ == "__main__":
    main()

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5 · Training ResNet and SE-ResNet on CIFAR
#
# **Learning objectives**
# - train a ResNet and its SE twin with the library's training loop: same recipe, same seed;
# - read live training curves (train dashed, validation solid), and resume a run that was interrupted;
# - put results beside the paper's CIFAR tables, and decide from mean ± std over seeds whether SE helped.
#
# **The paper (Hu et al., TPAMI 2019, Sec. 5.1, Tables 4 and 5).** On CIFAR-10 (Table 4) and CIFAR-100 (Table 5),
# SE blocks lower the test error of ResNet-110, ResNet-164, WRN-16-8 and Shake-Shake. Those networks are 110 and 164
# layers deep, or 8× wider than ResNet-20. This notebook trains depth 20 on a CPU (laptop tier) and depth 56 on a GPU
# (full tier), and reads longer runs that ship with the course.

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("05", TIER)

# %% [markdown]
# ## The paper's CIFAR rows, and what differs between the networks
#
# The reproduction configs in `experiments/` carry the paper's numbers beside each row; the gains below are computed
# from them, not copied.

# %%
from senet_lib.training.experiments import load_grid

for config in ["cifar10_paper", "cifar100_paper"]:
    name, base, rows, caption = load_grid(course.root / "experiments" / f"{config}.yaml")
    print(f"{caption}:")
    for plain, se in zip(rows[::2], rows[1::2]):
        print(f"  {plain.label:12s} {plain.paper:6.2f}  ->  {se.label:15s} {se.paper:6.2f}   ({se.paper - plain.paper:+.2f} points)")

# %%
from torch import nn

from senet_lib.complexity import count_parameters
from senet_lib.models import create_model

for name in ["resnet20", "resnet56", "resnet110", "resnet164", "wrn16_8"]:
    net = create_model(name)
    stages = [getattr(net, f"layer{k}") for k in (1, 2, 3)]
    widths = [[m for m in stage[-1].modules() if isinstance(m, nn.Conv2d)][-1].out_channels for stage in stages]
    units = [len(stage) for stage in stages]
    print(f"{name:10s} units per stage {units}, output widths {widths}, {count_parameters(net) / 1e6:.2f}M parameters")

# %% [markdown]
# Read the two printouts together: ResNet-110 has the same widths as ResNet-20 (it is deeper, with 18 units per
# stage instead of 3), so its SE blocks have the same tiny bottlenecks; ResNet-164's bottleneck units and WRN-16-8
# are wider. Which rows show the largest gains, and on which dataset?
#
# ## The recipe of each tier
#
# One `TrainConfig` per model; the two differ only in the model name. The laptop tier uses the CPU fast path (bf16
# autocast where the CPU has bf16 units, channels_last: `precision="auto"`, `channels_last=True`) with the fast
# recipe's settings (`experiments/recipes/se_resnet20_cpu_fast.yaml`: one-cycle, Nesterov, label smoothing 0.1;
# learning rate 0.1 at batch 128, its 0.2 at 256 scaled) on a few minutes of data; the full tier trains depth 56
# for 60 epochs on 45,000 images.

# %%
from dataclasses import replace

from senet_lib.paths import find_named_dataset
from senet_lib.training.config import TrainConfig

have_jpeg = find_named_dataset("cifar10-jpeg") is not None
plan = course.pick(
    quick={"depth": 20, "epochs": 2, "train_subset": 150, "val_size": 100, "batch_size": 50},
    laptop={"depth": 20, "epochs": 4, "train_subset": 20000, "val_size": 2000, "batch_size": 128},
    full={"depth": 56, "epochs": 60, "train_subset": 0, "val_size": 5000, "batch_size": 128},
)
depth = plan.pop("depth")
base = TrainConfig(
    dataset="cifar10-jpeg" if have_jpeg else "cifar10",  # without the JPEG copy: torchvision's CIFAR-10 download
    download=not have_jpeg,
    val_source="holdout",  # validation: images held out of the training split, never trained on
    lr=0.1,
    schedule="onecycle",
    weight_decay=5e-4,
    label_smoothing=0.1 if course.tier == "laptop" else 0.0,
    precision="auto",
    channels_last=True,
    **plan,
)
configs = {name: replace(base, model=name) for name in (f"resnet{depth}", f"se_resnet{depth}")}
print(f"{course.tier} tier: ResNet-{depth} and SE-ResNet-{depth}, {base.epochs} epoch(s) on "
      f"{base.train_subset or 50_000 - base.val_size:,} training images, validated on {base.val_size:,} held-out images")

# %% [markdown]
# ## Training, with live curves
#
# `train_or_resume` (from `senet_lib.course.training`) prints how long the run will take on this machine, shows a
# progress bar with the time left, and keeps the run in `runs/course/<model>-<recipe key>`: the key is a hash of
# the **whole** recipe, so changing any field (the reduction ratio, label smoothing, ...) trains anew, while the same
# recipe is reused. The curves below are redrawn after every epoch.

# %%
from senet_lib.analysis.figures import training_curves
from senet_lib.course.display import LiveOutput
from senet_lib.course.training import RUNS_DIR, train_or_resume

import tempfile
from pathlib import Path

runs = Path(tempfile.mkdtemp(prefix="course-")) if course.quick else RUNS_DIR  # quick runs are not kept
history = {name: [] for name in configs}
curves = LiveOutput()


def redraw(name):
    def on_epoch(record):
        history[name].append(record)
        curves.update(training_curves({n: r for n, r in history.items() if r}))

    return on_epoch


plain_name, se_name = configs
summaries = {plain_name: train_or_resume(configs[plain_name], runs, on_epoch=redraw(plain_name))}

# %% [markdown]
# ## An interruption, and the resume
#
# Long runs get interrupted: a closed laptop, a kernel restart, the ■ button. The next cell trains the SE twin but
# stops it on purpose after its first epoch, as an interruption would (`stop_after=1`). The cell after it is the
# same call as always: it finds the interrupted run of the same recipe and continues from its last finished epoch,
# with the optimiser, schedule and random state restored (exact resume), instead of starting over.

# %%
history[se_name] = []
interrupted = train_or_resume(configs[se_name], runs, on_epoch=redraw(se_name), stop_after=1)

# %%
history[se_name] = []
summaries[se_name] = train_or_resume(configs[se_name], runs, on_epoch=redraw(se_name))
for name, s in summaries.items():
    print(f"{name:14s} final-epoch validation accuracy {s['final_val_acc']:.2%}")

# %% [markdown]
# ## Longer runs that ship with the course (precomputed)
#
# Training ResNet-20 and ResNet-56 to convergence takes hours on a CPU. Their curves ship in `data/checkpoints/`
# (one record per epoch); each line below says whether a file is there and the command that reproduces it.

# %%
from senet_lib.course.results import shipped_curves

shipped = {name: shipped_curves(name) for name in ("resnet20", "se_resnet20", "resnet56", "se_resnet56")}
for result in shipped.values():
    print(result.note())
found = {name: result.data for name, result in shipped.items() if result.found}
if found:
    training_curves(found).show()
    for name, records in found.items():
        last = records[-1]
        print(f"{name:12s} epoch {last['epoch']}: final-epoch validation accuracy {last['val_acc']:.2%}, "
              f"{sum(r['seconds'] + r.get('eval_seconds', 0) for r in records) / 3600:.1f} h of training")

# %% [markdown]
# ## SE or not: mean ± std over seeds (precomputed)
#
# One run of each model says little: two seeds of the *same* model differ too. The shipped table
# `experiments/results/se_vs_plain.csv` holds several seeds per model (final-epoch validation error, never the best
# epoch). The difference SE − plain is printed with its standard error, and called a gain only when it is more than
# twice that.

# %%
from senet_lib.course.results import difference, se_pairs, shipped_table, shipped_text

table = shipped_table("se_vs_plain")
print(table.note())
seed_std = {}
if table.found:
    for row in table.data:
        print(f"  {row.label:16s} error {row.mean:5.2f} ± {row.std:.2f} % over {len(row.errors)} seed(s)"
              + (f"   (paper: {row.paper:.2f})" if row.paper is not None else ""))
    for plain_row, se_row in se_pairs(table.data):
        diff, spread = difference(se_row, plain_row)
        verdict = "a gain beyond seed noise" if diff < -2 * spread else (
            "a loss beyond seed noise" if diff > 2 * spread else "within seed noise: no conclusion")
        print(f"  {se_row.label} − {plain_row.label}: {diff:+.2f} ± {spread:.2f} points of error -> {verdict}")
        seed_std[plain_row.label] = plain_row.std
paired = shipped_text("se_vs_plain_pairs", config="se_vs_plain")  # SE − plain with the same seed, when shipped
if paired.found:
    print(paired.note())
    print(paired.data)

# %% [markdown]
# ## Your run beside them

# %%
mine = {name: 100 * (1 - s["final_val_acc"]) for name, s in summaries.items()}
gap = mine[se_name] - mine[plain_name]
print(f"this notebook ({course.tier} tier, one seed each): error {mine[plain_name]:.2f} % -> {mine[se_name]:.2f} % "
      f"({gap:+.2f} points)")
if seed_std:
    typical = max(seed_std.values())
    print(f"the shipped seeds of one model differ by about {typical:.2f} points (std): a single-seed gap of "
          f"{abs(gap):.2f} is {'larger' if abs(gap) > 2 * typical else 'not larger'} than twice that")
else:
    print("no multi-seed table here: with one seed per model, this gap cannot be told apart from seed noise")
if course.quick:
    print("(quick tier: 150 images for 2 epochs; these numbers mean nothing)")

# %% [markdown]
# ## What to conclude
#
# Use the numbers printed above, not expectations:
# - Is SE's effect at depth 20 (and 56, if shipped) larger than the spread between seeds?
# - How does that compare with the paper's gains for ResNet-110 and ResNet-164 (first cell), which have many more
#   SE blocks?
# - To make a claim yourself, run several seeds: `python -m senet_lib experiments run experiments/cifar10_paper.yaml
#   --seeds 3` (GPU hours), or the shipped comparison's own config.
#
# ## Exercises
#
# 1. Run the laptop recipe with `seed=1` (add it to `base`): how far is your second run from the first?
# 2. Train SE-ResNet-20 with `model_options={"reduction": 4}` (hidden widths 4/8/16 instead of 1/2/4). The recipe
#    key changes, so it trains anew: does a wider bottleneck help at this scale?
# 3. Set `label_smoothing=0.0`: which of the two models changes more?

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7 · Ablations: reduction ratio, squeeze, gate, placement, stages
#
# **Learning objectives**
# - read the paper's ablations and know exactly what they were run on;
# - read CIFAR-scale ablation results (mean ± std over seeds) beside the paper's tables, and say what they can and
#   cannot show;
# - rerun rows of an ablation yourself, through the same configs.
#
# **The paper (Hu et al., TPAMI 2019, Sec. 6).** Five ablations of SE-ResNet-50 on ImageNet: reduction ratio
# (Sec. 6.1, Table 10), squeeze operator (6.2, Table 11), excitation operator (6.3, Table 12), the stages that get SE
# blocks (6.4, Table 13) and the integration strategy (6.5, Table 14). Their recipe differs from the headline
# result's (Table 2, ResNet-50 24.80 → SE-ResNet-50 23.29 top-1 error): the FC layers of the excitation have **no
# biases**, training starts at learning rate 0.1 and runs until the validation loss plateaus, then the rate drops
# ×10 — three times in all (no fixed epoch count) — with label smoothing. Their ResNet-50 baseline is therefore
# **23.30** and their standard SE-ResNet-50 **22.28**.

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("07", TIER)

# %% [markdown]
# ## Our ablation configs
#
# Each ablation is a YAML file in `experiments/` with the paper's number beside each row. What they train, and how
# that differs from the paper's ablations:

# %%
from senet_lib.models import SEOptions
from senet_lib.training.experiments import load_grid

GRIDS = ["ablation_reduction", "ablation_squeeze", "ablation_gate", "ablation_stages", "ablation_placement"]
grids = {name: load_grid(course.root / "experiments" / f"{name}.yaml") for name in GRIDS}
_, base, _, caption = grids["ablation_gate"]
print("our base recipe:", {k: base[k] for k in ("dataset", "model", "epochs", "batch_size", "lr", "schedule")})
print(f"our SE default: se_bias={SEOptions().se_bias} (the paper's ablations: no FC biases), "
      f"reduction={SEOptions().reduction}; the paper's numbers: {caption}")
for name, (_, _, rows, _) in grids.items():
    print(f"  {name}: " + ", ".join(f"{r.label} ({r.paper})" for r in rows))

# %% [markdown]
# Compare **orderings and gaps**, never values: ours are CIFAR-10 validation errors of SE-ResNet-56 (60 epochs,
# one-cycle, with FC biases; SE-ResNet-20 and 15 epochs in the CPU grid below), theirs ImageNet top-1 errors of
# SE-ResNet-50. A gap smaller than the seed-to-seed
# standard deviation is not a finding.
#
# ## The shipped results (precomputed)
#
# Two sets of runs can ship in `experiments/results/`. The five grids above (SE-ResNet-56, 60 epochs, 3 seeds) are
# days of GPU time. `experiments/ablations_cpu.yaml` holds every row of all five at a CPU budget — SE-ResNet-20, 15
# epochs of the fast recipe, 2 seeds, one grid with the no-SE and standard-SE rows shared by all tables — and is
# what this project's 2-core machine runs. Each section shows whichever table is here and says how to make the
# other.

# %%
from senet_lib.analysis.figures import ablation_comparison
from senet_lib.course.results import paper_table_so_far, shipped_table, shipped_text

CPU_GRID = "ablations_cpu"
cpu_table = shipped_table(CPU_GRID)
_, _, cpu_planned, cpu_caption = load_grid(course.root / "experiments" / f"{CPU_GRID}.yaml")
print(cpu_table.note())
if cpu_table.found:
    print(f"rows finished (every seed): {len(cpu_table.data)} of the {len(cpu_planned)} in its config")
if not cpu_table.found or len(cpu_table.data) < len(cpu_planned):
    print(f"where its runs stand: python -m senet_lib experiments status experiments/{CPU_GRID}.yaml --seeds 2")


def reading(rows) -> str:
    """Our ordering against the paper's, and whether our best-worst gap exceeds the seed spread, in words."""
    ours = sorted(rows, key=lambda r: r.mean)
    best, worst = ours[0], ours[-1]
    spread = max(r.std for r in rows)
    words = [f"ours: best {best.label} {best.mean:.2f} ± {best.std:.2f}, worst {worst.label} {worst.mean:.2f} ± "
             f"{worst.std:.2f} (gap {worst.mean - best.mean:.2f}, largest seed std {spread:.2f})"]
    with_paper = [r for r in rows if r.paper is not None]
    if len(with_paper) > 1:
        paper_best = min(with_paper, key=lambda r: r.paper)
        order_ours = [r.label for r in sorted(with_paper, key=lambda r: r.mean)]
        order_paper = [r.label for r in sorted(with_paper, key=lambda r: r.paper)]
        words.append(f"paper's best {paper_best.label} ({paper_best.paper:.2f}); same order as the paper: "
                     f"{'yes' if order_ours == order_paper else 'no'} (ours {order_ours}, paper {order_paper})")
    if len(best.errors) < 2:
        words.append("one seed per row: no gap here can be told apart from seed noise")
    elif worst.mean - best.mean <= 2 * spread:
        words.append("the gap is within twice the seed spread: no row is distinguishable from another")
    else:
        words.append(f"the gap is more than twice the seed spread: best and worst differ ({len(best.errors)} seeds "
                     "each; the rows between them may not)")
    return "\n".join(words)


def show(name: str, title: str, paper_table: int) -> None:
    """The GPU grid ``name`` and the CPU grid's rows of the paper's Table ``paper_table``, each when shipped."""
    table = shipped_table(name)
    print(table.note())
    if table.found:
        ablation_comparison(table.data, grids[name][3], title=f"{title}: SE-ResNet-56 (precomputed)").show()
        print(reading(table.data))
    if cpu_table.found:
        rows, waiting = paper_table_so_far(cpu_table.data, cpu_planned, paper_table)
        if waiting:
            print(f"{CPU_GRID}, Table {paper_table}: still training or not started: {', '.join(waiting)}")
        if rows:
            print(f"{CPU_GRID}, the rows of Table {paper_table} that have finished:")
            ablation_comparison(rows, cpu_caption, title=f"{title}: SE-ResNet-20 at a CPU budget (precomputed)").show()
            print(reading(rows))


# %% [markdown]
# ### Reduction ratio (Sec. 6.1, Table 10)
#
# The paper: $r = 2, 4, 8, 16, 32$ give 22.29, 22.25, 22.26, 22.28, 22.72 (no SE: 23.30) — flat until 32.
# At CIFAR widths the reduction ratio is confounded with the width floor of the bottleneck: the hidden units per
# stage of SE-ResNet-56 for each $r$ are

# %%
from senet_lib.se import hidden_width

for r in (2, 4, 8, 16, 32):
    print(f"r = {r:2d}: hidden units {[hidden_width(c, r) for c in (16, 32, 64)]} for C = 16, 32, 64")
show("ablation_reduction", "Reduction ratio r", 10)

# %% [markdown]
# So at $r = 16$ the stages have 1, 2 and 4 hidden units, and $r = 32$ differs from $r = 16$ only in stages 3 and 4
# (stage 2 is floored at 1 unit): a CIFAR "r" row changes the bottleneck's rank as much as its cost.
#
# ### Squeeze operator (Sec. 6.2, Table 11)
#
# Average 22.28, max 22.57: both work; the point of the squeeze is *global* information.

# %%
show("ablation_squeeze", "Squeeze: avg vs max", 11)

# %% [markdown]
# ### Excitation operator (Sec. 6.3, Table 12)
#
# Sigmoid 22.28, tanh 23.00, ReLU 23.47. Two different things happen here. *tanh* keeps a bounded gate but its
# range is (−1, 1): a gate can flip a channel's sign, and a "neutral" gate sits at 0, not in the middle. *ReLU* is
# not a gate at all: unbounded above (it can amplify a channel without limit) and exactly 0 for every negative
# logit (a closed channel passes no gradient to reopen it). Against the no-SE baseline of the same study:

# %%
paper = {row.label: row.paper for name in ("ablation_gate", "ablation_reduction") for row in grids[name][2]}
baseline = paper["ResNet-56 (no SE)"]  # the row's paper number: ResNet-50 without SE in the ablation setting
for gate in ("sigmoid", "tanh", "ReLU"):
    print(f"{gate:8s} {paper[gate]:.2f}  ({paper[gate] - baseline:+.2f} against no SE, {baseline:.2f})")
show("ablation_gate", "Excitation gate", 12)

# %% [markdown]
# With a ReLU gate the SE network is *worse than no SE at all*; the paper concludes that "careful construction of
# the excitation operator is important".
#
# ### Stages (Sec. 6.4, Table 13)
#
# SE in one stage only: stage 2 23.03, stage 3 23.04, stage 4 22.68, all stages 22.28 (no SE 23.30); the gains are
# complementary. Our CIFAR nets have three stages (named 2-4 like the paper's, the stem being stage 1).

# %%
show("ablation_stages", "SE in one stage", 13)

# %% [markdown]
# ### Integration strategy (Sec. 6.5, Table 14)
#
# SE 22.28, SE-PRE 22.23, SE-Identity 22.20, SE-POST 22.78. The paper's reading: the placements that act before
# the branches are summed work equally well; POST, after the sum, loses. (Not "because it rescales the identity
# path": SE-Identity rescales the identity path too and is the best; notebook 3 has you write all four.)

# %%
show("ablation_placement", "SE placement", 14)

# %% [markdown]
# ### Paired rows: same seed, one change
#
# Seed noise is shared by two runs with the same seed (same initial weights, same batches), so the per-seed
# difference between two rows is a sharper test than two means. The CPU grid pairs the standard SE block with no SE,
# and a row of this project's (not the paper's): the SE blocks' weights without weight decay, which kept
# SE-ResNet-56's gates moving (notebook 6).

# %%
paired = shipped_text(f"{CPU_GRID}_pairs", config=CPU_GRID)
print(paired.note())
if paired.found:
    print(paired.data)

# %% [markdown]
# ## Rerun rows yourself
#
# The same configs, shortened to fit the tier: SE-ResNet-20 instead of 56, a few epochs on a subset, one seed.
# `ROWS` picks rows from one grid; each run is cached by its whole recipe in `runs/course/`, and resumes if
# interrupted. (The shipped tables above are what to compare against; these short single-seed runs show the
# pipeline and the size of seed noise, not the paper's effects.)

# %%
import tempfile
from pathlib import Path

from senet_lib.course.training import RUNS_DIR, train_or_resume
from senet_lib.paths import find_named_dataset
from senet_lib.training.config import TrainConfig
from senet_lib.training.experiments import Row

GRID, ROWS = "ablation_gate", ["sigmoid", "ReLU"]  # try: "ablation_reduction", ["r = 2", "r = 16"]
short = course.pick(
    quick={"epochs": 1, "train_subset": 150, "val_size": 100, "batch_size": 50},
    laptop={"epochs": 3, "train_subset": 12000, "val_size": 1000, "batch_size": 128, "lr": 0.1, "label_smoothing": 0.1},
    full={"epochs": 60, "train_subset": 0, "val_size": 5000, "batch_size": 128},
)
have_jpeg = find_named_dataset("cifar10-jpeg") is not None
data = {"dataset": "cifar10-jpeg" if have_jpeg else "cifar10", "download": not have_jpeg, "val_source": "holdout"}
runs = Path(tempfile.mkdtemp(prefix="ablations-")) if course.quick else RUNS_DIR
_, grid_base, grid_rows, grid_caption = grids[GRID]
reruns = []
baseline_row = grids["ablation_reduction"][2][0]  # ResNet without SE, for reference
for row in [baseline_row] + [r for r in grid_rows if r.label in ROWS]:
    model, label = ("resnet20", "no SE") if row is baseline_row else ("se_resnet20", row.label)
    fields = {**grid_base, **row.fields, **short, **data, "model": model}
    summary = train_or_resume(TrainConfig.from_dict(fields), runs, label=f"{label} ({model})")
    reruns.append(Row(label, row.fields, row.paper, [100 * (1 - summary["final_val_acc"])]))

# %%
ablation_comparison(reruns, grid_caption, title=f"{GRID}: your short runs ({course.tier} tier, one seed)").show()
print(reading(reruns))

# %% [markdown]
# ## Summary
#
# - The paper's ablations are ImageNet SE-ResNet-50 runs without FC biases, trained to a plateau: compare orderings
#   and gaps with ours, not values.
# - Table 12's ReLU gate is worse than no SE; Table 14's POST is the only placement after the sum, and SE-Identity
#   (which rescales the identity path) is the best; at CIFAR widths $r$ also sets the bottleneck's rank.
# - `experiments run` runs any grid resumably; the notebook reads its tables, or tells you they are not there.
#
# ## Exercises
#
# 1. In the shipped tables (when present), which ablation shows a gap larger than twice its seed spread?
# 2. Set `ROWS = ["r = 2", "r = 32"]` with `GRID = "ablation_reduction"`. Predict from the hidden-unit table which
#    stages differ before you train.
# 3. Add `se_bias: false` to a row's `model_options` to match the paper's ablation setting. Does it change the
#    parameter count by what notebook 4 computed?

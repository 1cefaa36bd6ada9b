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
# # 9 · Channel attention after SE
#
# **Learning objectives**
# - find the SE blocks inside today's efficient networks (MobileNetV3, EfficientNet-B0, RegNetY-400MF), and measure
#   where they sit, how wide their bottlenecks are, and what share of parameters, FLOPs and time they take;
# - understand ECA (Wang et al., CVPR 2020), which drops SE's bottleneck for a 1-D convolution across channels,
#   and compare SE and ECA in a CIFAR ResNet: parameters, speed, a short training run;
# - place CBAM and Gather-Excite beside SE, and see channel attention as gating.
#
# SE's block (notebooks 1-3) became a standard part of mobile and efficient architectures, usually with a
# different gate or a different reference width for $r$. The numbers below are computed here.

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("09", TIER)

# %% [markdown]
# ## SE inside torchvision's efficient networks
#
# `load_torchvision_se` builds each network with its ImageNet weights when they are in the local torch cache, and
# otherwise with **random weights** and a notice saying so (the architecture, parameter and cost numbers are the
# same either way; the excitations then mean nothing). `find_se_layers` finds their SE modules
# (`torchvision.ops.SqueezeExcitation`).

# %%
from senet_lib.analysis.torchvision_se import load_torchvision_se
from senet_lib.course.attention import attention_cost, se_layer_table

NETWORKS = ["mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf"]
loaded = {name: load_torchvision_se(name) for name in NETWORKS}
for lm in loaded.values():
    print(f"{lm.label}" + (f"\n  notice: {lm.notice}" if lm.notice else ""))

# %% [markdown]
# ### Where the SE layers sit, and their bottlenecks
#
# For each network: the number of SE layers, their gate, and the reduction ratio $C/\text{hidden}$ measured
# against the width $C$ they gate.

# %%
for name, lm in loaded.items():
    table = se_layer_table(lm.model)
    ratios = [round(t.reduction, 1) for t in table]
    gates = sorted({t.gate for t in table})
    print(f"{name}: {len(table)} SE layers, gate {gates}; first at {table[0].name}, last at {table[-1].name}")
    print(f"  gated widths C: {[t.channels for t in table]}")
    print(f"  C / hidden:     {ratios}")

# %% [markdown]
# Read the ratios: MobileNetV3 (Howard et al. 2019) gates the *expanded* width of its inverted-residual blocks and
# uses a bottleneck of a quarter of it, with a hard sigmoid as the gate (cheaper than a sigmoid on mobile hardware).
# EfficientNet-B0 sizes the bottleneck from the block's *input* width (a quarter of it) while gating the
# 6×-expanded width: hence $C/\text{hidden} = 24$ in most of its layers. RegNetY sizes it from the block's input
# width too.
#
# ### What the SE layers cost there

# %%
import torch
from PIL import Image

from senet_lib.analysis.images import to_model_input
from senet_lib.analysis.torchvision_se import input_format_for
from senet_lib.paths import samples_dir

sample_files = sorted(samples_dir().glob("*.jpg"))[: course.pick(quick=1, laptop=4, full=8)]
repeats = course.pick(quick=1, laptop=3, full=5)
costs = {}
for name, lm in loaded.items():
    fmt = input_format_for(name)
    x = torch.cat([to_model_input(Image.open(f), fmt) for f in sample_files])  # (B, 3, 224, 224)
    costs[name] = cost = attention_cost(lm.model, x, repeats=repeats)
    print(f"{name}: SE parameters {cost.se_parameters:,} of {cost.parameters:,} ({cost.parameter_share:.1%}); "
          f"counted FLOPs {cost.flop_share:.2%}; forward time {cost.time_share:+.0%} "
          f"({1000 * cost.seconds:.0f} ms vs {1000 * cost.seconds_without:.0f} ms without SE, batch {len(x)})")

# %% [markdown]
# The FLOP counter counts convolutions and matrix products only, where SE's FCs on a 1×1 map are tiny; the pooling
# and the rescaling are memory-bound element-wise work it does not count, and they show in the time instead (on a
# shared CPU, timings vary from run to run: rerun the cell to see by how much).
#
# ### Excitations, recorded with the same tools as in notebook 6

# %%
from senet_lib.analysis.excitation import record_excitations
from senet_lib.analysis.figures import excitation_heatmap

lm = loaded["efficientnet_b0"]
fmt = input_format_for("efficientnet_b0")
x = torch.cat([to_model_input(Image.open(f), fmt) for f in sample_files])
with torch.no_grad(), record_excitations(lm.model) as rec:
    lm.model(x)
s = {name: v[0] for name, v in rec.excitations().items()}  # the first image: layer -> (C,)
if lm.notice:
    print("RANDOM WEIGHTS: these excitations show where the gates sit, not what a trained network does")
print({name: tuple(v.shape) for name, v in list(rec.excitations().items())[:3]}, "...")
excitation_heatmap(s).show()

# %% [markdown]
# ## ECA: channel attention without a bottleneck
#
# ECA-Net (Wang, Wu, Zhu, Li, Zuo, Hu, CVPR 2020) keeps SE's squeeze and scale but replaces the excitation's two
# FC layers by a single 1-D convolution of size $k$ across the channel axis: each channel's gate depends on its $k$
# neighbours only, there is no dimensionality reduction, and the block has $k$ weights. $k$ grows with $C$:
# $k = \left|\frac{\log_2 C + b}{\gamma}\right|$ rounded to an odd number ($\gamma = 2$, $b = 1$).
# `senet_lib.eca.ECABlock` implements it beside `SEBlock`, and `create_model("eca_resnet20")` puts it where
# SE-ResNet-20 has SE.

# %%
from senet_lib.eca import ECABlock, eca_kernel_size
from senet_lib.se import SEBlock

print(f"{'C':>5} {'ECA k':>6} {'ECA params':>11} {'SE params (r=16)':>17}")
for c in (16, 32, 64, 256, 1024, 2048):
    eca, se = ECABlock(c), SEBlock(c, reduction=16)
    print(f"{c:5d} {eca_kernel_size(c):6d} {sum(p.numel() for p in eca.parameters()):11d} "
          f"{sum(p.numel() for p in se.parameters()):17,d}")

# %% [markdown]
# ## SE, ECA or none in ResNet-20: parameters, speed, a short training run
#
# The three networks differ only in the block on each residual branch. Speed is the training loop's own
# measurement (images per second, median over epochs, on this machine at the time of the run: a busy machine
# slows it); the training run is short and single-seed (`train_or_resume`, cached by recipe).

# %%
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from senet_lib.complexity import count_parameters
from senet_lib.course.training import RUNS_DIR, train_or_resume
from senet_lib.models import create_model
from senet_lib.paths import find_named_dataset
from senet_lib.training.config import TrainConfig

VARIANTS = {"none": "resnet20", "SE": "se_resnet20", "ECA": "eca_resnet20"}
have_jpeg = find_named_dataset("cifar10-jpeg") is not None
base = TrainConfig(
    dataset="cifar10-jpeg" if have_jpeg else "cifar10",
    download=not have_jpeg,
    val_source="holdout",
    schedule="onecycle",
    precision="auto",
    channels_last=True,
    **course.pick(
        quick={"epochs": 1, "train_subset": 150, "val_size": 100, "batch_size": 50},
        laptop={"epochs": 3, "train_subset": 10000, "val_size": 1000, "batch_size": 128, "lr": 0.1, "label_smoothing": 0.1},
        full={"epochs": 30, "train_subset": 0, "val_size": 5000, "batch_size": 128},
    ),
)
runs = Path(tempfile.mkdtemp(prefix="attention-")) if course.quick else RUNS_DIR
comparison = {}
for variant, model_name in VARIANTS.items():
    records = []
    summary = train_or_resume(replace(base, model=model_name), runs, on_epoch=records.append, label=f"{variant} ({model_name})")
    comparison[variant] = {
        "parameters": count_parameters(create_model(model_name)),
        "images/s": statistics.median(r["images_per_s"] for r in records),  # measured by the training loop
        "accuracy": summary["final_val_acc"],
    }
for variant, row in comparison.items():
    extra = row["parameters"] - comparison["none"]["parameters"]
    print(f"{variant:5s} {row['parameters']:,} parameters (+{extra}), {row['images/s']:.0f} training images/s, "
          f"final-epoch validation accuracy {row['accuracy']:.2%}")

# %% [markdown]
# ## Switch the attention block
#
# Choose the block: the bars show all three networks with the chosen one highlighted, and the text what its
# attention consists of.

# %%
import ipywidgets as widgets
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from senet_lib.course.display import redraw_on_change


def compare(block: str):
    metrics = ["parameters", "images/s", "accuracy"]
    fig = make_subplots(rows=1, cols=3, subplot_titles=["parameters", "training images / s (this machine)", "validation accuracy"])
    for col, metric in enumerate(metrics, start=1):
        fig.add_trace(
            go.Bar(
                x=list(comparison),
                y=[comparison[v][metric] for v in comparison],
                marker_color=["crimson" if v == block else "lightgray" for v in comparison],
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    fig.update_layout(height=320, title=f"{block}: {VARIANTS[block]} ({course.tier} tier, one seed)")
    table = se_layer_table(create_model(VARIANTS[block]))
    if not table:
        return fig, "none: no attention block; every residual branch is added unscaled"
    lines = [f"{t.name}: C = {t.channels}, " + (f"bottleneck {t.hidden} unit(s)" if t.hidden else "no bottleneck")
             + f", {t.parameters} parameters, gate {t.gate}" for t in table]
    return fig, "\n".join(lines)


redraw_on_change(compare, block=widgets.ToggleButtons(options=list(VARIANTS), value="SE", description="block"))

# %% [markdown]
# ## Context: CBAM and Gather-Excite
#
# - **CBAM** (Woo, Park, Lee, Kweon, ECCV 2018) follows SE's channel attention — squeezing with both average and
#   max pooling through one shared MLP — with a *spatial* attention map: the channel-wise average and max of the
#   features, a 7×7 convolution, a sigmoid, multiplied over all channels at each position. SE says *which
#   channels*, CBAM also *where*.
# - **Gather-Excite** (Hu, Shen, Albanie, Sun, Vedaldi, NeurIPS 2018; SE's authors) generalises the squeeze: the
#   *gather* step pools over a spatial extent that need not be the whole image, and the *excite* step redistributes
#   it to the positions; with global extent and a parameter-free gather it is SE without the FC layers.
# - **Attention as gating.** All of these multiply features by learned values in (0, 1) computed from the features
#   themselves — the gates of LSTMs and highway networks, applied to channels (SE, ECA), positions (CBAM's spatial
#   map) or both. Notebook 7's gate ablation is the reason they keep a bounded gate.
#
# ## Summary
#
# - SE blocks sit in MobileNetV3, EfficientNet-B0 and RegNetY with reduction ratios measured against different
#   widths (printed above), and take a share of parameters and time that the FLOP count does not show.
# - ECA replaces SE's bottleneck by $k$ weights per block; the table and the comparison above give its parameters,
#   speed and accuracy against SE here.
#
# ## Exercises
#
# 1. Which of the three networks spends the largest share of its parameters on SE, and why (look at $C$ and $C/\text{hidden}$)?
# 2. Train `eca_resnet20` with `model_options={"kernel_size": 1}`: each gate then sees only its own channel. What
#    does that remove from ECA?
# 3. Record the ECA excitations of your trained `eca_resnet20` with `record_excitations` and compute their $\eta^2$
#    (notebook 6). How do they compare with SE's?

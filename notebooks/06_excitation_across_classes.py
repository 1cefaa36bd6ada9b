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
# # 6 · Excitation across classes
#
# **Learning objectives**
# - record the excitations $\mathbf{s}$ of every SE block of a trained SE-ResNet with forward hooks (and write
#   such a recorder yourself);
# - measure how class-specific each layer's excitations are ($\eta^2$, which you also write), and read the numbers
#   against the paper's Fig. 6;
# - measure saturation, and test what a stage's SE blocks contribute by replacing their gates.
#
# **The paper (Hu et al., TPAMI 2019, Sec. 7.2, Fig. 6 and 7; SE-ResNet-50 on ImageNet).** In the earlier layers
# "the distribution of excitations across different classes is very similar", while at greater depth "the value of
# each channel becomes much more class-specific"; in the last stage SE_5_2 tends towards saturation, most
# excitations close to 1. Whether a small CIFAR network behaves the same is what this notebook measures.
#
# We use the deepest shipped SE model, `se_resnet56` (27 SE blocks, 9 per stage; where it is missing, `se_resnet20`
# with 9 blocks, 3 per stage); the next cell prints which. Its SE layers are named `SE_<stage>_<block>` with the stem
# as stage 1, so stages 2-4 here; the paper's SE-ResNet-50 has stages 2-5.

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("06", TIER)

# %%
import torch

from senet_lib.course.data import deepest_shipped_se, shipped_model

held = shipped_model(deepest_shipped_se(), images=course.pick(quick=500, laptop=None, full=None))
model, meta, classes, val = held.model, held.meta, held.classes, held.val

# %% [markdown]
# ## Recording $\mathbf{s}$ with forward hooks
#
# The excitation is the output of each SE block's gate (`gate_module(se)`, i.e. `se.gate` for `SEBlock`). A forward
# hook registered on the gate sees that output on every forward pass; `senet_lib.analysis.excitation.
# record_excitations` does this for every SE layer and removes its hooks afterwards.
#
# ### Your turn (1): a recorder
#
# Write `record(model, images)` returning `{layer name: s (N, C)}` for every SE layer of `find_se_layers(model)`
# (paper names), using `register_forward_hook` on each gate. Leave no hook behind.

# %% tags=["exercise"] exercise="recorder"
from senet_lib.course.checks import check_recorder
from senet_lib.se_layers import find_se_layers, gate_module  # noqa: F401  (for your recorder)


def record(model, images):
    """{SE layer name: excitations (N, C)} of one forward pass, recorded with hooks on the gates."""
    raise NotImplementedError("for each (name, se) of find_se_layers(model): register a hook on gate_module(se) "
                              "that stores its output; run the model; remove every handle (try/finally)")


check_recorder(record)

# %% [markdown]
# The library's recorder, over all the held-out images here, one batch at a time:

# %%
from senet_lib.analysis.excitation import record_excitations

layers = list(find_se_layers(model))
per_layer = {name: [] for name in layers}
with torch.no_grad(), record_excitations(model) as rec:
    for images, _ in held.loader:
        model(images)
        for name in layers:
            per_layer[name].append(rec[name])
        rec.clear()
s_all = {name: torch.cat(chunks) for name, chunks in per_layer.items()}  # layer -> (N, C)
labels = val.targets
print({name: tuple(s.shape) for name, s in s_all.items()})

# %% [markdown]
# ## A CIFAR caveat before reading the numbers: tiny bottlenecks
#
# At $r = 16$ the excitation bottleneck of a CIFAR SE-ResNet (16, 32 and 64 channels in stages 2, 3 and 4) has
# $C/16$ hidden units: 1, 2 and 4.
# With one hidden unit, all 16 gates of a stage-2 block are functions of **one scalar** per image: they can only
# move together along one fixed direction. Measured on the recorded excitations (gate logits = logit(s) minus the
# second FC layer's bias; their singular values say how many directions they use):

# %%
se_layers = find_se_layers(model)
for name in layers:
    se = se_layers[name]
    logits = torch.logit(s_all[name].double().clamp(1e-6, 1 - 1e-6)) - se.fc2.bias.detach().double()
    singular = torch.linalg.svdvals(logits)
    share = float((singular[: se.hidden] ** 2).sum() / (singular**2).sum())
    print(f"{name}: C = {se.channels:2d}, hidden units = {se.hidden}; the first {se.hidden} direction(s) hold "
          f"{share:.1%} of the gate logits' energy")

# %% [markdown]
# Keep this in mind below: a stage-2 layer's "class profile" is a single number per image, stretched over 16
# channels.
#
# ## Class specificity by depth
#
# For each SE layer, $\eta^2$ is the share of the excitations' variation that the class explains:
#
# $$ \eta^2 = \frac{\sum_c \sum_k n_k (\bar s_{kc} - \bar s_c)^2}{\sum_c \sum_i (s_{ic} - \bar s_c)^2}, $$
#
# the between-class sum of squares and the total sum of squares, **each summed over all channels** $c$ before
# dividing ($n_k$ images of class $k$, $\bar s_{kc}$ their mean, $\bar s_c$ the grand mean). It is therefore not
# the average of the per-channel $\eta^2$: channels whose excitations vary more weigh more. 0: the class tells
# nothing about $\mathbf{s}$; 1: the class determines it. `senet_lib.analysis.profiles.class_specificity` computes it.
#
# ### Your turn (2): $\eta^2$
#
# Write `eta_squared(s, labels, num_classes)` for one layer's excitations `s` (N, C).

# %% tags=["exercise"] exercise="eta_squared"
from senet_lib.course.checks import check_eta_squared


def eta_squared(s, labels, num_classes):
    """eta^2 of one SE layer: between-class over total sum of squares, both summed over channels."""
    raise NotImplementedError("grand mean per channel; per class: count n_k and mean; between = Σ n_k (mean_k - "
                              "grand)² summed over channels; total = Σ (s - grand)² summed over channels")


check_eta_squared(eta_squared)

# %%
import plotly.graph_objects as go

from senet_lib.analysis.profiles import class_specificity, profiles_from_json

eta = {name: class_specificity(s_all[name], labels, len(classes)) for name in layers}
fig = go.Figure(go.Bar(x=layers, y=list(eta.values())))
fig.update_layout(title=f"η² per SE layer over {len(labels):,} held-out images", yaxis_title="η²", height=320)
fig.show()
sidecar = profiles_from_json(meta["class_profiles"]) if "class_profiles" in meta else {}
for name in layers:
    stored = f" (sidecar, all 5,000 held-out images: {sidecar[name].specificity:.3f})" if name in sidecar else ""
    print(f"{name}: η² = {eta[name]:.3f}{stored}")

# %% [markdown]
# ## How much does $\mathbf{s}$ move at all?
#
# $\eta^2$ is a ratio: a layer whose gates vary by a millionth from image to image can still score 0.5. So before
# reading it, measure the size of the variation, the **spread**: the root mean square over images and channels of
# $s_{ic} - \bar s_c$ (`senet_lib.analysis.profiles.excitation_spread`). Below 0.001 (`NEAR_CONSTANT_SPREAD`) a layer
# scales every image alike to within 0.001: a fixed per-channel scale, which the BatchNorm just before it could
# have learnt as well (in an SE-ResNet unit $\mathbf{s}$ multiplies a BatchNorm's output), whatever its $\eta^2$
# says. Beside it, the size of each block's two FC weight matrices of Eq. 3, $\lVert W_1 \rVert$ and
# $\lVert W_2 \rVert$.

# %%
from senet_lib.analysis.profiles import NEAR_CONSTANT_SPREAD, excitation_spread

spread = {name: excitation_spread(s_all[name]) for name in layers}
constant = [name for name in layers if spread[name] < NEAR_CONSTANT_SPREAD]
for name in layers:
    se = se_layers[name]
    flag = "  <- gates ~ constant" if name in constant else ""
    print(f"{name}: spread {spread[name]:.1e}, η² {eta[name]:.2f}, ‖W1‖ {float(se.fc1.weight.detach().norm()):.3f}, "
          f"‖W2‖ {float(se.fc2.weight.detach().norm()):.3f}{flag}")
print(f"{len(constant)} of {len(layers)} SE layers have near-constant gates: {', '.join(constant) or 'none'}")

# %% [markdown]
# Look at the weight norms of the near-constant layers against the others. What could have brought them there
# during training? (A hint: the recipe's weight decay, $5 \times 10^{-4}$, pulls every weight towards 0 unless the
# loss pushes back, and a block whose scaling a BatchNorm can take over gives the loss little reason to push.)
# Whatever the cause, read the $\eta^2$ of those layers as a statement about variations too small to matter.
#
# **Check your guess** (for `se_resnet56`). Two measurements of its training, by scripts in `experiments/scripts/`
# that read the training states the repository carried between working sessions (they need its git history and an
# hour of training, so the next cell reads their committed results instead of recomputing them):
# - between carried epochs, how much each SE layer's two FC matrices shrank, against what SGD with weight decay alone
#   (a zero loss gradient) would have done: the share of decay's pull left **unopposed**, 1 where decay alone set
#   their size, 0 where the loss held it (`se_gate_weight_decay.py`);
# - the same epochs 21-32 trained again from the same epoch-20 state (weights, momentum, data order), with one
#   change: no weight decay on the SE blocks' weights (`se_resnet56_without_se_decay.py`; the recipe field
#   `se_weight_decay: false`).

# %%
import csv
import json
import statistics

from senet_lib.course.results import RESULTS_DIR

if meta["model"]["name"] == "se_resnet56":
    with open(RESULTS_DIR / "se_resnet56-gate-weight-decay.csv") as fh:
        matrices = [row for row in csv.DictReader(fh) if row["epoch"] in ("32", "43")]
    for start, end in (("20", "32"), ("32", "43")):
        for flag, group in (("1", "near-constant"), ("0", "moving")):
            unopposed = [float(r["unopposed"]) for r in matrices if r["epoch"] == end and r["near_constant"] == flag]
            print(f"epochs {start}-{end}, the FC matrices of layers {group} at epoch {end}: median share of decay's "
                  f"pull unopposed {statistics.median(unopposed):.2f} ({len(unopposed)} matrices)")
    fork = json.loads((RESULTS_DIR / "se_resnet56-without-se-decay.json").read_text())
    names = {"with_decay": f"epoch {fork['until']}, SE weights decayed (the shipped run)",
             "without_se_decay": f"epoch {fork['until']}, SE weights not decayed"}
    for run, still in fork["near_constant"].items():
        accuracy = f", validation accuracy {fork['val_acc'][run]:.2%}" if run in fork["val_acc"] else ""
        print(f"{names.get(run, 'epoch 20, where both start')}: {len(still)} of {len(layers)} SE layers "
              f"near-constant{accuracy}: {', '.join(still)}")
else:
    print(f"these measurements were made on se_resnet56's training; this notebook reads {meta['model']['name']}")

# %% [markdown]
# Did the SE weights that decay no longer pulled keep their gates moving? All of them? For a layer that went still
# anyway, look back at its weight norms and at the hint: what else can stop a gate following the image? One seed
# and one interval: say how far the numbers carry.
#
# What do these numbers say about depth? Computed, not assumed: per stage, the rank correlation between a
# layer's position and its $\eta^2$, and the same over the layers whose gates do follow the image.

# %%
stages = sorted({name.split("_")[1] for name in layers})
by_stage = {st: [eta[n] for n in layers if n.split("_")[1] == st] for st in stages}
for st, values in by_stage.items():
    print(f"stage {st}: η² {', '.join(f'{v:.2f}' for v in values)} (mean {sum(values) / len(values):.2f})")
ranks = torch.tensor(list(eta.values())).argsort().argsort().double()
position = torch.arange(len(layers), dtype=torch.double)
spearman = float(torch.corrcoef(torch.stack([position, ranks]))[0, 1])
rises = all(b >= a for a, b in zip(eta.values(), list(eta.values())[1:]))
lowest, highest = min(eta, key=eta.get), max(eta, key=eta.get)
print(f"rank correlation of depth and η²: {spearman:+.2f}; η² {'rises' if rises else 'does not rise'} monotonically "
      f"with depth; lowest at {lowest} ({eta[lowest]:.2f}), highest at {highest} ({eta[highest]:.2f})")
moving = [name for name in layers if name not in constant]
print(f"the {len(moving)} layers whose gates follow the image: " + ", ".join(f"{n} {eta[n]:.2f}" for n in moving))

# %% [markdown]
# Compare with the paper's description of SE-ResNet-50: does the *first* stage here look class-agnostic? Is the
# rise with depth (if any) steady, or carried by a few layers? Remember the bottleneck caveat above.
#
# ## Class-mean excitations: an early layer and the last one (paper Fig. 6 as a map)

# %%
from senet_lib.analysis.figures import class_profile_heatmap

means = {name: torch.stack([s_all[name][labels == k].mean(0) for k in range(len(classes))]) for name in layers}
for name in (layers[0], layers[-1]):
    class_profile_heatmap(means[name], classes, name).show()

# %% [markdown]
# ## Explore: distributions per class (paper Fig. 7)
#
# Pick a layer and some classes: the lines are class means over channels, the bands ±1 std, the dashed line all
# images.

# %%
import ipywidgets as widgets

from senet_lib.analysis.figures import excitation_distribution
from senet_lib.course.display import redraw_on_change


def distribution(layer: str, chosen: tuple):
    groups = {c: s_all[layer][labels == classes.index(c)] for c in chosen}
    return excitation_distribution(groups, layer) if groups else "pick at least one class"


redraw_on_change(
    distribution,
    layer=widgets.Dropdown(options=layers, value=layers[-2], description="SE layer"),
    chosen=widgets.SelectMultiple(options=classes, value=("airplane", "cat", "frog", "truck"), description="classes", rows=5),
)

# %% [markdown]
# ## Saturation
#
# How many excitations sit near 1 (the channel passes unchanged) or near 0 (the block shuts it)?

# %%
near_one = {name: float((s > 0.9).float().mean()) for name, s in s_all.items()}
near_zero = {name: float((s < 0.1).float().mean()) for name, s in s_all.items()}
fig = go.Figure([go.Bar(x=layers, y=list(near_one.values()), name="s > 0.9"),
                 go.Bar(x=layers, y=list(near_zero.values()), name="s < 0.1")])
fig.update_layout(title="Share of saturated excitations per SE layer", yaxis_title="share of (image, channel) pairs",
                  barmode="group", height=350)
fig.show()
for name in layers:
    print(f"{name}: mean s = {float(s_all[name].mean()):.3f}, s > 0.9: {near_one[name]:.1%}, s < 0.1: {near_zero[name]:.1%}")
most = max(near_one, key=near_one.get)
print(f"most saturated towards 1: {most} ({near_one[most]:.1%} of its excitations above 0.9); "
      f"the last stage's layers: {', '.join(f'{n} {near_one[n]:.1%}' for n in layers if n.split('_')[1] == stages[-1])}")

# %% [markdown]
# ## Replacing a stage's gates
#
# With `override_gates` we replace $\mathbf{s}$ inside the block (Eq. 4 then scales by the new value):
# - **gates = 1**: the block is dropped without retraining — features pass unscaled. The rest of the network was
#   trained with the block's scaling in place, so this mostly measures that mismatch;
# - **gates = dataset mean**: the block keeps its average recalibration but no longer depends on the image — a
#   test of whether the stage's *image-dependent* excitation matters.
#
# The paper's observation that the last stage's SE blocks can be removed at little cost (Sec. 4) is about a network
# *trained* without them; `experiments/ablation_stages.yaml` trains such variants (notebook 7).

# %%
from senet_lib.analysis.excitation import override_gates
from senet_lib.training.evaluate import evaluate


def accuracy(overrides=None):
    with override_gates(model, overrides or {}):
        return evaluate(model, held.loader, num_classes=len(classes))["accuracy"]


results = {"unmodified": accuracy()}
for st in stages:
    names = [n for n in layers if n.split("_")[1] == st]
    results[f"stage {st}: gates = 1"] = accuracy({n: 1.0 for n in names})
    results[f"stage {st}: gates = mean s"] = accuracy({n: s_all[n].mean(0) for n in names})
for label, acc in results.items():
    print(f"{label:28s} accuracy {acc:.2%}  ({100 * (acc - results['unmodified']):+.2f} points)")
costs = {st: results["unmodified"] - results[f"stage {st}: gates = mean s"] for st in stages}  # points lost
most = max(costs, key=costs.get)
if costs[most] > 0:
    print(f"image-dependent excitation matters most in stage {most} ({100 * costs[most]:.2f} points lost with its "
          f"gates fixed to their mean) and least in stage {min(costs, key=costs.get)} "
          f"({100 * min(costs.values()):.2f} points); one image is {100 / len(labels):.2f} points here")
else:
    print(f"fixing any one stage's gates to their mean costs no accuracy on these {len(labels):,} images: the "
          "image-dependent part of the excitation is not what the accuracy rests on here")

# %% [markdown]
# ## Summary
#
# - Hooks on the gates record $\mathbf{s}$ (N, C) per SE layer; $\eta^2$ summarises class specificity per layer as
#   a ratio of sums of squares summed over channels, and the spread says whether there is anything to explain:
#   a layer with near-constant gates is a fixed per-channel scale, whatever its $\eta^2$.
# - The printouts above answer, for this network: how $\eta^2$ changes with depth, which layers saturate, and which
#   stage's image-dependent excitation the accuracy depends on. Where they differ from the paper's SE-ResNet-50,
#   remember the 1/2/4-unit bottlenecks.
#
# ## Exercises
#
# 1. Which classes separate first (at the lowest depth)? Use the widget, then check with `class_profile_heatmap`.
# 2. Replace the stage-4 gates by the **class** mean of the true class (`means[name][label]`) — an oracle. How much
#    accuracy does that give?
# 3. Compute the per-channel $\eta^2$ of `SE_4_3` and their plain average. Why does it differ from `eta[name]`?
# 4. Fix the gates of every near-constant layer (`constant`) to their mean with `override_gates`, all at once, and
#    measure the accuracy. Then do the same for the layers in `moving`. What does each result say about where this
#    network's image-dependent recalibration lives?

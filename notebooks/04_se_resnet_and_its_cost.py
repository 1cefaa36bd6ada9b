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
# # 4 · SE-ResNet and what it costs
#
# **Learning objectives**
# - build SE-ResNets (CIFAR and ImageNet style) from `senet_lib.models`;
# - count their parameters and FLOPs, compare with the plain twins, and know what the paper's numbers count;
# - reproduce the paper's extra-parameter formula and see where the extra parameters sit.
#
# **What the paper reports (Hu et al., TPAMI 2019).** Sec. 4: SE-ResNet-50 needs "~2.5 million additional
# parameters beyond the ~25 million" of ResNet-50 (~10% more), and 3.87 GFLOPs against 3.86 (a 0.26% increase).
# Table 2 gives single-crop ImageNet errors and GFLOPs — **no parameter counts**: the headline is ResNet-50
# **24.80 → 23.29** top-1 error (re-implementation vs SE-ResNet-50, 224×224 single crop). Parameter counts appear in
# the ablation tables (Table 10: 25.6M for ResNet-50, 28.1M for SE-ResNet-50 at $r = 16$).
#
# **The formula (Sec. 4).** With $S$ stages, $N_s$ SE blocks of $C_s$ channels in stage $s$, and reduction $r$,
#
# $$ \frac{2}{r} \sum_{s=1}^{S} N_s \, C_s^2 $$
#
# extra parameters: the FC weights only, no biases.

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("04", TIER)

# %% [markdown]
# ## Building SE-ResNets

# %%
from senet_lib.complexity import (
    count_flops,
    count_parameters,
    format_cost_report,
    overhead_report,
    paper_extra_parameters,
    se_stages,
)
from senet_lib.models import create_model, list_models

print("models:", ", ".join(m for m in list_models() if m.startswith("se_")))
cifar = create_model("se_resnet20")
imagenet = create_model("se_resnet50")
print(cifar.layer1[0])
print("SE-ResNet-20 (N_s, C_s):", se_stages(cifar))
print("SE-ResNet-50 (N_s, C_s):", se_stages(imagenet))

# %% [markdown]
# ## Parameters and FLOPs against the plain network
#
# `overhead_report` builds both twins and counts everything (FLOPs with `torch.utils.flop_counter`, which counts
# **2 FLOPs per multiply-add**).

# %%
print(format_cost_report(overhead_report("se_resnet20")))
print()
report50 = overhead_report("se_resnet50")  # ImageNet size 224x224: a few seconds on CPU
print(format_cost_report(report50))

# %% [markdown]
# ## 3.86 "GFLOPs" against our count
#
# Two things differ between the paper's 3.86 and the count above. *What is counted*: the paper's GFLOPs are
# multiply-adds (one per multiply-add), the counter's FLOPs two. *Where the stride sits*: our ResNet-50 (as
# torchvision's, "v1.5") downsamples in the 3×3 convolution of a stage's first bottleneck; the original ResNet (and
# the authors' Caffe models) downsample in its first 1×1 convolution, so the 3×3 runs at the lower resolution.
# Moving the stride in a copy of our model:

# %%
import copy


def multiply_adds(model) -> float:
    return count_flops(model) / 2 / 1e9  # 2 FLOPs per multiply-add


for name in ("resnet50", "se_resnet50"):
    ours = create_model(name)
    original = copy.deepcopy(ours)
    for stage in (original.layer2, original.layer3, original.layer4):
        first = stage[0]
        first.conv1.stride, first.conv2.stride = (2, 2), (1, 1)  # stride on the 1x1, as the original ResNet
    print(
        f"{name:12s} stride on the 3x3 (ours): {multiply_adds(ours):.3f} G multiply-adds | "
        f"stride on the 1x1 (original): {multiply_adds(original):.3f} G"
    )
print("paper (Table 2): ResNet-50 3.86 GFLOPs, SE-ResNet-50 3.87 GFLOPs")

# %% [markdown]
# ## The paper's formula, by hand
#
# A block of width $C$ adds $2C^2/r$ weights; stage $s$ has $N_s$ such blocks. Sum over stages.

# %%
def extra_by_hand(stages, r=16):
    return sum(2 * n * c * c / r for n, c in stages)


stages50 = se_stages(imagenet)
by_hand = extra_by_hand(stages50)
assert by_hand == paper_extra_parameters(imagenet)
print(f"(2/r) Σ N_s C_s² = {by_hand:,.0f} ≈ {by_hand / 1e6:.2f}M (paper, Sec. 4: ~2.5M)")
print(f"actual extra parameters of our SE-ResNet-50 (FC biases included): {report50.extra_params:,}")

# %% [markdown]
# ## Biases: the paper's formula, its ablations, and our default
#
# Eq. 3 and the formula have no biases. The paper's ablation study (Sec. 6, introduction) says it *removes* the
# biases of the excitation's FC layers, finding that this "facilitates the modelling of channel dependencies", and
# uses that configuration in Tables 10-16. `SEBlock`'s default is `bias=True` (`se_bias=True` in `create_model`,
# as torchvision's `SqueezeExcitation`); set `se_bias=False` to match the ablations. What the biases cost:

# %%
with_bias = create_model("se_resnet50")
without_bias = create_model("se_resnet50", se_bias=False)
print(f"SE-ResNet-50 with FC biases: {count_parameters(with_bias):,}; without: {count_parameters(without_bias):,} "
      f"(difference {count_parameters(with_bias) - count_parameters(without_bias):,} = Σ over blocks of C/r + C)")

# %% [markdown]
# ## Your turn
#
# Write `my_se_parameters(C, r)`: the extra parameters of **one** SE block, without biases.

# %% tags=["exercise"] exercise="se_parameters"
from senet_lib.course.checks import check_se_parameters


def my_se_parameters(C, r):
    """Weights of one SE block of width C and reduction r (no biases)."""
    raise NotImplementedError("two FC layers: W1 maps C -> C/r, W2 maps C/r -> C; count the entries of both")


check_se_parameters(my_se_parameters)

# %% [markdown]
# ## Parameters against $r$
#
# The cost falls as $1/r$. Counting the real models (biases included) against the formula:

# %%
import plotly.graph_objects as go

rs = course.pick(quick=[4, 16, 64], laptop=[2, 4, 8, 16, 32, 64], full=[2, 4, 8, 16, 32, 64])
plain50 = report50.plain.params
measured = [count_parameters(create_model("se_resnet50", reduction=r)) - plain50 for r in rs]
formula = [paper_extra_parameters(stages50, r) for r in rs]
fig = go.Figure(
    [
        go.Scatter(x=rs, y=measured, mode="lines+markers", name="measured (SE-ResNet-50 − ResNet-50)"),
        go.Scatter(x=rs, y=formula, mode="lines+markers", name="(2/r) Σ N_s C_s²", line={"dash": "dash"}),
    ]
)
fig.update_layout(
    xaxis_type="log",
    yaxis_type="log",
    xaxis_title="reduction ratio r",
    yaxis_title="extra parameters",
    title="SE-ResNet-50: extra parameters vs r",
    height=350,
)
fig.show()
for r, m in zip(rs, measured):
    print(f"r = {r:2d}: SE-ResNet-50 has {(plain50 + m) / 1e6:.1f}M parameters")

# %% [markdown]
# ## Where do the extra parameters sit?
#
# $C_s^2$ grows fast with width, so the last stage ($C = 2048$) should hold most of them. The paper (Sec. 4) notes
# that dropping the SE blocks of the last stage cost under 0.1% top-1 error on ImageNet and cut the relative
# parameter increase to ~4%. Our counts:

# %%
shares = [2 * n * c * c / 16 for n, c in stages50]
fig = go.Figure(
    go.Bar(
        x=[f"stage {i + 2} (N={n}, C={c})" for i, (n, c) in enumerate(stages50)],
        y=shares,
        text=[f"{100 * v / sum(shares):.0f}%" for v in shares],
    )
)
fig.update_layout(yaxis_title="extra parameters (r = 16)", title="SE-ResNet-50: extra parameters per stage", height=320)
fig.show()
no_last = create_model("se_resnet50", se_stages=(1, 2, 3))
extra_no_last = count_parameters(no_last) - plain50
print(f"SE in all stages: +{report50.extra_params:,} ({100 * report50.extra_params / plain50:.1f}% of ResNet-50); "
      f"without the last stage: +{extra_no_last:,} ({100 * extra_no_last / plain50:.1f}%)")

# %% [markdown]
# ## Summary
#
# - `create_model("se_resnet50")` / `("se_resnet20")` build SE-ResNets; `overhead_report` compares them with the
#   plain twins (relative increases printed above).
# - The paper's 3.86 GFLOPs are multiply-adds of the original stride placement; our count is in FLOPs (×2) of the
#   torchvision placement, and moving the stride reproduces the paper's number.
# - The extra parameters follow $(2/r)\sum_s N_s C_s^2$ (biases not counted) and sit mostly in the last stage.
#
# ## Exercises
#
# 1. Compute $(2/r)\sum N_s C_s^2$ for SE-ResNet-20 by hand; why do the model's actual SE parameters exceed it?
# 2. Why do the FLOPs barely change? Count the multiply-adds of one SE block on a $7\times7\times2048$ map.
# 3. Which $r$ makes SE-ResNet-50's extra parameters about 1% of ResNet-50's?

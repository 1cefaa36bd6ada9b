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
# # 2 · Excitation: a gate per channel
#
# **Learning objectives**
# - write the excitation of Eq. 3 and check it against `senet_lib.excite`;
# - explain the bottleneck (reduction ratio $r$) and what it costs in parameters;
# - explain why the gate is a sigmoid and not a softmax;
# - see what happens at CIFAR scale when $C/r$ rounds down to 1 (`hidden_width`, `min_hidden`).
#
# **The equation (Hu et al., TPAMI 2019, Sec. 3.2, Eq. 3).**
#
# $$ \mathbf{s} = \mathbf{F}_{ex}(\mathbf{z}, \mathbf{W}) = \sigma\big(\mathbf{W}_2\, \delta(\mathbf{W}_1 \mathbf{z})\big),
# \qquad \mathbf{W}_1 \in \mathbb{R}^{\frac{C}{r} \times C},\ \mathbf{W}_2 \in \mathbb{R}^{C \times \frac{C}{r}}, $$
#
# with $\delta$ the ReLU and $\sigma$ the sigmoid. Eq. 3 has no bias terms; `SEBlock(bias=True)`, the library's
# default, adds one per FC layer (notebook 4 counts what that costs).

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("02", TIER)

# %% [markdown]
# ## From the equation to code
#
# For a batch, $\mathbf{z}$ is (N, C) with one example per row, so $\mathbf{W}_1\mathbf{z}$ becomes `z @ W1.T`
# (that is `torch.nn.functional.linear(z, W1)`).

# %%
import torch
import torch.nn.functional as F

from senet_lib.se import SEBlock, excite, hidden_width

C, r, N = 64, 16, 4
z = torch.randn(N, C)
W1, W2 = torch.randn(C // r, C) * 0.3, torch.randn(C, C // r) * 0.3

hidden = F.relu(z @ W1.T)  # (N, C) -> (N, C/r): delta(W1 z)
s = torch.sigmoid(hidden @ W2.T)  # (N, C/r) -> (N, C): sigma(W2 ...)
torch.testing.assert_close(s, excite(z, W1, W2))
print("by hand == senet_lib.excite ✓ | s:", tuple(s.shape), f"in ({s.min():.3f}, {s.max():.3f})")

# %% [markdown]
# The `SEBlock` module holds $\mathbf{W}_1, \mathbf{W}_2$ as `fc1`, `fc2` and its gate as the submodule `gate`
# (so hooks can record the excitation, notebook 6). Same numbers:

# %%
block = SEBlock(C, reduction=r, bias=False)
torch.testing.assert_close(block.excite(z), torch.sigmoid(F.relu(z @ block.fc1.weight.T) @ block.fc2.weight.T))
print(block)

# %% [markdown]
# ## Why a bottleneck?
#
# A single $C \times C$ layer would cost $C^2$ weights per block. The bottleneck $C \to C/r \to C$ costs
# $2C^2/r$ — with $r=16$, eight times fewer — and puts a non-linearity in between. The paper's reduction-ratio
# ablation (Sec. 6.1, Table 10, SE-ResNet-50 on ImageNet) finds top-1 error 22.29, 22.25, 22.26, 22.28, 22.72 for
# $r = 2, 4, 8, 16, 32$ (ResNet-50 without SE: 23.30 in the same setting): flat until 32, while the cost falls
# as $1/r$ (notebook 4 counts it), so $r = 16$ is its balance of accuracy and cost.
#
# ## Why sigmoid, not softmax?
#
# Softmax makes channels *compete*: the weights sum to one, so emphasising one channel suppresses all the others.
# The paper (Sec. 3.2) wants to emphasise multiple channels at once — "a non-mutually-exclusive relationship" — so
# each channel gets its own sigmoid gate in (0, 1). See what each does to the same logits:

# %%
logits = torch.tensor([[3.0, 3.0, 3.0, -2.0]])
print("sigmoid:", torch.sigmoid(logits).numpy().round(3), "| sum", float(torch.sigmoid(logits).sum()))
print("softmax:", torch.softmax(logits, dim=1).numpy().round(3), "| sum", float(torch.softmax(logits, dim=1).sum()))

# %% [markdown]
# ## Your turn
#
# Write `my_excite(z, w1, w2)` with `w1` of shape (C/r, C) and `w2` of shape (C, C/r), without `senet_lib`. The
# checker recognises a missing ReLU, a missing sigmoid, softmax instead of sigmoid and transposed weights.
# (Worked solution: `notebooks/solutions/02_excitation.py`.)

# %% tags=["exercise"] exercise="excite"
from senet_lib.course.checks import check_excite


def my_excite(z, w1, w2):
    """Eq. 3 for a batch z (N, C): s = sigmoid(W2 relu(W1 z)), shape (N, C)."""
    raise NotImplementedError("W1 z for a batch of rows is z @ w1.T; then the ReLU, then W2 the same way, then σ")


check_excite(my_excite)

# %% [markdown]
# ## What does $r$ cost? And what happens at CIFAR scale?
#
# One block adds $2C^2/r$ weights. At ImageNet widths ($C$ up to 2048) that is a lot; at CIFAR widths
# ($C = 16, 32, 64$) $C/r$ can round down to **1 hidden unit** — a one-dimensional bottleneck through which all
# channel interactions must pass. `hidden_width(C, r, min_hidden)` makes that floor explicit. Choose $r$:

# %%
import ipywidgets as widgets
import plotly.graph_objects as go

from senet_lib.course.display import redraw_on_change

widths = [16, 32, 64, 256, 512, 1024, 2048]


def excitation_cost(r: int, min_hidden: int):
    """Hidden width and weights of one SE block per channel count C, for reduction r; the CIFAR widths in words."""
    hidden = [hidden_width(c, r, min_hidden) for c in widths]
    params = [2 * c * h for c, h in zip(widths, hidden)]
    fig = go.Figure(go.Bar(x=[str(c) for c in widths], y=params, text=[f"C/r → {h}" for h in hidden]))
    fig.update_layout(
        title=f"one SE block, r = {r}, min_hidden = {min_hidden}: weights 2·C·hidden",
        xaxis_title="channels C",
        yaxis_title="weights (log)",
        yaxis_type="log",
        height=320,
    )
    cifar = {c: hidden_width(c, r, min_hidden) for c in (16, 32, 64)}
    return fig, f"hidden units of the CIFAR ResNets' three stages (C = 16, 32, 64): {cifar}"


redraw = redraw_on_change(
    excitation_cost,
    r=widgets.SelectionSlider(options=[2, 4, 8, 16, 32], value=16, description="r"),
    min_hidden=widgets.IntSlider(value=1, min=1, max=8, description="min_hidden"),
)

# %% [markdown]
# With one hidden unit, every channel's gate is a function of the *same* scalar, so the $C$ gate logits of
# different inputs lie on one line; a wider bottleneck lets them differ freely. Measured as the rank of the
# pre-sigmoid gate logits (bias removed) over many random descriptors:

# %%
zs = torch.rand(course.pick(quick=64, laptop=512, full=512), 16)  # descriptors of 16 channels (after a ReLU: >= 0)
for min_hidden in (1, 4):
    blk = SEBlock(16, reduction=16, min_hidden=min_hidden)
    with torch.no_grad():
        gate_logits = blk.fc2(torch.relu(blk.fc1(zs)))  # (B, 16)
    rank = torch.linalg.matrix_rank(gate_logits - blk.fc2.bias).item()
    print(f"C=16, r=16, min_hidden={min_hidden}: hidden={blk.hidden}, rank of the gate logits = {rank}")

# %% [markdown]
# ## Summary
#
# - Excitation: $\mathbf{s} = \sigma(\mathbf{W}_2 \delta(\mathbf{W}_1 \mathbf{z}))$, a bottleneck MLP, one gate per
#   channel in (0, 1).
# - The bottleneck cuts weights from $C^2$ to $2C^2/r$; $r = 16$ is the paper's default (Table 10).
# - Sigmoid, not softmax: several channels may be emphasised at once.
# - At CIFAR widths $C/r$ may be 1 (the rank printed above shows what that means); `min_hidden` sets a floor.
#
# ## Exercises
#
# 1. How many weights does one SE block add for $C = 256$, $r = 16$? Check with `SEBlock(256, 16, bias=False)`.
# 2. Replace the sigmoid by `gate="tanh"` in `SEBlock`: what range can the excitations take now (paper Sec. 6.3,
#    Table 12)?
# 3. For which $r$ does the first stage of SE-ResNet-20 ($C=16$) first get a single hidden unit?

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
# # 3 · Scale, and the SE block
#
# **Learning objectives**
# - write the scale of Eq. 4 and assemble squeeze → excitation → scale into a block's `forward`;
# - show that `senet_lib.SEBlock` equals `torchvision.ops.SqueezeExcitation` and the 1×1-convolution form;
# - write the four placements of paper Fig. 5 as residual-unit forwards, checked against `create_model`.
#
# **The equation (Hu et al., TPAMI 2019, Sec. 3.2, Eq. 4).**
#
# $$ \tilde{\mathbf{x}}_c = \mathbf{F}_{scale}(\mathbf{u}_c, s_c) = s_c \cdot \mathbf{u}_c . $$

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("03", TIER)

# %% [markdown]
# ## Scale, then the whole block
#
# $s_c$ is a scalar per (example, channel); $\mathbf{u}_c$ is an $H \times W$ map. In code, reshape $\mathbf{s}$ from
# (N, C) to (N, C, 1, 1) so it broadcasts over $H$ and $W$.

# %%
import torch

from senet_lib.se import SEBlock, excite, scale, squeeze

u = torch.randn(2, 32, 8, 8)
block = SEBlock(32, reduction=4).eval()
z = squeeze(u)  # (N, C, H, W) -> (N, C)                                              Eq. 2
s = excite(z, block.fc1.weight, block.fc2.weight, block.fc1.bias, block.fc2.bias)  # (N, C)   Eq. 3
x = u * s[:, :, None, None]  # (N, C, H, W) * (N, C, 1, 1)                             Eq. 4
torch.testing.assert_close(x, scale(u, s))
with torch.no_grad():
    torch.testing.assert_close(x, block(u))
print("squeeze -> excite -> scale == SEBlock ✓", tuple(x.shape))

# %% [markdown]
# ## Your turn (1): the scale
#
# Write `my_scale(u, s)`. Watch out: `u * s` runs without error for some shapes and is still wrong.

# %% tags=["exercise"] exercise="scale"
from senet_lib.course.checks import check_scale


def my_scale(u, s):
    """Eq. 4: u (N, C, H, W), s (N, C) -> x (N, C, H, W) with x_c = s_c * u_c."""
    raise NotImplementedError("reshape s so that it lines up with u's first two dimensions, then multiply")


check_scale(my_scale)

# %% [markdown]
# ## Your turn (2): the block's `forward`
#
# Subclass `SEBlock` and write its `forward(u)` from its parts: `self.fc1` ($\mathbf{W}_1$), `self.fc2`
# ($\mathbf{W}_2$) and `self.gate` (σ; use the submodule, not `torch.sigmoid`, so that hooks can see
# $\mathbf{s}$). The checker loads the library block's weights into yours and compares outputs.

# %% tags=["exercise"] exercise="se_block"
from senet_lib.course.checks import check_se_block


class MySEBlock(SEBlock):
    def forward(self, u):
        """Squeeze (Eq. 2), excitation (Eq. 3), scale (Eq. 4): (N, C, H, W) -> (N, C, H, W)."""
        raise NotImplementedError("three lines: z from u, s = self.gate(self.fc2(relu(self.fc1(z)))), u scaled by s")


check_se_block(MySEBlock)

# %% [markdown]
# ## The same block elsewhere
#
# `torchvision.ops.SqueezeExcitation` writes the two FC layers as $1\times1$ convolutions on the pooled
# (N, C, 1, 1) tensor. A $1\times1$ convolution on a $1\times1$ map *is* a fully connected layer, so copying the
# weights gives the same output.

# %%
from torch import nn
from torchvision.ops import SqueezeExcitation

tv = SqueezeExcitation(32, block.hidden).eval()
with torch.no_grad():
    tv.fc1.weight.copy_(block.fc1.weight[:, :, None, None])
    tv.fc1.bias.copy_(block.fc1.bias)
    tv.fc2.weight.copy_(block.fc2.weight[:, :, None, None])
    tv.fc2.bias.copy_(block.fc2.bias)
    torch.testing.assert_close(tv(u), block(u))

    # the 1x1-conv form by hand: pool, conv, ReLU, conv, sigmoid, multiply
    conv1, conv2 = nn.Conv2d(32, block.hidden, 1), nn.Conv2d(block.hidden, 32, 1)
    for mine, theirs in ((conv1, tv.fc1), (conv2, tv.fc2)):
        mine.weight.copy_(theirs.weight)
        mine.bias.copy_(theirs.bias)
    gate = torch.sigmoid(conv2(torch.relu(conv1(u.mean(dim=(2, 3), keepdim=True)))))  # (N, C, 1, 1)
    torch.testing.assert_close(u * gate, block(u))
print("SEBlock == torchvision SqueezeExcitation == 1x1-conv form ✓")

# %% [markdown]
# ## Where does the block go? (paper Fig. 5; Sec. 6.5, Table 14)
#
# - **standard**: on the residual branch, before the sum with the identity;
# - **PRE**: before the residual unit (on the branch's input);
# - **POST**: after the sum with the identity (after the ReLU);
# - **identity**: on the identity connection, in parallel to the unit.
#
# All four come from one builder: `create_model("se_resnet20", placement=...)`. Below: where each SE sits, the
# parameters, and how different the outputs are when the *same* weights are used with each placement.

# %%
from senet_lib.complexity import count_parameters, count_se_parameters
from senet_lib.models import PLACEMENTS, create_model

images = torch.randn(course.pick(quick=4, laptop=32, full=32), 3, 32, 32)
nets, outputs = {}, {}
for placement in PLACEMENTS:
    torch.manual_seed(1)
    nets[placement] = create_model("se_resnet20", placement=placement).eval()
base = nets["standard"].state_dict()
for placement, net in nets.items():
    own = net.state_dict()
    shared = {k: v for k, v in base.items() if own[k].shape == v.shape}  # SE of pre/identity has other widths
    net.load_state_dict(shared, strict=False)
    with torch.no_grad():
        outputs[placement] = net(images)
    print(
        f"{placement:>9}: params {count_parameters(net):,}  SE params {count_se_parameters(net):,}  "
        f"layer2[0] SE width {net.layer2[0].se.channels}  all weights shared with standard: {len(shared) == len(own)}"
    )

# %%
import ipywidgets as widgets
import plotly.graph_objects as go

from senet_lib.course.display import redraw_on_change


def placement_view(placement: str):
    """Logit differences of one placement against the standard one (same weights where shapes allow)."""
    diff = (outputs[placement] - outputs["standard"]).abs()
    fig = go.Figure(go.Heatmap(z=diff.numpy(), colorscale="Magma", colorbar={"title": "|Δ logit|"}))
    fig.update_layout(
        title=f"{placement} vs standard: mean |Δ logit| = {diff.mean():.4f}",
        xaxis_title="class",
        yaxis_title="image",
        height=300,
    )
    return fig, str(nets[placement].layer1[0])


redraw_on_change(placement_view, placement=widgets.Dropdown(options=list(PLACEMENTS), value="post", description="placement"))

# %% [markdown]
# PRE and identity recalibrate the unit's *input*, so in the first unit of a stage they see the narrower width
# (fewer SE parameters, printed above). POST is the only placement after the branches are added.
#
# ImageNet top-1 error of SE-ResNet-50 (Table 14): standard 22.28, SE-PRE 22.23, SE-Identity 22.20, SE-POST 22.78.
# The paper's reading (Sec. 6.5): SE works about equally well wherever it is applied *before branch aggregation*,
# and POST, the one placement after it, loses accuracy. Note what this does **not** show: that POST is worse
# "because it rescales the identity path" — SE-Identity rescales the identity path too, and is the best of the
# four. Why POST hurts is not settled by the table; a hypothesis to test is in the exercises.
#
# ## Your turn (3): the four placements
#
# Write each placement as the `forward` of a residual unit `unit` of SE-ResNet-20 (post-activation: a ReLU follows
# the sum). Available: `unit.residual(x)` (conv-BN-ReLU-conv-BN), `unit.shortcut(x)` (identity, or the zero-padded
# projection where the width changes), `unit.se(t)` and `torch.relu`. The checker compares each function with the
# units of `create_model("se_resnet20", placement=...)`, then swaps it into every unit and compares the network's
# logits.

# %% tags=["exercise"] exercise="placements"
from senet_lib.course.checks import check_placement


def forward_standard(unit, x):
    raise NotImplementedError("SE on the residual branch's output, before the sum; ReLU after the sum")


def forward_pre(unit, x):
    raise NotImplementedError("SE on the residual branch's input only")


def forward_post(unit, x):
    raise NotImplementedError("SE after the sum and its ReLU")


def forward_identity(unit, x):
    raise NotImplementedError("SE on the identity branch: rescale x, then the shortcut")


for placement, fn in [("standard", forward_standard), ("pre", forward_pre), ("post", forward_post), ("identity", forward_identity)]:
    check_placement(fn, placement)

# %% [markdown]
# ## Summary
#
# - Scale (Eq. 4) multiplies each channel map by its gate: `u * s[:, :, None, None]`.
# - An SE block = squeeze → excitation → scale; `SEBlock` equals torchvision's `SqueezeExcitation` and the 1×1-conv
#   form.
# - Table 14: standard, PRE and identity within 0.08 points of each other, POST 0.5 points worse; the placements
#   differ in what they rescale, which your four forwards make explicit.
#
# ## Exercises
#
# 1. Why does `u * s` (without reshaping) silently work for u of shape (2, 3, 2, 3)? What does it compute?
# 2. Count the SE parameters of `se_resnet20` with `placement="pre"` by hand. Why do they differ from standard?
# 3. Set all gates to 1 (`senet_lib.analysis.excitation.override_gates`) and compare with the plain `resnet20`
#    output.
# 4. A hypothesis for POST: after the sum, the gate also scales what the *next* unit's both branches receive. Which
#    of your four forwards change the input of the next unit, and which only one branch of this unit?

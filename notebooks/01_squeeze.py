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
# # 1 · Squeeze: one number per channel
#
# **Learning objectives**
# - explain why a convolution cannot see *global* context on its own (local receptive fields);
# - compute the squeeze of Eq. 2 by hand, with loops, then vectorised, and check it against `senet_lib.squeeze`;
# - compare average and max squeezing (paper Sec. 6.2, Table 11);
# - find out which transformations of the input leave the squeezed descriptor unchanged, and which do not.
#
# **The equation (Hu et al., TPAMI 2019, Sec. 3.1, Eq. 2).** For a feature map
# $\mathbf{U} = [\mathbf{u}_1, \dots, \mathbf{u}_C]$, $\mathbf{u}_c \in \mathbb{R}^{H \times W}$,
#
# $$ z_c = \mathbf{F}_{sq}(\mathbf{u}_c) = \frac{1}{H \times W} \sum_{i=1}^{H} \sum_{j=1}^{W} u_c(i, j). $$

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("01", TIER)

# %% [markdown]
# ## Why squeeze? Local receptive fields
#
# Each output of a $3\times3$ convolution looks at a $3\times3$ patch of its input. After the stem convolution of a
# CIFAR ResNet, a unit sees 3×3 pixels of a 32×32 image: it cannot know what happens in the rest of the picture.
# The paper's answer: *squeeze* every channel into one global statistic $z_c$, so that the next step (excitation)
# can reason about all channels with the whole image in view.
#
# Real feature maps: held-out CIFAR-10 images through the stem of the shipped, trained SE-ResNet-20.

# %%
import torch

from senet_lib.course.data import shipped_model

held = shipped_model("se_resnet20", images=course.pick(quick=64, laptop=500, full=500))
model, classes = held.model, held.classes
image, label = held.val.images[0], int(held.val.targets[0])  # uint8 (3, 32, 32)


def stem(images: torch.Tensor) -> torch.Tensor:
    """The trained stem: conv 3x3 -> BN -> ReLU, (N, 3, 32, 32) uint8 -> (N, 16, 32, 32)."""
    with torch.no_grad():
        return torch.relu(model.bn1(model.conv1(held.normalize(images))))


u = stem(image[None])  # (1, 16, 32, 32)
print("class:", classes[label], "| feature map U:", tuple(u.shape))

# %%
import plotly.graph_objects as go
from plotly.subplots import make_subplots

fig = make_subplots(rows=1, cols=5, subplot_titles=["image"] + [f"channel {c}" for c in range(4)])
fig.add_trace(go.Image(z=image.permute(1, 2, 0).numpy()), row=1, col=1)
for c in range(4):
    fig.add_trace(go.Heatmap(z=u[0, c].numpy(), coloraxis="coloraxis"), row=1, col=c + 2)
fig.update_layout(height=260, coloraxis={"colorscale": "Viridis"}, margin={"t": 40, "b": 10})
fig.update_yaxes(autorange="reversed")
fig.show()

# %% [markdown]
# ## Eq. 2 by hand
#
# Two loops over $i$ and $j$ add up every value of channel $c$, then divide by $H \times W$. Slow, but exactly the
# equation.

# %%
N, C, H, W = u.shape
z_loop = torch.zeros(N, C)
for n in range(N):
    for c in range(C):
        total = 0.0
        for i in range(H):
            for j in range(W):
                total += float(u[n, c, i, j])
        z_loop[n, c] = total / (H * W)
print(z_loop[0, :6])

# %% [markdown]
# Vectorised, the same thing is one `mean` over the two spatial dimensions; the library's `squeeze` is that line.

# %%
from senet_lib.se import squeeze

z_vec = u.mean(dim=(2, 3))  # (N, C, H, W) -> (N, C)
z_lib = squeeze(u)
torch.testing.assert_close(z_loop, z_vec, rtol=1e-5, atol=1e-5)
torch.testing.assert_close(z_vec, z_lib)
print("loops == vectorised == senet_lib.squeeze ✓, z has shape", tuple(z_lib.shape))

# %% [markdown]
# ## Your turn
#
# Write `my_squeeze(u)` for a batch `u` of shape (N, C, H, W) returning (N, C), without `senet_lib`. The checker
# tries non-square maps and batch 1, and tells you in plain words what is wrong. (The worked solution is in
# `notebooks/solutions/01_squeeze.py`; try first.)

# %% tags=["exercise"] exercise="squeeze"
from senet_lib.course.checks import check_squeeze


def my_squeeze(u):
    """Eq. 2 for a batch: (N, C, H, W) -> (N, C)."""
    raise NotImplementedError("one number per (image, channel): the mean over H and W, the last two dimensions")


check_squeeze(my_squeeze)

# %% [markdown]
# ## Average or max? (Sec. 6.2, Table 11)
#
# Eq. 2 uses the average. The paper's squeeze ablation (TPAMI Sec. 6.2, Table 11, SE-ResNet-50 on ImageNet) also
# tries global max pooling: top-1 error **22.28 with average, 22.57 with max** — both work, average a little
# better. The widget shows, for a chosen channel, its map and the squeeze of all channels, the chosen one
# highlighted.

# %%
import ipywidgets as widgets

from senet_lib.course.display import redraw_on_change

z_avg, z_max = squeeze(u, "avg"), squeeze(u, "max")


def squeeze_figure(channel: int, mode: str) -> go.Figure:
    """Channel map plus the squeeze of all channels, the chosen one highlighted."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"u_{channel}", f"z ({mode} squeeze)"])
    fig.add_trace(go.Heatmap(z=u[0, channel].numpy(), colorscale="Viridis", showscale=False), row=1, col=1)
    z = (z_avg if mode == "avg" else z_max)[0]
    colors = ["crimson" if c == channel else "steelblue" for c in range(C)]
    fig.add_trace(go.Bar(x=list(range(C)), y=z.numpy(), marker_color=colors), row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(height=300, showlegend=False, margin={"t": 40, "b": 10})
    return fig


redraw_on_change(
    squeeze_figure,
    channel=widgets.IntSlider(value=0, min=0, max=C - 1, description="channel"),
    mode=widgets.Dropdown(options=["avg", "max"], value="avg", description="squeeze"),
)

# %% [markdown]
# How similar are the two descriptors across channels on real images? Computed, not assumed:

# %%
maps = stem(held.val.images)  # (B, 16, 32, 32)
za, zm = squeeze(maps, "avg").flatten(), squeeze(maps, "max").flatten()
corr = torch.corrcoef(torch.stack([za, zm]))[0, 1]
print(f"{len(maps)} images: correlation of avg and max squeeze over all (image, channel) pairs = {corr:.2f}")

# %% [markdown]
# ## What does a flip do to $\mathbf{z}$?
#
# The squeeze is a mean over positions, so *rearranging the positions of $\mathbf{U}$* — flipping the feature map
# itself — cannot change $\mathbf{z}$. Flipping the **image** before the convolution is another matter: the stem's
# $3\times3$ kernels then see mirrored patches. Compare:

# %%
flipped_u = u.flip(-1)  # flip U itself: the same values at other positions
z_image_flipped = squeeze(stem(image[None].flip(-1)))  # flip the image, then convolve
kernels = model.conv1.weight.detach()  # (16, 3, 3, 3)
asymmetry = float((kernels - kernels.flip(-1)).norm() / kernels.norm())
print(f"flip U itself:   largest |Δz| = {float((squeeze(flipped_u) - z_lib).abs().max()):.2e}")
print(f"flip the image:  largest |Δz| = {float((z_image_flipped - z_lib).abs().max()):.2e}")
print(f"mirror asymmetry of the trained stem kernels, |W - flip(W)| / |W| = {asymmetry:.2f}")

# the flipped image through the kernels equals the original image through mirrored kernels, flipped back
with torch.no_grad():
    mirrored = torch.nn.functional.conv2d(held.normalize(image[None]), kernels.flip(-1), padding=1)
    z_mirrored = squeeze(torch.relu(model.bn1(mirrored)))
torch.testing.assert_close(z_mirrored, z_image_flipped, rtol=1e-4, atol=1e-5)
print("z(flipped image) == z(image through horizontally mirrored kernels) ✓")

# %% [markdown]
# ## Summary
#
# - A convolution sees only a local window; the squeeze gives each channel one *global* descriptor.
# - Eq. 2 is a global average pool, `u.mean(dim=(2, 3))`: (N, C, H, W) → (N, C); `senet_lib.squeeze` implements it.
# - Max pooling works too; the paper's choice is the average (Table 11: 22.28 vs 22.57 top-1 error).
# - $\mathbf{z}$ ignores *where* in $\mathbf{U}$ a value sits, but not how $\mathbf{U}$ was computed: a flipped
#   image gives the descriptor of mirrored kernels (read the two numbers printed above).
#
# ## Exercises
#
# 1. Write the squeeze with `torch.nn.functional.adaptive_avg_pool2d` and pass it to `check_squeeze` — what extra
#    step is needed?
# 2. What is the receptive field of one unit after the stem plus the first residual unit of ResNet-20 (three 3×3
#    convolutions)?
# 3. Which kernels would make $\mathbf{z}$ of a flipped image equal to $\mathbf{z}$ of the image? Check your answer
#    with the mirror asymmetry printed above.

"""Generate notebooks 01-04 of the SENet Lab course (outputs cleared). Run: python notebooks/_build/make_01_04.py"""

from nbtools import SETUP, code, md, solution, write

# ------------------------------------------------------------------------------------------------------ 01
NB01 = [
    md(r"""
# 1 · Squeeze: one number per channel

**Learning objectives**
- explain why a convolution cannot see *global* context on its own (local receptive fields);
- compute the squeeze of Eq. 2 by hand, with loops, then vectorised, and check it against `senet_lib.squeeze`;
- compare average and max squeezing (paper Table 11).

**The equation (Hu et al., Eq. 2).** For a feature map $\mathbf{U} = [\mathbf{u}_1, \dots, \mathbf{u}_C]$, $\mathbf{u}_c \in \mathbb{R}^{H \times W}$,

$$ z_c = \mathbf{F}_{sq}(\mathbf{u}_c) = \frac{1}{H \times W} \sum_{i=1}^{H} \sum_{j=1}^{W} u_c(i, j). $$
"""),
    code(SETUP),
    md(r"""
## Why squeeze? Local receptive fields

Each output of a $3\times3$ convolution looks at a $3\times3$ patch of its input. After the stem convolution of a
CIFAR ResNet, a unit sees 3×3 pixels of a 32×32 image: it cannot know what happens in the rest of the picture.
The paper's answer: *squeeze* every channel into one global statistic $z_c$, so that the next step (excitation)
can reason about all channels with the whole image in view.

Let us look at real feature maps: a CIFAR-10 image through the stem convolution of `se_resnet20`.
"""),
    code(r"""
from senet_lib.data import load_splits
from senet_lib.models import create_model

from senet_lib.paths import find_named_dataset

if find_named_dataset("cifar10-jpeg"):  # the CIFAR-10 JPEG copy (senet_lib.paths says where it is looked for)
    splits = load_splits("cifar10-jpeg", val_size=500 if QUICK else 5000, progress=False)
else:
    print("notice: the CIFAR-10 JPEG archive was not found; using the synthetic dataset instead of CIFAR-10")
    splits = load_splits("synthetic", progress=False)

image, label = splits.val.images[0], int(splits.val.targets[0])  # uint8 (3, 32, 32)
x = (image.float() / 255 - torch.tensor(splits.mean)[:, None, None]) / torch.tensor(splits.std)[:, None, None]
model = create_model("se_resnet20").eval()
with torch.no_grad():
    u = torch.relu(model.bn1(model.conv1(x[None])))  # (1, 3, 32, 32) -> (1, 16, 32, 32)
print("class:", splits.classes[label], "| feature map U:", tuple(u.shape))
"""),
    code(r"""
import plotly.express as px
from plotly.subplots import make_subplots
import plotly.graph_objects as go

fig = make_subplots(rows=1, cols=5, subplot_titles=["image"] + [f"channel {c}" for c in range(4)])
fig.add_trace(go.Image(z=image.permute(1, 2, 0).numpy()), row=1, col=1)
for c in range(4):
    fig.add_trace(go.Heatmap(z=u[0, c].numpy(), coloraxis="coloraxis"), row=1, col=c + 2)
fig.update_layout(height=260, coloraxis={"colorscale": "Viridis"}, margin={"t": 40, "b": 10})
fig.update_yaxes(autorange="reversed")
fig.show()
"""),
    md(r"""
## Eq. 2 by hand

Two loops over $i$ and $j$ add up every value of channel $c$, then divide by $H \times W$. Slow, but exactly the equation.
"""),
    code(r"""
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
"""),
    md(
        "Vectorised, the same thing is one `mean` over the two spatial dimensions; the library's `squeeze` is that line."
    ),
    code(r"""
from senet_lib.se import squeeze

z_vec = u.mean(dim=(2, 3))  # (N, C, H, W) -> (N, C)
z_lib = squeeze(u)
torch.testing.assert_close(z_loop, z_vec, rtol=1e-5, atol=1e-5)
torch.testing.assert_close(z_vec, z_lib)
print("loops == vectorised == senet_lib.squeeze ✓, z has shape", tuple(z_lib.shape))
"""),
    md(r"""
## Your turn

Write `my_squeeze(u)` for a batch `u` of shape (N, C, H, W) returning (N, C). The checker tries non-square maps and
batch 1, and tells you what is wrong in plain words.
"""),
    code(r"""
from senet_lib.course.checks import check_squeeze


def my_squeeze(u):
    # YOUR CODE HERE: Eq. 2, average over H and W
    return u.mean(dim=(2, 3))  # replace with your own line if you like


check_squeeze(my_squeeze)
"""),
    md("Worked solution (expand the hidden cell):"),
    solution(r"""
def my_squeeze_solution(u):
    n, c, h, w = u.shape
    return u.reshape(n, c, h * w).sum(dim=2) / (h * w)  # (N, C, H*W) -> (N, C)


check_squeeze(my_squeeze_solution)
"""),
    md(r"""
## Average or max?

Eq. 2 uses the average; the paper's Table 11 also tries global max pooling on ImageNet (SE-ResNet-50):
**avg 22.28 vs max 22.57 top-1 error** — both work, average a little better. The widget below shows, for a chosen
channel, the map and where its average and its maximum come from. (It runs headless too: the update function is
called once below.)
"""),
    code(r'''
import ipywidgets as widgets
from IPython.display import display

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


channel_w = widgets.IntSlider(value=0, min=0, max=C - 1, description="channel")
mode_w = widgets.Dropdown(options=["avg", "max"], value="avg", description="squeeze")
out = widgets.Output()


def update(_=None):
    with out:
        out.clear_output(wait=True)
        squeeze_figure(channel_w.value, mode_w.value).show()


channel_w.observe(update, names="value")
mode_w.observe(update, names="value")
update()
display(widgets.VBox([widgets.HBox([channel_w, mode_w]), out]))
'''),
    md(
        "A small experiment: how similar are the two descriptors across channels on a handful of real images?"
    ),
    code(r"""
batch = splits.val.images[: 8 if QUICK else 64].float() / 255
batch = (batch - torch.tensor(splits.mean)[:, None, None]) / torch.tensor(splits.std)[:, None, None]
with torch.no_grad():
    maps = torch.relu(model.bn1(model.conv1(batch)))  # (B, 16, 32, 32)
za, zm = squeeze(maps, "avg").flatten(), squeeze(maps, "max").flatten()
corr = torch.corrcoef(torch.stack([za, zm]))[0, 1]
print(f"{len(batch)} images: correlation between avg and max squeeze over all (image, channel) pairs = {corr:.2f}")
"""),
    md(r"""
## Summary

- A convolution sees only a local window; the squeeze gives each channel one *global* descriptor.
- Eq. 2 is a global average pool, `u.mean(dim=(2, 3))`: (N, C, H, W) → (N, C); `senet_lib.squeeze` implements it.
- Max pooling works too (Table 11: 22.57 vs 22.28 top-1 error), average is the paper's choice.

## Exercises

1. Write the squeeze with `torch.nn.functional.adaptive_avg_pool2d` and pass it to `check_squeeze` — what extra step is needed?
2. What is the receptive field of one unit after the stem plus the first residual unit of ResNet-20 (three 3×3 convolutions)?
3. Squeeze the feature maps of a horizontally flipped image. Why are the $z_c$ unchanged?
"""),
]

# ------------------------------------------------------------------------------------------------------ 02
NB02 = [
    md(r"""
# 2 · Excitation: a gate per channel

**Learning objectives**
- write the excitation of Eq. 3 and check it against `senet_lib.excite`;
- explain the bottleneck (reduction ratio $r$) and what it costs in parameters;
- explain why the gate is a sigmoid and not a softmax;
- see what happens at CIFAR scale when $C/r$ rounds to 1 (`hidden_width`, `min_hidden`).

**The equation (Hu et al., Eq. 3).**

$$ \mathbf{s} = \mathbf{F}_{ex}(\mathbf{z}, \mathbf{W}) = \sigma\big(\mathbf{W}_2\, \delta(\mathbf{W}_1 \mathbf{z})\big),
\qquad \mathbf{W}_1 \in \mathbb{R}^{\frac{C}{r} \times C},\ \mathbf{W}_2 \in \mathbb{R}^{C \times \frac{C}{r}}, $$

with $\delta$ the ReLU and $\sigma$ the sigmoid.
"""),
    code(SETUP),
    md(r"""
## From the equation to code

For a batch, $\mathbf{z}$ is (N, C) with one example per row, so $\mathbf{W}_1\mathbf{z}$ becomes `z @ W1.T`
(that is `torch.nn.functional.linear(z, W1)`).
"""),
    code(r"""
import torch.nn.functional as F
from senet_lib.se import SEBlock, excite, hidden_width

C, r, N = 64, 16, 4
z = torch.randn(N, C)
W1, W2 = torch.randn(C // r, C) * 0.3, torch.randn(C, C // r) * 0.3

hidden = F.relu(z @ W1.T)  # (N, C) -> (N, C/r): delta(W1 z)
s = torch.sigmoid(hidden @ W2.T)  # (N, C/r) -> (N, C): sigma(W2 ...)
torch.testing.assert_close(s, excite(z, W1, W2))
print("by hand == senet_lib.excite ✓ | s:", tuple(s.shape), f"in ({s.min():.3f}, {s.max():.3f})")
"""),
    md(r"""
The `SEBlock` module holds $\mathbf{W}_1, \mathbf{W}_2$ as `fc1`, `fc2` and its gate as the submodule `gate`
(so hooks can record the excitation). Same numbers:
"""),
    code(r"""
block = SEBlock(C, reduction=r, bias=False)
torch.testing.assert_close(block.excite(z), torch.sigmoid(F.relu(z @ block.fc1.weight.T) @ block.fc2.weight.T))
print(block)
"""),
    md(r"""
## Why a bottleneck?

A single $C \times C$ layer would cost $C^2$ weights per block. The bottleneck $C \to C/r \to C$ costs
$2C^2/r$ — with $r=16$, eight times fewer — and adds a non-linearity in between, so the gate can model
non-linear interactions between channels. The paper (Table 10) finds $r=16$ a good balance of accuracy and cost.

## Why sigmoid, not softmax?

Softmax makes channels *compete*: the weights sum to one, so emphasising one channel suppresses all the others.
The paper wants "multiple channels to be emphasised" at once (a non-mutually-exclusive relationship), so each
channel gets its own sigmoid gate in (0, 1).
"""),
    code(r"""
logits = torch.tensor([[3.0, 3.0, 3.0, -2.0]])
print("sigmoid:", torch.sigmoid(logits).numpy().round(3), "-> three channels can all be ~1")
print("softmax:", torch.softmax(logits, dim=1).numpy().round(3), "-> they must share a total of 1")
"""),
    md(r"""
## Your turn

Write `my_excite(z, w1, w2)` with `w1` of shape (C/r, C) and `w2` of shape (C, C/r). The checker recognises a missing
ReLU, a missing sigmoid, softmax instead of sigmoid and transposed weights.
"""),
    code(r"""
from senet_lib.course.checks import check_excite


def my_excite(z, w1, w2):
    # YOUR CODE HERE: s = sigmoid(W2 relu(W1 z)) for a batch z of shape (N, C)
    return torch.sigmoid(torch.relu(z @ w1.T) @ w2.T)


check_excite(my_excite)
"""),
    md("Worked solution (expand the hidden cell):"),
    solution(r"""
def my_excite_solution(z, w1, w2):
    hidden = torch.relu(F.linear(z, w1))  # (N, C) -> (N, C/r)
    return torch.sigmoid(F.linear(hidden, w2))  # (N, C/r) -> (N, C)


check_excite(my_excite_solution)
"""),
    md(r"""
## What does $r$ cost? And what happens at CIFAR scale?

One block adds $2C^2/r$ weights. At ImageNet widths ($C$ up to 2048) that is a lot; at CIFAR widths
($C = 16, 32, 64$) $C/r$ can round down to **1 hidden unit** — a one-dimensional bottleneck through which all
channel interactions must pass. `hidden_width(C, r, min_hidden)` makes that floor explicit.
Use the slider to choose $r$.
"""),
    code(r'''
import ipywidgets as widgets
import plotly.graph_objects as go
from IPython.display import display

widths = [16, 32, 64, 256, 512, 1024, 2048]


def excitation_cost_figure(r: int, min_hidden: int) -> go.Figure:
    """Hidden width and weights of one SE block per channel count C, for reduction r."""
    hidden = [hidden_width(c, r, min_hidden) for c in widths]
    params = [2 * c * h for c, h in zip(widths, hidden)]
    fig = go.Figure(go.Bar(x=[str(c) for c in widths], y=params, text=[f"C/r → {h}" for h in hidden]))
    fig.update_layout(title=f"one SE block, r = {r}, min_hidden = {min_hidden}: weights 2·C·hidden",
                      xaxis_title="channels C", yaxis_title="weights (log)", yaxis_type="log", height=320)
    return fig


r_w = widgets.SelectionSlider(options=[2, 4, 8, 16, 32], value=16, description="r")
min_w = widgets.IntSlider(value=1, min=1, max=8, description="min_hidden")
out = widgets.Output()


def update(_=None):
    with out:
        out.clear_output(wait=True)
        excitation_cost_figure(r_w.value, min_w.value).show()
        print("CIFAR widths:", {c: hidden_width(c, r_w.value, min_w.value) for c in (16, 32, 64)})


r_w.observe(update, names="value")
min_w.observe(update, names="value")
update()
display(widgets.VBox([widgets.HBox([r_w, min_w]), out]))
'''),
    md(r"""
A small experiment: with one hidden unit, every channel's gate is a function of the *same* scalar, so the $C$ gates
move together — the excitation vectors of different inputs span at most a one-dimensional family. With a wider
bottleneck they can differ freely. We measure the rank of the pre-sigmoid gate logits over many random inputs.
"""),
    code(r"""
zs = torch.rand(64 if QUICK else 512, 16)  # squeezed descriptors of 16 channels (after ReLU: non-negative)
for mh in (1, 4):
    blk = SEBlock(16, reduction=16, min_hidden=mh)
    with torch.no_grad():
        logits = blk.fc2(torch.relu(blk.fc1(zs)))  # (B, 16)
    rank = torch.linalg.matrix_rank(logits - blk.fc2.bias).item()
    print(f"C=16, r=16, min_hidden={mh}: hidden={blk.hidden}, rank of the gate logits = {rank}")
"""),
    md(r"""
## Summary

- Excitation: $\mathbf{s} = \sigma(\mathbf{W}_2 \delta(\mathbf{W}_1 \mathbf{z}))$, a bottleneck MLP, one gate per channel in (0, 1).
- The bottleneck cuts weights from $C^2$ to $2C^2/r$; $r = 16$ is the paper's default.
- Sigmoid, not softmax: several channels may matter at once.
- At CIFAR widths $C/r$ may be 1; `min_hidden` sets a floor.

## Exercises

1. How many weights does one SE block add for $C = 256$, $r = 16$? Check with `SEBlock(256, 16, bias=False)`.
2. Replace the sigmoid by `gate="tanh"` in `SEBlock`: what range can the excitations take now (paper Table 12)?
3. For which $r$ does the first stage of SE-ResNet-20 ($C=16$) first get a single hidden unit?
"""),
]

# ------------------------------------------------------------------------------------------------------ 03
NB03 = [
    md(r"""
# 3 · Scale, and the SE block

**Learning objectives**
- write the scale of Eq. 4 and assemble squeeze → excitation → scale into a block;
- show that `senet_lib.SEBlock` equals `torchvision.ops.SqueezeExcitation` and the 1×1-convolution form;
- build the four placements of paper Fig. 5 with `create_model(..., placement=...)` and compare them.

**The equation (Hu et al., Eq. 4).**

$$ \tilde{\mathbf{x}}_c = \mathbf{F}_{scale}(\mathbf{u}_c, s_c) = s_c \cdot \mathbf{u}_c . $$
"""),
    code(SETUP),
    md(r"""
## Scale, then the whole block

$s_c$ is a scalar per (example, channel); $\mathbf{u}_c$ is an $H \times W$ map. In code, reshape $\mathbf{s}$ from
(N, C) to (N, C, 1, 1) so it broadcasts over $H$ and $W$.
"""),
    code(r"""
from senet_lib.se import SEBlock, excite, scale, squeeze

u = torch.randn(2, 32, 8, 8)
block = SEBlock(32, reduction=4).eval()
z = squeeze(u)  # (N, C, H, W) -> (N, C)             Eq. 2
s = excite(z, block.fc1.weight, block.fc2.weight, block.fc1.bias, block.fc2.bias)  # (N, C)   Eq. 3
x = u * s[:, :, None, None]  # (N, C, H, W) * (N, C, 1, 1)                    Eq. 4
torch.testing.assert_close(x, scale(u, s))
with torch.no_grad():
    torch.testing.assert_close(x, block(u))
print("squeeze -> excite -> scale == SEBlock ✓", tuple(x.shape))
"""),
    md(
        "## Your turn\n\nWrite `my_scale(u, s)`. Watch out: `u * s` runs without error for some shapes and is still wrong."
    ),
    code(r"""
from senet_lib.course.checks import check_scale


def my_scale(u, s):
    # YOUR CODE HERE: x_c = s_c * u_c
    return u * s[:, :, None, None]


check_scale(my_scale)
"""),
    md("Worked solution (expand the hidden cell):"),
    solution(r"""
def my_scale_solution(u, s):
    n, c = s.shape
    return u * s.view(n, c, 1, 1)  # (N, C, H, W) * (N, C, 1, 1)


check_scale(my_scale_solution)
"""),
    md(r"""
## The same block elsewhere

`torchvision.ops.SqueezeExcitation` writes the two FC layers as $1\times1$ convolutions on the pooled
(N, C, 1, 1) tensor. A $1\times1$ convolution on a $1\times1$ map *is* a fully connected layer, so copying the weights
gives the same output.
"""),
    code(r"""
from torch import nn
from torchvision.ops import SqueezeExcitation

tv = SqueezeExcitation(32, block.hidden).eval()
with torch.no_grad():
    tv.fc1.weight.copy_(block.fc1.weight[:, :, None, None]); tv.fc1.bias.copy_(block.fc1.bias)
    tv.fc2.weight.copy_(block.fc2.weight[:, :, None, None]); tv.fc2.bias.copy_(block.fc2.bias)
    torch.testing.assert_close(tv(u), block(u))

    # the 1x1-conv form by hand: pool, conv, ReLU, conv, sigmoid, multiply
    conv1 = nn.Conv2d(32, block.hidden, 1); conv2 = nn.Conv2d(block.hidden, 32, 1)
    conv1.weight.copy_(tv.fc1.weight); conv1.bias.copy_(tv.fc1.bias)
    conv2.weight.copy_(tv.fc2.weight); conv2.bias.copy_(tv.fc2.bias)
    gate = torch.sigmoid(conv2(torch.relu(conv1(u.mean(dim=(2, 3), keepdim=True)))))  # (N, C, 1, 1)
    torch.testing.assert_close(u * gate, block(u))
print("SEBlock == torchvision SqueezeExcitation == 1x1-conv form ✓")
"""),
    md(r"""
## Where does the block go? (paper Fig. 5, Table 14)

- **standard**: on the residual branch, before the sum with the identity;
- **PRE**: before the residual unit (on the branch input);
- **POST**: after the sum (after the ReLU);
- **identity**: on the identity connection, in parallel to the unit.

All four come from the same builder: `create_model("se_resnet20", placement=...)`. On ImageNet the paper finds
standard, PRE and identity similar and POST worse (Table 14). Below: where the SE sits, the parameter count, and how
different the outputs of a network are when the *same* weights are used with each placement.
"""),
    code(r"""
from senet_lib.complexity import count_parameters, count_se_parameters
from senet_lib.models import PLACEMENTS, create_model

torch.manual_seed(0)
images = torch.randn(4 if QUICK else 32, 3, 32, 32)
nets, outputs = {}, {}
for placement in PLACEMENTS:
    torch.manual_seed(1)  # same initial weights for every placement (shapes allow it at r = 16 here)
    nets[placement] = create_model("se_resnet20", placement=placement).eval()
base = nets["standard"].state_dict()
for placement, net in nets.items():
    own = net.state_dict()
    shared = {k: v for k, v in base.items() if own[k].shape == v.shape}  # SE of pre/identity has other widths
    net.load_state_dict(shared, strict=False)
    same_shapes = len(shared) == len(own)
    with torch.no_grad():
        outputs[placement] = net(images)
    unit = net.layer2[0]
    print(f"{placement:>9}: params {count_parameters(net):,}  SE params {count_se_parameters(net):,}  "
          f"layer2[0] SE width {unit.se.channels}  all weights shared with standard: {same_shapes}")
"""),
    code(r'''
import ipywidgets as widgets
import plotly.graph_objects as go
from IPython.display import display


def placement_figure(placement: str) -> go.Figure:
    """Logit differences of one placement against the standard one (same weights where shapes allow)."""
    diff = (outputs[placement] - outputs["standard"]).abs()
    fig = go.Figure(go.Heatmap(z=diff.numpy(), colorscale="Magma", colorbar={"title": "|Δ logit|"}))
    fig.update_layout(title=f"{placement} vs standard: mean |Δ logit| = {diff.mean():.4f}",
                      xaxis_title="class", yaxis_title="image", height=300)
    return fig


placement_w = widgets.Dropdown(options=list(PLACEMENTS), value="post", description="placement")
out = widgets.Output()


def update(_=None):
    with out:
        out.clear_output(wait=True)
        placement_figure(placement_w.value).show()
        print(nets[placement_w.value].layer1[0])


placement_w.observe(update, names="value")
update()
display(widgets.VBox([placement_w, out]))
'''),
    md(r"""
PRE and identity recalibrate the unit's *input*, so in the first unit of a stage they see the narrower width
(fewer SE parameters); there the SE weights cannot be shared with the standard network, only the convolutions are.
POST is the only one that rescales the sum, i.e. the identity path too. ImageNet top-1 error (Table 14,
SE-ResNet-50): standard 22.28, SE-PRE 22.23, SE-Identity 22.20, SE-POST 22.78.

## Summary

- Scale (Eq. 4) multiplies each channel map by its gate: `u * s[:, :, None, None]`.
- An SE block = squeeze → excitation → scale; `SEBlock` equals torchvision's `SqueezeExcitation` and the 1×1-conv form.
- Placement matters little except POST (Table 14); `create_model(..., placement=...)` builds all four.

## Exercises

1. Why does `u * s` (without reshaping) silently work for u of shape (2, 3, 2, 3)? What does it compute?
2. Count the SE parameters of `se_resnet20` with `placement="pre"` by hand. Why do they differ from standard?
3. Set all gates to 1 (`senet_lib.analysis.excitation.override_gates`) and compare with the plain `resnet20` output.
"""),
]

# ------------------------------------------------------------------------------------------------------ 04
NB04 = [
    md(r"""
# 4 · SE-ResNet and what it costs

**Learning objectives**
- build SE-ResNets (CIFAR and ImageNet style) from `senet_lib.models`;
- count their parameters and FLOPs and compare with the plain twins (paper Table 2);
- reproduce the paper's extra-parameter formula and see where the extra parameters sit.

**The formula (Hu et al., Sec. 4).** With $S$ stages, $N_s$ SE blocks of $C_s$ channels in stage $s$, and reduction ratio $r$,
SE blocks add

$$ \frac{2}{r} \sum_{s=1}^{S} N_s \, C_s^2 $$

parameters (FC weights; biases ignored) — about 2.5 million for SE-ResNet-50.
"""),
    code(SETUP),
    md("## Building SE-ResNets"),
    code(r"""
from senet_lib.complexity import (count_parameters, format_cost_report, overhead_report, paper_extra_parameters,
                                  se_stages)
from senet_lib.models import create_model, list_models

print("models:", ", ".join(m for m in list_models() if m.startswith("se_")))
cifar = create_model("se_resnet20")
imagenet = create_model("se_resnet50")
print(cifar.layer1[0])
print("SE-ResNet-20 (N_s, C_s):", se_stages(cifar))
print("SE-ResNet-50 (N_s, C_s):", se_stages(imagenet))
"""),
    md(r"""
## Parameters and FLOPs against the plain network

`overhead_report` builds both twins and counts everything (FLOPs with `torch.utils.flop_counter`). The paper's
Table 2 reports ResNet-50 at 25.6M parameters / 3.86 GFLOPs and SE-ResNet-50 at 28.1M / 3.87 GFLOPs.
"""),
    code(r"""
print(format_cost_report(overhead_report("se_resnet20")))
print()
report50 = overhead_report("se_resnet50")  # ImageNet size 224x224: a few seconds on CPU
print(format_cost_report(report50))
"""),
    md(r"""
## The paper's formula, by hand

A block of width $C$ adds $2C^2/r$ weights; stage $s$ has $N_s$ such blocks. Sum over stages.
"""),
    code(r"""
def extra_by_hand(stages, r=16):
    return sum(2 * n * c * c / r for n, c in stages)


stages50 = se_stages(imagenet)
by_hand = extra_by_hand(stages50)
assert by_hand == paper_extra_parameters(imagenet)
print(f"(2/r) Σ N_s C_s² = {by_hand:,.0f} ≈ {by_hand / 1e6:.2f}M (paper: ≈2.5M)")
print(f"actual extra parameters (with biases): {report50.extra_params:,}")
"""),
    md(
        "## Your turn\n\nWrite `my_se_parameters(C, r)`: the extra parameters of **one** SE block, without biases."
    ),
    code(r"""
from senet_lib.course.checks import check_se_parameters


def my_se_parameters(C, r):
    # YOUR CODE HERE
    return 2 * C * C / r


check_se_parameters(my_se_parameters)
"""),
    md("Worked solution (expand the hidden cell):"),
    solution(r"""
def my_se_parameters_solution(C, r):
    w1 = (C / r) * C  # W1: C -> C/r
    w2 = C * (C / r)  # W2: C/r -> C
    return w1 + w2


check_se_parameters(my_se_parameters_solution)
"""),
    md(r"""
## Parameters against $r$

The cost falls as $1/r$. Counting the real models (biases included) against the formula:
"""),
    code(r"""
import plotly.graph_objects as go

rs = [4, 16, 64] if QUICK else [2, 4, 8, 16, 32, 64]
plain50 = report50.plain.params
measured = [count_parameters(create_model("se_resnet50", reduction=r)) - plain50 for r in rs]
formula = [paper_extra_parameters(stages50, r) for r in rs]
fig = go.Figure([go.Scatter(x=rs, y=measured, mode="lines+markers", name="measured (SE-ResNet-50 − ResNet-50)"),
                 go.Scatter(x=rs, y=formula, mode="lines+markers", name="(2/r) Σ N_s C_s²", line={"dash": "dash"})])
fig.update_layout(xaxis_type="log", yaxis_type="log", xaxis_title="reduction ratio r",
                  yaxis_title="extra parameters", title="SE-ResNet-50: extra parameters vs r", height=350)
fig.show()
"""),
    md(r"""
## Where do the extra parameters sit?

$C_s^2$ grows fast with width: the last stage ($C = 2048$) holds most of the extra parameters. The paper notes that
removing SE from the last stage costs little accuracy (0.1% top-1) but removes most of the extra parameters.
"""),
    code(r"""
shares = [2 * n * c * c / 16 for n, c in stages50]
fig = go.Figure(go.Bar(x=[f"stage {i + 2} (N={n}, C={c})" for i, (n, c) in enumerate(stages50)], y=shares,
                       text=[f"{100 * v / sum(shares):.0f}%" for v in shares]))
fig.update_layout(yaxis_title="extra parameters (r = 16)", title="SE-ResNet-50: extra parameters per stage", height=320)
fig.show()
no_last = create_model("se_resnet50", se_stages=(1, 2, 3))
print(f"SE in all stages: +{report50.extra_params:,}; without the last stage: "
      f"+{count_parameters(no_last) - plain50:,}")
"""),
    md(r"""
## Summary

- `create_model("se_resnet50")` / `("se_resnet20")` build SE-ResNets; `overhead_report` compares them with the plain twins.
- SE adds about 10% parameters to ResNet-50 but well under 1% FLOPs.
- The extra parameters follow $(2/r)\sum_s N_s C_s^2$ (≈2.5M at $r = 16$) and sit mostly in the last stage.

## Exercises

1. Compute $(2/r)\sum N_s C_s^2$ for SE-ResNet-20 by hand; why do the model's actual SE parameters exceed it?
2. Why do the FLOPs barely change? Count the multiply-adds of one SE block on a $7\times7\times2048$ map.
3. Which $r$ makes SE-ResNet-50's extra parameters about 1% of ResNet-50's?
"""),
]

if __name__ == "__main__":
    write("01_squeeze.ipynb", NB01)
    write("02_excitation.ipynb", NB02)
    write("03_scale_and_the_se_block.ipynb", NB03)
    write("04_se_resnet_and_its_cost.ipynb", NB04)

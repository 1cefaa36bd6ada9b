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
# # 8 · Attribution with Captum, and gate interventions
#
# **Learning objectives**
# - explain a prediction of SE-ResNet-20 with Integrated Gradients, Saliency and Grad-CAM (via Captum);
# - attribute the prediction to the SE gates themselves: which channels' excitations matter for this class;
# - intervene: switch off the most excited channels of a stage-3 SE block and watch the prediction move;
# - compare "how excited is a channel" with "how much does the prediction depend on it" — and measure it.
#
# **Background.** Integrated Gradients (Sundararajan et al. 2017) integrates the gradient from a baseline image to
# the input; its maps sum to logit(x) − logit(baseline) (*completeness*). Saliency is the plain gradient magnitude.
# Grad-CAM (Selvaraju et al. 2017) weights the last stage's feature maps by their mean gradient.

# %%
TIER = None  # "quick" (CI: seconds) | "laptop" (no GPU: <= 10 min) | "full" (GPU); None: $SENET_TIER, else the machine
from senet_lib.course import setup

course = setup("08", TIER)

# %%
import torch

from senet_lib.course.data import shipped_model

held = shipped_model("se_resnet20", images=course.pick(quick=500, laptop=None, full=None))
model, classes, val = held.model, held.classes, held.val

# %% [markdown]
# ## A few held-out images and the model's prediction

# %%
from senet_lib.analysis.figures import prediction_bars

picks = [int((val.targets == k).nonzero()[0]) for k in (0, 3, 7, 8)]  # one airplane, cat, horse, ship
images = val.images[picks]  # uint8 (4, 3, 32, 32)
x = held.normalize(images)  # (4, 3, 32, 32)
with torch.no_grad():
    probs = model(x).softmax(1)  # (4, K)
for i, p in zip(picks, probs):
    print(f"true {classes[int(val.targets[i])]:10s} predicted {classes[int(p.argmax())]:10s} ({float(p.max()):.1%})")
n = 1  # the image we explain below
prediction_bars({"SE-ResNet-20": probs[n]}, classes, top_k=5, title=f"Prediction, image {n}").show()

# %% [markdown]
# ## Integrated Gradients, Saliency, Grad-CAM

# %%
from senet_lib.analysis.attribution import grad_cam, integrated_gradients, saliency
from senet_lib.analysis.figures import attribution_overlay

target = int(probs[n].argmax())
ig, delta = integrated_gradients(model, x[n : n + 1], target, steps=course.pick(quick=32, laptop=128, full=128), return_delta=True)
maps = {
    "Integrated Gradients": ig[0],
    "Saliency": saliency(model, x[n : n + 1], target)[0],
    "Grad-CAM (last stage)": grad_cam(model, x[n : n + 1], target)[0],
}
for title, a in maps.items():
    fig = attribution_overlay(images[n], a, title=f"{title} for '{classes[target]}'")
    fig.update_layout(height=320, width=380)
    fig.show()
print(f"IG completeness: the map sums to {float(ig.sum()):.3f}; convergence delta {float(delta[0]):.4f}")

# %% [markdown]
# ## Attribution to the gates
#
# `gate_attribution` asks how much the target logit depends on each excitation $s_c$: gradient × activation,
# $s_c \,\partial\,\text{logit} / \partial s_c$, the first-order estimate of what is lost when gate $c$ closes.

# %%
from senet_lib.analysis.attribution import gate_attribution
from senet_lib.analysis.excitation import record_excitations
from senet_lib.analysis.figures import excitation_heatmap, gate_attribution_heatmap

with torch.no_grad(), record_excitations(model) as rec:
    model(x[n : n + 1])
excitations = {name: s[0] for name, s in rec.excitations().items()}  # layer -> (C,)
gate_attr = {name: a[0] for name, a in gate_attribution(model, x[n : n + 1], target).items()}  # layer -> (C,)
excitation_heatmap(excitations).show()
gate_attribution_heatmap(gate_attr).show()

# %% [markdown]
# ## Excited and important: the same channels?
#
# Each dot is a channel of a stage-3 SE block: its excitation (x) against its gate attribution (y). The printed
# correlations answer the question for this image.

# %%
import plotly.graph_objects as go

stage3 = [name for name in excitations if name.startswith("SE_3_")]
fig = go.Figure(
    [
        go.Scatter(
            x=excitations[name],
            y=gate_attr[name],
            mode="markers",
            name=name,
            text=list(range(len(excitations[name]))),
            hovertemplate=f"{name}<br>channel %{{text}}<br>s %{{x:.3f}}<br>attribution %{{y:.3f}}<extra></extra>",
        )
        for name in stage3
    ]
)
fig.update_layout(xaxis_title="excitation s_c", yaxis_title="gate attribution s_c * d logit / d s_c", height=380,
                  title=f"Stage 3: excitation vs attribution for '{classes[target]}'")
fig.show()
for name in stage3:
    r = torch.corrcoef(torch.stack([excitations[name], gate_attr[name]]))[0, 1]
    print(f"{name}: Pearson correlation between s and its attribution: {float(r):+.2f}")

# %% [markdown]
# ## Intervene: switch off the most excited channels
#
# `override_gates(model, {layer: {channel: 0.0}})` sets those $s_c$ to 0 inside the block, so Eq. 4 zeroes the
# channels. Switch off the $k$ most excited channels of a stage-3 block and compare with $k$ random channels.

# %%
import ipywidgets as widgets

from senet_lib.analysis.excitation import override_gates
from senet_lib.course.display import redraw_on_change


def predict(overrides):
    with torch.no_grad(), override_gates(model, overrides):
        return model(x[n : n + 1]).softmax(1)[0]


def intervention(layer: str, k: int):
    s = excitations[layer]
    top = s.argsort(descending=True)[:k].tolist()
    rand = torch.randperm(len(s), generator=torch.Generator().manual_seed(0))[:k].tolist()
    after = {
        "unmodified": probs[n],
        f"top-{k} off": predict({layer: {c: 0.0 for c in top}}),
        f"random {k} off": predict({layer: {c: 0.0 for c in rand}}),
    }
    lines = [f"{label:16s} P({classes[target]}) = {float(p[target]):.3f}, predicted {classes[int(p.argmax())]}"
             for label, p in after.items()]
    return prediction_bars(after, classes, top_k=5, title=f"Switching off channels of {layer}"), "\n".join(lines)


redraw_on_change(
    intervention,
    layer=widgets.Dropdown(options=stage3, value=stage3[-1], description="SE layer"),
    k=widgets.IntSlider(value=8, min=1, max=len(excitations[stage3[-1]]), description="k channels"),
)

# %% [markdown]
# ## Summary
#
# - Captum's IG, Saliency and Grad-CAM explain *where in the image* the evidence is; `gate_attribution` explains
#   *which recalibrated channels* carry it.
# - Whether the most excited channels are the most important ones is an empirical question: the correlations and
#   the intervention above answer it for one image. Attributions suggest; interventions (`override_gates`) test.
#
# ## Exercises
#
# 1. Repeat the intervention with the **most attributed** channels (largest `gate_attr`) instead of the most
#    excited. Which drops the target probability more for the same $k$?
# 2. Use a blurred image as the IG baseline (`baseline=` argument). How do the maps change?
# 3. Find an image the model gets wrong and use Grad-CAM for the true and the predicted class.

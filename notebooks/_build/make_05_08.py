"""Generate notebooks 05-08 of the SENet Lab course (outputs cleared). Run: python notebooks/_build/make_05_08.py"""

from nbtools import SETUP, SHIPPED, code, md, write

# ------------------------------------------------------------------------------------------------------ 05
NB05 = [
    md(r"""
# 5 · Training ResNet and SE-ResNet on CIFAR

**Learning objectives**
- train a ResNet and its SE twin with the library's training loop, same recipe, same seed;
- read live training curves (loss and accuracy, train dashed, validation solid);
- put the result beside the paper's CIFAR table — and say honestly what SE buys at which depth.

**The paper (Hu et al., Sec. 6.2, Table 5 / TPAMI Table 4).** On CIFAR-10 and CIFAR-100, SE blocks lower the test
error of ResNet-110, ResNet-164 and WRN-16-8 "at a slight increase in computational cost". The networks are deep:
110 and 164 layers. This notebook asks what happens at depth 20 (quick mode, CPU) and 56 (full mode, GPU).

**Modes.** Quick mode (`SENET_QUICK=1`, what CI runs) trains ResNet-20 vs SE-ResNet-20 for 2 epochs on 1,000
CIFAR-10 images: the curves move, the numbers mean nothing. Full mode trains ResNet-56 vs SE-ResNet-56 for 60 epochs
(one-cycle) on 45,000 images: minutes on a GPU, many hours on a CPU.
"""),
    code(SETUP),
    md(r"""
## The paper's CIFAR rows

The reproduction configs in `experiments/` carry the paper's numbers beside each row; we read them from there
rather than copying them here.
"""),
    code(r"""
from senet_lib.training.experiments import load_grid

for config in ["cifar10_paper", "cifar100_paper"]:
    name, base, rows, caption = load_grid(ROOT / "experiments" / f"{config}.yaml")
    print(f"{caption}:")
    for plain, se in zip(rows[::2], rows[1::2]):
        print(f"  {plain.label:12s} {plain.paper:6.2f}  ->  {se.label:15s} {se.paper:6.2f}   "
              f"({se.paper - plain.paper:+.2f} points)")
"""),
    md(r"""
## The recipe

One `TrainConfig` per model; the two differ only in the model name. The library picks the fast path on a GPU
(the whole split on the device, augmentation per batch there, bf16 autocast) and the same augmentation on a CPU.
"""),
    code(r"""
import tempfile
from dataclasses import replace

from senet_lib.training.config import TrainConfig

from senet_lib.paths import find_named_dataset

have_jpeg = find_named_dataset("cifar10-jpeg") is not None
dataset = "cifar10-jpeg" if have_jpeg else "cifar10"  # without the JPEG copy: torchvision's CIFAR-10 download
runs = Path(tempfile.mkdtemp(prefix="course-")) if QUICK else ROOT / "runs" / "course"  # full runs are kept
base = TrainConfig(
    dataset=dataset, download=not have_jpeg, val_source="holdout",
    epochs=2 if QUICK else 60, batch_size=100 if QUICK else 128, lr=0.1, schedule="onecycle", weight_decay=5e-4,
    train_subset=1000 if QUICK else 0, val_size=500 if QUICK else 5000, device="auto", progress=not QUICK)
depth = 20 if QUICK else 56
configs = {name: replace(base, model=name, run_dir=str(runs / name)) for name in (f"resnet{depth}", f"se_resnet{depth}")}
for name, cfg in configs.items():
    print(name, "->", cfg.run_dir)
"""),
    md(r"""
## Training, with live curves

`train(cfg, on_epoch=...)` calls us back after every epoch with the record it also writes to `metrics.jsonl`; we
redraw `senet_lib.analysis.figures.training_curves` each time. (A finished run directory from an earlier session is reused:
delete it to train again.)
"""),
    code(r"""
import json

import ipywidgets as widgets
from IPython.display import display

from senet_lib.training.loop import train
from senet_lib.analysis.figures import training_curves

history = {name: [] for name in configs}
plot = widgets.Output()
display(plot)


def redraw(name):
    def on_epoch(record):
        history[name].append(record)
        with plot:
            plot.clear_output(wait=True)
            training_curves({n: r for n, r in history.items() if r}).show()
    return on_epoch


summaries = {}
for name, cfg in configs.items():
    done = ROOT / cfg.run_dir / "summary.json"
    if done.exists() and json.loads((ROOT / cfg.run_dir / "config.json").read_text())["epochs"] == cfg.epochs:
        summaries[name] = json.loads(done.read_text())
        for line in (ROOT / cfg.run_dir / "metrics.jsonl").read_text().splitlines():
            redraw(name)(json.loads(line))
        continue
    summaries[name] = train(cfg, on_epoch=redraw(name))
for name, s in summaries.items():
    print(f"{name:14s} final validation accuracy {s['final_val_acc']:.2%}")
"""),
    md(r"""
## Beside the shipped checkpoints and the paper

`data/checkpoints/` holds ResNet-20 and SE-ResNet-20 trained with one recipe on the full 45,000 images (see the
README for the command). Their sidecars carry the validation accuracy, so we compare without re-evaluating.
"""),
    code(r"""
from senet_lib.checkpoint import read_meta

shipped = {name: read_meta(checkpoints_dir() / name) for name in ("resnet20", "se_resnet20")}
for name, meta in shipped.items():
    m = meta["metrics"]
    print(f"shipped {name:12s} val accuracy {m['val_acc']:.2%} after {m['epoch']} epochs "
          f"(error {100 * (1 - m['val_acc']):.2f}%)")
gain = shipped["se_resnet20"]["metrics"]["val_acc"] - shipped["resnet20"]["metrics"]["val_acc"]
print(f"SE gain at depth 20 (shipped, one seed): {100 * gain:+.2f} points")
mine = [summaries[n]["final_val_acc"] for n in configs]
print(f"this notebook at depth {depth}: {100 * (mine[1] - mine[0]):+.2f} points"
      + ("  (quick mode: 1,000 images, 2 epochs — noise)" if QUICK else ""))
"""),
    md(r"""
## What to conclude — honestly

- At **depth 20** the SE twin is within noise of the plain ResNet: one seed of each tells you little, and the
  difference between seeds of the *same* model is often a few tenths of a point. The paper never claims gains here.
- The paper's CIFAR gains are for **110- and 164-layer** ResNets and WRN-16-8 (about 1 point on CIFAR-10,
  2–3 points on CIFAR-100). Deeper networks have more blocks to recalibrate and more channels per block.
- Full mode trains depth 56. To make a claim, run several seeds: the reproduction runner does that and reports
  mean ± std — `python -m senet_lib experiments run experiments/cifar10_paper.yaml --seeds 3`.

## Summary

- `TrainConfig` + `train` give the same recipe to both twins; `on_epoch` feeds live curves.
- The cost of SE at CIFAR scale is small (notebook 4); its benefit grows with depth and needs seeds to see.

## Exercises

1. Run full mode with `depth = 20` and compare with the shipped checkpoints: how close are two runs of one recipe?
2. Train SE-ResNet-56 with `model_options={"reduction": 4}`; does a wider bottleneck help at this scale?
3. Add `label_smoothing=0.1` to the recipe. Which of the two models gains more?
"""),
]

# ------------------------------------------------------------------------------------------------------ 06
NB06 = [
    md(r"""
# 6 · Excitation across classes

**Learning objectives**
- record the excitations $\mathbf{s}$ of every SE block of a trained SE-ResNet-20 over held-out images;
- reproduce the paper's Fig. 6–7 analysis: per-class excitation distributions layer by layer;
- measure class specificity by depth, and saturation in the last stage;
- test the paper's claim that the last stage's SE blocks matter little, by switching them off.

**The paper (Sec. 7.2).** "In the earlier layers ... the distribution of excitations across different classes is
very similar", while in later layers "the value of each channel becomes much more class-specific". At the last
stage, SE_5_2 is mostly *saturated* (most $s_c \approx 1$): there the block is close to an identity, and removing
the last stage's SE blocks costs little accuracy.

We use the shipped `se_resnet20` (stages 2–4 of a CIFAR ResNet carry SE, named `SE_<stage>_<block>` with the stem as
stage 1). Its sidecar already holds class-mean profiles over the 5,000 held-out images (`python -m senet_lib profile`).
"""),
    code(SETUP),
    code(SHIPPED),
    md(r"""
## Class specificity by depth

For each SE layer, $\eta^2$ is the share of the excitations' variance explained by the class (between-class
variance / total variance, averaged over channels): 0 = the class tells you nothing about $\mathbf{s}$, 1 = the
class determines it.
"""),
    code(r"""
from senet_lib.analysis.profiles import profiles_from_json
from senet_lib.analysis.figures import specificity_by_depth

profiles = profiles_from_json(meta["class_profiles"])  # layer -> ExcitationProfile(means (K, C), counts, eta^2)
specificity_by_depth(profiles).show()
for name, p in profiles.items():
    print(f"{name}: eta^2 = {p.specificity:.3f}  ({p.means.shape[1]} channels)")
"""),
    md("## Class-mean excitations: an early layer and the last one (paper Fig. 6 as a map)"),
    code(r"""
from senet_lib.analysis.figures import class_profile_heatmap

layers = list(profiles)
for name in (layers[0], layers[-1]):
    class_profile_heatmap(profiles[name].means, classes, name).show()
"""),
    md(r"""
## Per-image excitations

The sidecar holds means. For distributions we record $\mathbf{s}$ for every held-out image, with one forward pass
per batch: `record_excitations` hooks each SE block's gate.
"""),
    code(r"""
from senet_lib.analysis.excitation import record_excitations

per_layer = {name: [] for name in layers}
with torch.no_grad(), record_excitations(model) as rec:
    for images, _ in val_loader:
        model(images)
        for name in layers:
            per_layer[name].append(rec[name])
        rec.clear()
s_all = {name: torch.cat(chunks) for name, chunks in per_layer.items()}  # layer -> (N, C)
labels = val.targets
print({name: tuple(s.shape) for name, s in s_all.items()})
"""),
    md(r"""
## Explore: distributions per class (paper Fig. 7)

Pick a layer and some classes: the lines are class means over channels, the bands ±1 std, the dashed line all
images. Early layers: the lines lie on top of each other. Late layers: they separate.
"""),
    code(r"""
import ipywidgets as widgets
from IPython.display import display

from senet_lib.analysis.figures import excitation_distribution

layer_w = widgets.Dropdown(options=layers, value=layers[-2], description="SE layer")
classes_w = widgets.SelectMultiple(options=classes, value=("airplane", "cat", "frog", "truck"), description="classes",
                                   rows=5)
out = widgets.Output()


def update(_=None):
    groups = {c: s_all[layer_w.value][labels == classes.index(c)] for c in classes_w.value}
    with out:
        out.clear_output(wait=True)
        if groups:
            excitation_distribution(groups, layer_w.value).show()
        else:
            print("pick at least one class")


layer_w.observe(update, names="value")
classes_w.observe(update, names="value")
update()
display(widgets.VBox([widgets.HBox([layer_w, classes_w]), out]))
"""),
    md(r"""
## Saturation in the last stage

How many excitations sit near 1 (the block lets the channel through unchanged) or near 0 (the block shuts it)?
"""),
    code(r"""
import plotly.graph_objects as go

near_one = {name: float((s > 0.9).float().mean()) for name, s in s_all.items()}
near_zero = {name: float((s < 0.1).float().mean()) for name, s in s_all.items()}
fig = go.Figure([go.Bar(x=layers, y=list(near_one.values()), name="s > 0.9"),
                 go.Bar(x=layers, y=list(near_zero.values()), name="s < 0.1")])
fig.update_layout(title="Share of saturated excitations per SE layer", yaxis_title="share of (image, channel) pairs",
                  barmode="group", height=350)
fig.show()
for name in layers:
    print(f"{name}: mean s = {float(s_all[name].mean()):.3f}, s > 0.9: {near_one[name]:.1%}, "
          f"s < 0.1: {near_zero[name]:.1%}")
"""),
    md(r"""
## Switching off a stage's SE blocks

With `override_gates` we replace $\mathbf{s}$ inside the block (Eq. 4 then scales by the new value):
- **gates = 1**: the block is dropped without retraining — features pass unscaled. The rest of the network was
  trained with the block's scaling in place (typical $s$ is far from 1), so this mostly measures that mismatch;
- **gates = dataset mean**: the block keeps its average recalibration but no longer depends on the image — the
  fair test of "does this stage's *image-dependent* excitation matter?".

The paper's claim (removing the last stage's SE costs little) is about a network *trained* without those blocks:
the reproduction runner's `experiments/ablation_stages.yaml` trains those variants (notebook 7).
"""),
    code(r"""
from senet_lib.training.evaluate import evaluate
from senet_lib.analysis.excitation import override_gates

def accuracy(overrides=None):
    with override_gates(model, overrides or {}):
        return evaluate(model, val_loader, num_classes=len(classes))["accuracy"]


stages = sorted({name.split("_")[1] for name in layers})
results = {"unmodified": accuracy()}
for stage in stages:
    names = [n for n in layers if n.split("_")[1] == stage]
    results[f"stage {stage}: gates = 1"] = accuracy({n: 1.0 for n in names})
    results[f"stage {stage}: gates = mean s"] = accuracy({n: s_all[n].mean(0) for n in names})
for label, acc in results.items():
    print(f"{label:28s} accuracy {acc:.2%}  ({100 * (acc - results['unmodified']):+.2f} points)")
"""),
    md(r"""
## Summary

- Early SE layers recalibrate channels much the same way for every class; late ones are class-specific
  ($\eta^2$ rises with depth), as in the paper's Fig. 6.
- Whether the last stage saturates, and how much switching it off costs, is measured above on *this* small
  network; the paper's saturation finding is for SE-ResNet-50's SE_5_2 on ImageNet. Read your numbers, not the
  paper's, and note where they differ.

## Exercises

1. Which classes separate first (at the lowest depth)? Use the widget, then check with `class_profile_heatmap`.
2. Replace the stage-4 gates by the **class** mean of the true class (`profiles[name].means[label]`) — an oracle.
   How much accuracy does that give?
3. Compute $\eta^2$ yourself for one layer with `senet_lib.analysis.profiles.class_specificity(s, labels, 10)` and compare
   with the sidecar.
"""),
]

# ------------------------------------------------------------------------------------------------------ 07
NB07 = [
    md(r"""
# 7 · Ablations: reduction ratio, squeeze, gate, placement

**Learning objectives**
- run the paper's ablations at CIFAR scale with the reproduction runner;
- read our numbers beside the paper's tables — and know when they can and cannot be compared.

**The paper (Sec. 6.4, Tables 10–14)** ablates SE-ResNet-50 on ImageNet (top-1 error %):
reduction ratio $r$ (Table 10), squeeze operator avg vs max (Table 11), excitation gate sigmoid / tanh / ReLU
(Table 12), and integration strategy SE / SE-PRE / SE-POST / SE-Identity (Table 14; drawn in notebook 3).

**Modes.** Each ablation is a YAML config in `experiments/` (SE-ResNet-56, 60 epochs on CIFAR-10). Full mode runs
the configs as they are (GPU hours; finished runs are skipped, so it resumes) and writes tables to
`experiments/results/`. Quick mode runs SE-ResNet-20 for one epoch on 400 images, two rows of each table: the
runner and the plots work, the numbers are noise.
"""),
    code(SETUP),
    code(r"""
import tempfile

from senet_lib.training.experiments import load_grid, run_grid
from senet_lib.analysis.figures import ablation_comparison

from senet_lib.paths import find_named_dataset

if QUICK:
    overrides = {"model": "se_resnet20", "epochs": 1, "train_subset": 400, "val_size": 400, "batch_size": 100,
                 "device": "cpu", "val_source": "holdout"}
    out_dir = Path(tempfile.mkdtemp(prefix="ablations-"))  # quick results are not worth keeping
else:
    overrides, out_dir = {}, ROOT / "experiments"
if find_named_dataset("cifar10-jpeg"):
    overrides["dataset"] = "cifar10-jpeg"
QUICK_ROWS = {  # rows without a `model` of their own, so the quick model override applies to all of them
    "ablation_reduction": ["r = 2", "r = 16"],
    "ablation_squeeze": ["avg squeeze", "max squeeze"],
    "ablation_gate": ["sigmoid", "ReLU"],
    "ablation_placement": ["SE (standard)", "SE-POST"],
}


def ablation(name, seeds=1 if QUICK else 3):
    _, _, _, caption = load_grid(ROOT / "experiments" / f"{name}.yaml")
    rows = run_grid(ROOT / "experiments" / f"{name}.yaml", seeds=seeds, out_dir=out_dir, progress=False,
                    overrides=overrides, only=QUICK_ROWS[name] if QUICK else None)
    return rows, caption
"""),
    md(r"""
## Reduction ratio $r$ (Table 10)

The paper: $r = 2, 4, 8, 16, 32$ give 22.29, 22.25, 22.26, 22.28, 22.72 top-1 error — flat until 32, and $r=16$
is a good balance of accuracy and cost (notebook 4 counts the parameters).
"""),
    code(r"""
rows, caption = ablation("ablation_reduction")
ablation_comparison(rows, caption, title="Reduction ratio r").show()
"""),
    md(r"""
## Squeeze operator (Table 11)

Average (22.28) beats max (22.57) pooling on ImageNet, but both work: the point of squeeze is *global* information.
"""),
    code(r"""
rows, caption = ablation("ablation_squeeze")
ablation_comparison(rows, caption, title="Squeeze: avg vs max").show()
"""),
    md(r"""
## Excitation gate (Table 12)

Sigmoid 22.28, tanh 23.00, ReLU 23.47: the sigmoid's range (0, 1) lets several channels be emphasised at once
without competing (notebook 2), and never flips a feature's sign.
"""),
    code(r"""
rows, caption = ablation("ablation_gate")
ablation_comparison(rows, caption, title="Excitation gate").show()
"""),
    md(r"""
## Placement (Table 14)

SE 22.28, SE-PRE 22.23, SE-Identity 22.20, SE-POST 22.78: any placement before the residual addition works; after
the addition (POST) hurts, since it rescales the identity path too.
"""),
    code(r"""
rows, caption = ablation("ablation_placement")
ablation_comparison(rows, caption, title="SE placement").show()
print("tables written to", out_dir / "results")
"""),
    md(r"""
## Reading the comparison

- The paper's numbers are ImageNet top-1 errors of SE-ResNet-50; ours are CIFAR-10 validation errors of a much
  smaller network. Compare **orderings and gaps**, never the values.
- Differences smaller than the seed-to-seed standard deviation (the error bars, full mode: 3 seeds) are not findings.

## Summary

- `run_grid(config, overrides=..., only=...)` runs any slice of an ablation grid, resumably, and tabulates it.
- `ablation_comparison` draws ours beside the paper's.

## Exercises

1. Run `experiments/ablation_stages.yaml` (SE in one stage only). Which stage matters most at CIFAR scale?
2. In full mode, which of the four ablations shows a gap larger than its error bars?
3. Add a row `r = 64` to `ablation_reduction.yaml` and predict its parameter cost before you train it.
"""),
]

# ------------------------------------------------------------------------------------------------------ 08
NB08 = [
    md(r"""
# 8 · Attribution with Captum, and gate interventions

**Learning objectives**
- explain a prediction of SE-ResNet-20 with Integrated Gradients, Saliency and Grad-CAM (via Captum);
- attribute the prediction to the SE gates themselves: which channels' excitations matter for this class;
- intervene: switch off the most excited channels of a stage-3 SE block and watch the prediction move;
- compare "how excited is a channel" with "how much does the prediction depend on it".

**Background.** Integrated Gradients (Sundararajan et al. 2017) integrates the gradient from a baseline image to the
input; its maps sum to logit(x) − logit(baseline) (*completeness*). Saliency is the plain gradient magnitude.
Grad-CAM (Selvaraju et al. 2017) weights the last stage's feature maps by their mean gradient.
"""),
    code(SETUP),
    code(SHIPPED),
    md("## A few held-out images and the model's prediction"),
    code(r"""
from senet_lib.analysis.figures import prediction_bars

picks = [int((val.targets == k).nonzero()[0]) for k in (0, 3, 7, 8)]  # one airplane, cat, horse, ship
images = val.images[picks]  # uint8 (4, 3, 32, 32)
x = normalize(images, norm["mean"], norm["std"])  # (4, 3, 32, 32)
with torch.no_grad():
    probs = model(x).softmax(1)  # (4, K)
for i, p in zip(picks, probs):
    print(f"true {classes[int(val.targets[i])]:10s} predicted {classes[int(p.argmax())]:10s} ({float(p.max()):.1%})")
n = 1  # the image we explain below
prediction_bars({"SE-ResNet-20": probs[n]}, classes, top_k=5, title=f"Prediction, image {n}").show()
"""),
    md("## Integrated Gradients, Saliency, Grad-CAM"),
    code(r"""
from senet_lib.analysis.attribution import grad_cam, integrated_gradients, saliency
from senet_lib.analysis.figures import attribution_overlay

target = int(probs[n].argmax())
ig, delta = integrated_gradients(model, x[n:n + 1], target, steps=32 if QUICK else 128, return_delta=True)
maps = {"Integrated Gradients": ig[0], "Saliency": saliency(model, x[n:n + 1], target)[0],
        "Grad-CAM (last stage)": grad_cam(model, x[n:n + 1], target)[0]}
for title, a in maps.items():
    fig = attribution_overlay(images[n], a, title=f"{title} for '{classes[target]}'")
    fig.update_layout(height=320, width=380)
    fig.show()
print(f"IG completeness: the map sums to {float(ig.sum()):.3f}; convergence delta {float(delta[0]):.4f}")
"""),
    md(r"""
## Attribution to the gates

`gate_attribution` asks how much the target logit depends on each excitation $s_c$: gradient × activation,
$s_c \,\partial\,\text{logit} / \partial s_c$, is the first-order estimate of what is lost when gate $c$ closes.
"""),
    code(r"""
from senet_lib.analysis.attribution import gate_attribution
from senet_lib.analysis.excitation import record_excitations
from senet_lib.analysis.figures import excitation_heatmap, gate_attribution_heatmap

with torch.no_grad(), record_excitations(model) as rec:
    model(x[n:n + 1])
excitations = {name: s[0] for name, s in rec.excitations().items()}  # layer -> (C,)
gate_attr = {name: a[0] for name, a in gate_attribution(model, x[n:n + 1], target).items()}  # layer -> (C,)
excitation_heatmap(excitations).show()
gate_attribution_heatmap(gate_attr).show()
"""),
    md(r"""
## Excited is not the same as important

Each dot is a channel of a stage-3 SE block: its excitation (x) against its gate attribution (y).
"""),
    code(r"""
import plotly.graph_objects as go

stage3 = [name for name in excitations if name.startswith("SE_3_")]
fig = go.Figure([go.Scatter(x=excitations[name], y=gate_attr[name], mode="markers", name=name,
                            hovertemplate=f"{name}<br>channel %{{text}}<br>s %{{x:.3f}}<br>attribution %{{y:.3f}}"
                                          "<extra></extra>", text=list(range(len(excitations[name]))))
                 for name in stage3])
fig.update_layout(xaxis_title="excitation s_c", yaxis_title="gate attribution s_c * d logit / d s_c", height=380,
                  title=f"Stage 3: excitation vs attribution for '{classes[target]}'")
fig.show()
for name in stage3:
    r = torch.corrcoef(torch.stack([excitations[name], gate_attr[name]]))[0, 1]
    print(f"{name}: Pearson correlation between s and its attribution: {float(r):+.2f}")
"""),
    md(r"""
## Intervene: switch off the most excited channels

`override_gates(model, {layer: {channel: 0.0}})` sets those $s_c$ to 0 inside the block, so Eq. 4 zeroes the
channels. Switch off the $k$ most excited channels of a stage-3 block and compare with $k$ random channels.
"""),
    code(r"""
import ipywidgets as widgets
from IPython.display import display

from senet_lib.analysis.excitation import override_gates


def predict(overrides):
    with torch.no_grad(), override_gates(model, overrides):
        return model(x[n:n + 1]).softmax(1)[0]


layer_w = widgets.Dropdown(options=stage3, value=stage3[-1], description="SE layer")
k_w = widgets.IntSlider(value=8, min=1, max=len(excitations[stage3[-1]]), description="k channels")
out = widgets.Output()


def update(_=None):
    s = excitations[layer_w.value]
    top = s.argsort(descending=True)[: k_w.value].tolist()
    rand = torch.randperm(len(s), generator=torch.Generator().manual_seed(0))[: k_w.value].tolist()
    after = {"unmodified": probs[n], f"top-{k_w.value} off": predict({layer_w.value: {c: 0.0 for c in top}}),
             f"random {k_w.value} off": predict({layer_w.value: {c: 0.0 for c in rand}})}
    with out:
        out.clear_output(wait=True)
        prediction_bars(after, classes, top_k=5, title=f"Switching off channels of {layer_w.value}").show()
        for label, p in after.items():
            print(f"{label:16s} P({classes[target]}) = {float(p[target]):.3f}, predicted {classes[int(p.argmax())]}")


layer_w.observe(update, names="value")
k_w.observe(update, names="value")
update()
display(widgets.VBox([widgets.HBox([layer_w, k_w]), out]))
"""),
    md(r"""
## Summary

- Captum's IG, Saliency and Grad-CAM explain *where in the image* the evidence is; `gate_attribution` explains
  *which recalibrated channels* carry it.
- A channel's excitation and its importance for one class are related but not the same; interventions
  (`override_gates`) test causal claims that attributions only suggest.

## Exercises

1. Repeat the intervention with the **most attributed** channels (largest `gate_attr`) instead of the most
   excited. Which drops the target probability more for the same $k$?
2. Use a blurred image as the IG baseline (`baseline=` argument). How do the maps change?
3. Find an image the model gets wrong and use Grad-CAM for the true and the predicted class.
"""),
]

if __name__ == "__main__":
    write("05_training_on_cifar.ipynb", NB05)
    write("06_excitation_across_classes.ipynb", NB06)
    write("07_ablations.ipynb", NB07)
    write("08_attribution_with_captum.ipynb", NB08)

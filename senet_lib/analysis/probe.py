"""What class can be read from one SE layer's excitations alone: a linear probe per layer.

    python -m senet_lib probe data/checkpoints/se_resnet20     # fits on train, reports on val, into the sidecar

For each SE layer, a multinomial logistic regression from the excitation vector ``s`` (C,) (Eq. 3) to the
class, fitted on the excitations of the **training** split and scored on the **validation** split it never
saw: its accuracy there (against the true labels) says how much class information the gates of that depth
carry, and its agreement with the network's own prediction says how far the gates already point where the
network ends up. Paper, Sec. 7.2: early excitations are class-agnostic, later ones class-specific; a probe's
held-out accuracy measures that directly, where the nearest class-mean profile did not (it matched the
network's prediction in only 17-30% of images).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from senet_lib.analysis.excitation import record_excitations
from senet_lib.checkpoint import load_model, read_meta, update_meta
from senet_lib.data import checkpoint_split_loader
from senet_lib.runtime import resolve_device

__all__ = [
    "LayerProbe",
    "collect_excitations",
    "fit_probe",
    "probe_checkpoint",
    "probe_probabilities",
    "probes_from_json",
    "probes_to_json",
    "score_probe",
]


@dataclass
class LayerProbe:
    """One SE layer's probe: class scores ``weight @ s + bias`` (weight (K, C), bias (K,)) and its held-out
    scores: ``accuracy`` (probe class == true class) and ``agreement`` (probe class == network's prediction)
    over ``count`` validation images; ``train_accuracy`` on the images it was fitted on."""

    weight: torch.Tensor
    bias: torch.Tensor
    accuracy: float
    agreement: float
    train_accuracy: float
    count: int

    def probabilities(self, s: torch.Tensor) -> torch.Tensor:
        """Class probabilities (..., K) for excitations (..., C)."""
        return (s.float() @ self.weight.T + self.bias).softmax(-1)


@torch.no_grad()
def collect_excitations(
    model: nn.Module, loader: Iterable, layers: Iterable[str] | None = None, progress: bool = False
) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """Run ``loader`` of (images, labels) once in eval mode: ``(excitations {layer: (N, C)}, labels (N,),
    predictions (N,))``, all on the CPU."""
    from tqdm.auto import tqdm

    was_training = model.training
    model.eval()
    labels, predictions = [], []
    device = next(model.parameters()).device
    try:
        with record_excitations(model, layers) as rec:
            for images, y in tqdm(loader, desc="excitations", disable=not progress, leave=False):
                predictions.append(model(images.to(device)).argmax(1).cpu())  # (B, K) -> (B,)
                labels.append(y.cpu())
            excitations = {name: s.float().cpu() for name, s in rec.excitations().items()}  # (N, C)
    finally:
        model.train(was_training)
    if not labels:
        raise ValueError("the loader yielded no batches; pass a loader of (images, labels)")
    return excitations, torch.cat(labels), torch.cat(predictions)


def fit_probe(
    s: torch.Tensor, labels: torch.Tensor, num_classes: int, l2: float = 1e-4, steps: int = 200
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression of labels (N,) on excitations s (N, C): ``(weight (K, C), bias (K,))``.

    Fitted by L-BFGS on standardised features with an L2 penalty ``l2`` (deterministic: full batch, zero
    start); the standardisation is folded back in, so the weights apply to raw excitations."""
    if s.dim() != 2 or labels.shape != s.shape[:1] or len(s) == 0:
        raise ValueError(
            f"expected excitations (N, C) and labels (N,); got {tuple(s.shape)}, {tuple(labels.shape)}"
        )
    x = s.double()
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)  # (C,)
    z = (x - mean) / std  # (N, C)
    y = labels.long()
    w = torch.zeros(num_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = nn.functional.cross_entropy(z @ w.T + b, y) + l2 * (w * w).sum()
        value.backward()
        return value

    with torch.enable_grad():
        optimizer.step(loss)
    weight = (w / std).detach()  # w (z) = w ((s - mean) / std) = (w / std) s - (w / std) mean
    bias = (b - weight @ mean).detach()
    return weight.float(), bias.float()


def score_probe(
    weight: torch.Tensor, bias: torch.Tensor, s: torch.Tensor, labels: torch.Tensor, predictions: torch.Tensor
) -> tuple[float, float]:
    """``(accuracy, agreement)`` of a probe on excitations s (N, C): its class vs the labels (N,) and vs the
    network's predictions (N,)."""
    guess = (s.float() @ weight.T + bias).argmax(1)  # (N, K) -> (N,)
    return float((guess == labels).double().mean()), float((guess == predictions).double().mean())


def probe_probabilities(
    excitations: Mapping[str, torch.Tensor], probes: Mapping[str, LayerProbe]
) -> tuple[list[str], torch.Tensor]:
    """``(layers, P)``: for one image, each probed SE layer's class probabilities P (L, K) from its excitations."""
    layers = [name for name in excitations if name in probes]
    rows = []
    for name in layers:
        s, probe = excitations[name].float().reshape(-1), probes[name]  # (C,)
        if probe.weight.shape[1] != s.shape[0]:
            raise ValueError(
                f"{name}: the image has {s.shape[0]} channels but the probe {probe.weight.shape[1]}; "
                "use the probes of the same model"
            )
        rows.append(probe.probabilities(s))  # (K,)
    return layers, (torch.stack(rows) if rows else torch.empty(0, 0))


def probes_to_json(probes: Mapping[str, LayerProbe], fit_split: str, score_split: str) -> dict:
    """JSON form stored under the sidecar's ``excitation_probes`` key."""
    layers = {
        name: {
            "weight": [[round(float(v), 6) for v in row] for row in p.weight],
            "bias": [round(float(v), 6) for v in p.bias],
            "accuracy": p.accuracy,
            "agreement": p.agreement,
            "train_accuracy": p.train_accuracy,
            "count": p.count,
        }
        for name, p in probes.items()
    }
    return {"fit_split": fit_split, "score_split": score_split, "layers": layers}


def probes_from_json(record: Mapping) -> dict[str, LayerProbe]:
    """Inverse of :func:`probes_to_json`; ValueError naming the layer if a field is missing or misshapen."""
    probes = {}
    for name, layer in record["layers"].items():
        try:
            weight, bias = torch.tensor(layer["weight"]), torch.tensor(layer["bias"])
            if weight.dim() != 2 or bias.shape != weight.shape[:1]:
                raise ValueError(f"weight {tuple(weight.shape)} and bias {tuple(bias.shape)} do not fit")
            probes[name] = LayerProbe(
                weight,
                bias,
                float(layer["accuracy"]),
                float(layer["agreement"]),
                float(layer["train_accuracy"]),
                int(layer["count"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"excitation probe of {name}: {err}") from err
    return probes


def probe_checkpoint(
    path: str,
    dataset: str | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    batch_size: int = 256,
    progress: bool = True,
) -> dict:
    """Fit a probe per SE layer on the checkpoint's training split, score it on its validation split (the
    images the run held out), and store both under ``excitation_probes`` in its sidecar; returns the record."""
    dev = resolve_device(device)
    meta = read_meta(path)
    model = load_model(path, device=dev)
    num_classes = len(meta["classes"])
    data = {}
    for split in ("train", "val"):
        loader = checkpoint_split_loader(meta, split, dataset, data_dir, batch_size, dev, progress)
        data[split] = collect_excitations(model, loader, progress=progress)
    (train_s, train_y, _), (val_s, val_y, val_pred) = data["train"], data["val"]
    if not train_s:
        raise ValueError(f"{path} has no SE layers: there are no excitations to probe")
    probes = {}
    for name in train_s:
        weight, bias = fit_probe(train_s[name], train_y, num_classes)
        train_accuracy, _ = score_probe(weight, bias, train_s[name], train_y, train_y)
        accuracy, agreement = score_probe(weight, bias, val_s[name], val_y, val_pred)
        probes[name] = LayerProbe(weight, bias, accuracy, agreement, train_accuracy, len(val_y))
    record = probes_to_json(probes, "train", "val")
    record["network_accuracy"] = float((val_pred == val_y).double().mean())
    update_meta(path, {"excitation_probes": record})
    return record

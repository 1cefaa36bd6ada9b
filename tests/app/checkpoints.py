"""A checkpoint that is not CIFAR-10, for the dashboard's tests: 4 made-up classes, its own dataset name and
validation size, class profiles and excitation probes computed on random images (so every page has something
to draw), all written by the library's own functions."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from senet_lib.analysis.probe import LayerProbe, collect_excitations, fit_probe, probes_to_json, score_probe
from senet_lib.analysis.profiles import class_mean_profiles, profiles_to_json
from senet_lib.checkpoint import save_checkpoint
from senet_lib.models import create_model

CLASSES = ["apple", "bee", "cloud", "dune"]
DATASET = "shapes-toy.tar"


def non_cifar_checkpoint(folder: Path, name: str = "shapes") -> tuple[bytes, bytes]:
    """(weights, sidecar) bytes of a 4-class se_resnet20 "trained" on a made-up dataset (random weights)."""
    torch.manual_seed(0)
    model = create_model("se_resnet20", num_classes=len(CLASSES)).eval()
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(16, 3, 32, 32, generator=g), torch.arange(16) % len(CLASSES)) for _ in range(2)]
    profiles = class_mean_profiles(model, batches, len(CLASSES), progress=False)
    s, labels, predictions = collect_excitations(model, batches)
    probes = {}
    for layer, x in s.items():
        weight, bias = fit_probe(x, labels, len(CLASSES), steps=20)
        accuracy, agreement = score_probe(weight, bias, x, labels, predictions)
        probes[layer] = LayerProbe(weight, bias, accuracy, agreement, accuracy, len(labels))
    meta = {
        "model": model.spec,
        "classes": CLASSES,
        "normalization": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
        "data": {
            "dataset": DATASET,
            "val_source": "holdout",
            "val_size": 400,
            "train_size": 3600,
            "image_size": 32,
        },
        "metrics": {"val_acc": 0.25},
        "class_profiles": profiles_to_json(profiles, "val"),
        "excitation_probes": probes_to_json(probes, "train", "val"),
    }
    weights = save_checkpoint(folder / name, model, json.loads(json.dumps(meta)))
    return weights.read_bytes(), weights.with_suffix(".json").read_bytes()

"""Class-mean excitation profiles of a checkpoint, stored in its sidecar for the notebooks and the app.

    python -m senet_lib profile data/checkpoints/se_resnet20

Per SE layer (paper names, e.g. SE_4_3): the (num_classes, C) class-mean excitations over the validation
split (paper Fig. 6) and the class-specificity eta^2 (see :func:`senet_lib.excitation.class_specificity`).
"""

from __future__ import annotations

import argparse

import torch

from senet_lib.excitation import ExcitationProfile, class_mean_profiles


def profiles_to_json(profiles: dict[str, ExcitationProfile], split: str) -> dict:
    """JSON form stored under the sidecar's ``class_profiles`` key."""
    layers = {name: {"means": p.means.tolist(), "counts": p.counts.tolist(), "specificity": p.specificity}
              for name, p in profiles.items()}
    return {"split": split, "layers": layers}


def profiles_from_json(record: dict) -> dict[str, ExcitationProfile]:
    """Inverse of :func:`profiles_to_json`."""
    return {name: ExcitationProfile(torch.tensor(layer["means"]), torch.tensor(layer["counts"]), layer["specificity"])
            for name, layer in record["layers"].items()}


def profile_checkpoint(path: str, dataset: str | None = None, data_dir: str = "data", split: str = "val",
                       device: str = "auto", batch_size: int = 256, progress: bool = True) -> dict:
    """Compute the class profiles of the checkpoint at ``path`` over a split and write them into its sidecar."""
    from senet_lib.checkpoint import load_model, read_meta, update_meta
    from senet_lib.evaluate import checkpoint_split_loader
    from senet_lib.train import resolve_device

    dev = resolve_device(device)
    meta = read_meta(path)
    model = load_model(path, device=dev)
    loader = checkpoint_split_loader(meta, split, dataset, data_dir, batch_size, dev, progress)
    profiles = class_mean_profiles(model, loader, num_classes=len(meta["classes"]), device=dev, progress=progress)
    record = profiles_to_json(profiles, split)
    update_meta(path, {"class_profiles": record})
    return record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from senet_lib.evaluate import add_checkpoint_arguments

    add_checkpoint_arguments(parser)
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    record = profile_checkpoint(args.checkpoint, args.dataset, args.data_dir, args.split, args.device,
                                args.batch_size, not args.no_progress)
    print(f"{'layer':<10} {'channels':>8} {'class-specificity':>18}")
    for name, layer in record["layers"].items():
        print(f"{name:<10} {len(layer['means'][0]):>8} {layer['specificity']:>18.3f}")
    print(f"stored under 'class_profiles' in {args.checkpoint}'s sidecar")
    return 0

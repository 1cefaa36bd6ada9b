"""The JSON half of a checkpoint: its sidecar, and the record that vouches for the pair.

The record (``meta["checkpoint"]``) holds the format version, the sha256 of the weights file and the sha256 of
what rebuilds the model (:data:`REBUILD_KEYS`: model spec, classes, normalisation). A sidecar without it, or
whose model spec was edited after saving, is refused. Sidecars are strict JSON: no NaN, no infinity.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import torch

from senet_lib.files import atomic_write

__all__ = [
    "CheckpointError",
    "checkpoint_paths",
    "make_record",
    "read_meta",
    "read_sidecar",
    "sha256",
    "strict_json",
    "update_meta",
]

FORMAT_VERSION = 2  # 2: the record also hashes REBUILD_KEYS; 1 (weights hash only) is still read
#: The sidecar keys that rebuild the model and feed it; their sha256 is in the sidecar's record.
REBUILD_KEYS = ("model", "classes", "normalization")
WEIGHTS_SUFFIX = ".safetensors"
SIDECAR_SUFFIX = ".json"
DEFAULT_NAME = "model"  # the checkpoint's name when save_checkpoint is given a directory


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be used; the message says what is wrong and what to do."""


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """``(weights, sidecar)`` for a stem (``runs/x/best``), either file of the pair, or a directory."""
    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_NAME
    elif path.suffix in (WEIGHTS_SUFFIX, SIDECAR_SUFFIX):
        path = path.with_suffix("")
    return path.with_name(path.name + WEIGHTS_SUFFIX), path.with_name(path.name + SIDECAR_SUFFIX)


def _json_default(value: Any) -> Any:
    """Make tensors, numpy values and paths JSON-able (called by json.dumps for unknown types)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    raise TypeError(
        f"checkpoint meta holds a {type(value).__name__}, which JSON cannot store; "
        "convert it to numbers, strings, lists or dicts"
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rebuild_sha256(meta: dict[str, Any]) -> str:
    """sha256 of what rebuilds the model and feeds it (:data:`REBUILD_KEYS`), as canonical JSON."""
    return sha256(json.dumps([meta.get(k) for k in REBUILD_KEYS], sort_keys=True).encode())


def make_record(weights_path: Path, weights: bytes, meta: dict[str, Any]) -> dict[str, Any]:
    """The sidecar's ``checkpoint`` record for these weights (the file's bytes) and this (strict JSON) meta."""
    return {
        "format_version": FORMAT_VERSION,
        "weights_file": weights_path.name,
        "weights_sha256": sha256(weights),
        "rebuild_sha256": _rebuild_sha256(meta),
    }


def _non_finite(value: Any, where: str = "meta") -> str | None:
    """Where the first NaN or infinity in a JSON-able value is (``meta['metrics']['val_loss']``), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return next((found for k, v in items if (found := _non_finite(v, f"{where}[{k!r}]"))), None)


def strict_json(value: Any) -> dict[str, Any]:
    """``value`` as plain JSON data; ValueError naming the first NaN/inf (JSON has no such numbers)."""
    data = json.loads(json.dumps(value, default=_json_default))
    if where := _non_finite(data):
        raise ValueError(
            f"{where} is NaN or infinite, which strict JSON cannot hold; checkpoints of a diverged model are "
            "not saved (lower the learning rate), other values should be finite or None"
        )
    return data


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """The whole sidecar (format record included), checked: JSON, a record, and unedited model spec."""
    weights_path, sidecar_path = checkpoint_paths(path)
    if not sidecar_path.is_file():
        if not weights_path.is_file():
            raise FileNotFoundError(
                f"no checkpoint at {weights_path.with_suffix('')}: neither {weights_path.name} nor "
                f"{sidecar_path.name} exists there; pass a checkpoint's stem (e.g. runs/<run>/best or "
                "data/checkpoints/se_resnet20), its .safetensors file or its .json sidecar"
            )
        raise FileNotFoundError(
            f"checkpoint sidecar {sidecar_path} is missing; it holds the model name and options needed to use "
            f"{weights_path.name} and their checksums. Copy back the .json saved with it, or re-save the model "
            "with senet_lib.checkpoint.save_checkpoint"
        )
    try:
        meta = json.loads(sidecar_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(
            f"checkpoint sidecar {sidecar_path} is not valid JSON ({err}); "
            "restore it or re-save the checkpoint with save_checkpoint"
        ) from err
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"checkpoint sidecar {sidecar_path} must hold a JSON object; it holds a {type(meta).__name__}"
        )
    record = meta.get("checkpoint")
    version = record.get("format_version") if isinstance(record, dict) else None
    if version not in (1, 2) or not record.get("weights_sha256"):
        raise CheckpointError(
            f'checkpoint sidecar {sidecar_path} has no valid "checkpoint" record (format version and sha256 '
            f"checksums, found {json.dumps(record)[:120]}), so nothing vouches that it belongs to "
            f"{weights_path.name}; restore the sidecar saved with it, or re-save with save_checkpoint"
        )
    if version == 2 and record.get("rebuild_sha256") != _rebuild_sha256(meta):
        raise CheckpointError(
            f"the model spec, classes or normalisation in {sidecar_path} were changed after the checkpoint was "
            "saved (sha256 differs): the weights would be rebuilt into another model. Restore the sidecar, "
            "or re-save the model with save_checkpoint"
        )
    return meta


def read_meta(path: str | Path) -> dict[str, Any]:
    """The sidecar's ``meta`` dict of a checkpoint (cheap: the weights are not read)."""
    meta = read_sidecar(path)
    meta.pop("checkpoint", None)
    return meta


def update_meta(path: str | Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into a checkpoint's sidecar (atomically; the weights stay untouched); return the new meta."""
    _, sidecar_path = checkpoint_paths(path)
    full = read_sidecar(path)
    full.update(strict_json(changes))
    if full["checkpoint"].get("format_version") == 2:
        full["checkpoint"]["rebuild_sha256"] = _rebuild_sha256(full)
    text = json.dumps(full, indent=2) + "\n"
    atomic_write(sidecar_path, lambda tmp: tmp.write_text(text))
    full.pop("checkpoint", None)
    return full

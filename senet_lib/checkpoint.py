"""Checkpoints: safetensors weights + a JSON sidecar, written as a pair a kill cannot split; and training state.

A checkpoint named ``best`` is two files side by side:

* ``best.safetensors`` -- the model's weights (no pickle: safe to open from anywhere);
* ``best.json`` -- everything needed to rebuild and read the model: ``{"model": {"name": ..., **kwargs}}``
  for :func:`senet_lib.models.create_model`, plus whatever else the caller puts in ``meta`` (classes,
  normalisation mean/std, recipe, metrics, data description, class excitation profiles, ...).

The sidecar's ``checkpoint`` record holds the sha256 of the weights and of what rebuilds the model (model spec,
classes, normalisation): an edit of either, or a sidecar without the record, is refused. Training state
(optimizer, scheduler, RNG, loader position) is a separate ``torch.save`` file, read back with
``weights_only=True`` so that opening it cannot run code.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from torch import nn

from senet_lib.files import atomic_write
from senet_lib.sidecar import (
    SIDECAR_SUFFIX,
    WEIGHTS_SUFFIX,
    CheckpointError,
    checkpoint_paths,
    make_record,
    read_meta,
    read_sidecar,
    sha256,
    strict_json,
    update_meta,
)

__all__ = [
    "CheckpointError",
    "atomic_write",
    "checkpoint_paths",
    "load_checkpoint",
    "load_model",
    "load_model_from_bytes",
    "load_training_state",
    "read_meta",
    "save_checkpoint",
    "save_training_state",
    "update_meta",
]


def _pending(weights_path: Path) -> Path:
    """Where new weights wait until their sidecar is written (the pair's commit point)."""
    return weights_path.with_name(f".{weights_path.name}.pending")


def _settle(weights_path: Path, sidecar_path: Path) -> None:
    """Finish a save killed after its sidecar was written: move its pending weights into place."""
    pending = _pending(weights_path)
    if not pending.is_file():
        return
    try:
        record = json.loads(sidecar_path.read_text()).get("checkpoint", {})
    except (OSError, ValueError, AttributeError):
        record = {}
    if isinstance(record, dict) and record.get("weights_sha256") == sha256(pending.read_bytes()):
        os.replace(pending, weights_path)
    else:  # written before a kill, never committed
        pending.unlink()


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> Path:
    """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (``meta``) as a pair; return the weights path.

    ``meta["model"]`` should be ``{"name": ..., **kwargs}`` (e.g. ``model.spec``) so :func:`load_model` can rebuild
    it. The weights go to a pending file, the sidecar is replaced (the commit), then the weights: readers see
    the old pair or the new one, even after a kill.
    """
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict of JSON-able values; got {type(meta).__name__}")
    if "checkpoint" in meta:
        raise ValueError("meta key 'checkpoint' is reserved for the file format record; rename it")
    data = strict_json(meta)  # fail before touching any file
    weights_path, sidecar_path = checkpoint_paths(path)
    # private copies: contiguous, on the CPU, no storage shared between entries (safetensors refuses sharing)
    tensors = {
        k: v.detach().to("cpu").clone(memory_format=torch.contiguous_format)
        for k, v in model.state_dict().items()
        if isinstance(v, torch.Tensor)
    }
    weights = safetensors.torch.save(tensors, metadata={"format": "pt"})
    _settle(weights_path, sidecar_path)
    pending = atomic_write(_pending(weights_path), lambda tmp: tmp.write_bytes(weights))
    record = make_record(weights_path, weights, data)
    sidecar = json.dumps({"checkpoint": record, **data}, indent=2)
    atomic_write(sidecar_path, lambda tmp: tmp.write_text(sidecar + "\n"))
    os.replace(pending, weights_path)
    return weights_path


def _committed_weights(weights_path: Path, expected: str) -> bytes:
    """The weights the sidecar vouches for: the file, or the pending file of a save killed after its sidecar
    (else the file's bytes, for the caller to say what is wrong with them)."""
    found = b""
    for candidate in (weights_path, _pending(weights_path), weights_path):  # a writer may be moving pending
        try:
            data = candidate.read_bytes()
        except FileNotFoundError:
            continue
        if sha256(data) == expected:
            return data
        found = found or data
    return found


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict]:
    """``(state_dict, meta)`` of a checkpoint written by :func:`save_checkpoint` (stem or either file)."""
    weights_path, _ = checkpoint_paths(path)
    meta = read_sidecar(weights_path)
    if not weights_path.is_file() and not _pending(weights_path).is_file():
        raise FileNotFoundError(
            f"checkpoint weights {weights_path} not found; pass the checkpoint's stem "
            "(runs/<run>/best), its .safetensors file or its .json sidecar"
        )
    expected = meta.pop("checkpoint")["weights_sha256"]
    data = _committed_weights(weights_path, expected)
    try:
        state_dict = safetensors.torch.load(data)
    except Exception as err:  # safetensors raises its own error types for a foreign or truncated file
        raise CheckpointError(
            f"{weights_path} is not a readable safetensors file ({err}).{_pickle_hint(data)} It should hold "
            "the weights written by save_checkpoint (safetensors format, never a pickle); it may be truncated or "
            "a .pt file renamed. Re-save the checkpoint"
        ) from err
    if sha256(data) != expected:
        raise CheckpointError(
            f"{weights_path.name} does not match its sidecar (sha256 differs): one of the two files was "
            "replaced or a save was interrupted; re-save the checkpoint"
        )
    return {k: v.to(device) for k, v in state_dict.items()}, meta


def _pickle_hint(data: bytes) -> str:
    """A sentence when the bytes start like a torch.save file (zip archive or raw pickle), else ''."""
    head = data[:4]
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return (
            " It starts like a PyTorch pickle (torch.save): such files can run code when opened, so they are "
            "never unpickled here; convert it where you trust it with save_checkpoint(path, model, meta)."
        )
    return ""


def _describe_mismatch(model: nn.Module, state_dict: dict[str, torch.Tensor], limit: int = 5) -> str:
    """'' when the keys and shapes agree, else a short list of missing, unexpected and mis-shaped keys."""
    expected = {k: v.shape for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        f"{k} (file {list(state_dict[k].shape)}, model {list(s)})"
        for k, s in expected.items()
        if k in state_dict and state_dict[k].shape != s
    ]
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", shapes)):
        if keys:
            more = f", ... (+{len(keys) - limit})" if len(keys) > limit else ""
            parts.append(f"{label} ({len(keys)}): {', '.join(keys[:limit])}{more}")
    return "; ".join(parts)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the model named in the sidecar (``meta["model"]``), load its weights strictly; returned in eval mode."""
    state_dict, meta = load_checkpoint(path, device="cpu")
    spec = meta.get("model")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        found = json.dumps(spec)[:200] if "model" in meta else 'no "model" key'
        raise CheckpointError(
            f'sidecar of {path} lacks the model spec: it needs "model": '
            f'{{"name": "se_resnet20", ...options}} (as in model.spec); found {found}'
        )
    from senet_lib.models import create_model  # lazy: the models package imports much more

    options = {k: v for k, v in spec.items() if k != "name"}
    model = create_model(spec["name"], **options)
    problems = _describe_mismatch(model, state_dict)
    if problems:
        raise CheckpointError(
            f"weights in {path} do not fit model {spec['name']!r} built from the sidecar: "
            f"{problems}. Were the sidecar's model options edited, or the weights saved "
            "from another model?"
        )
    model.load_state_dict(state_dict, strict=True)
    return model.to(device).eval()


def save_training_state(path: str | Path, state: dict[str, Any]) -> Path:
    """Write the resume state (tensors, state dicts, plain values) with ``torch.save``, atomically.

    Serialised in memory first, so a full disk is a plain ``OSError`` (ENOSPC), not torch's zip-writer error.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getbuffer()))


def load_training_state(path: str | Path, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Read a state written by :func:`save_training_state` (``weights_only=True``: no code runs on load)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"training state {path} not found; it is written at the end of each epoch, "
            "so this run has not finished one yet (start it without --resume)"
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several kinds for truncated or foreign files
        raise CheckpointError(
            f"training state {path} cannot be read ({type(err).__name__}: {err}); it may be "
            "truncated or not written by save_training_state; restart the run without --resume"
        ) from err


def load_model_from_bytes(
    weights: bytes, sidecar: bytes, name: str = "uploaded", device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """``(model, meta)`` from the contents of a ``.safetensors`` file and its ``.json`` sidecar (e.g. uploads).

    Same checks as :func:`load_model` (safetensors only, sha256 against the sidecar, keys and shapes against
    the model the sidecar names); every problem is a :class:`CheckpointError` naming ``name``.
    """
    stem = Path(name).name.removesuffix(WEIGHTS_SUFFIX).removesuffix(SIDECAR_SUFFIX) or "uploaded"
    with tempfile.TemporaryDirectory(prefix="senet-upload-") as folder:
        path = Path(folder) / stem
        weights_path, sidecar_path = checkpoint_paths(path)
        weights_path.write_bytes(weights)
        sidecar_path.write_bytes(sidecar)
        try:
            return load_model(path, device), read_meta(path)
        except CheckpointError as err:
            raise CheckpointError(str(err).replace(f"{folder}/", "")) from err
        except (TypeError, ValueError) as err:  # create_model: unknown model name or options in the sidecar
            raise CheckpointError(
                f"the sidecar {stem}{SIDECAR_SUFFIX} does not describe a model this library can build: {err}"
            ) from err

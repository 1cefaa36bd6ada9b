"""Checkpoints: safetensors weights + a JSON sidecar, written atomically; and exact-resume training state.

A checkpoint named ``best`` is two files side by side:

* ``best.safetensors`` -- the model's weights (no pickle: safe to open from anywhere);
* ``best.json`` -- everything needed to rebuild and read the model: ``{"model": {"name": ..., **kwargs}}``
  for :func:`senet_lib.models.create_model`, plus whatever else the caller puts in ``meta`` (classes,
  normalisation mean/std, recipe, metrics, data description, class excitation profiles, ...).

Training state (optimizer, scheduler, RNG, loader position) is a separate ``torch.save`` file, read back
with ``weights_only=True`` so that opening it cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
from torch import nn

from senet_lib.files import atomic_write

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

FORMAT_VERSION = 1
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, meta: dict[str, Any]) -> Path:
    """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (``meta``), each atomically; return the weights path.

    ``meta["model"]`` should be ``{"name": ..., **kwargs}`` (e.g. ``model.spec``) so :func:`load_model` can rebuild it.
    """
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict of JSON-able values; got {type(meta).__name__}")
    if "checkpoint" in meta:
        raise ValueError("meta key 'checkpoint' is reserved for the file format record; rename it")
    text = json.dumps(meta, default=_json_default, indent=2)  # fail before touching any file
    weights_path, sidecar_path = checkpoint_paths(path)
    # private copies: contiguous, on the CPU, no storage shared between entries (safetensors refuses sharing)
    tensors = {
        k: v.detach().to("cpu").clone(memory_format=torch.contiguous_format)
        for k, v in model.state_dict().items()
        if isinstance(v, torch.Tensor)
    }
    atomic_write(
        weights_path, lambda tmp: safetensors.torch.save_file(tensors, str(tmp), metadata={"format": "pt"})
    )
    record = {
        "format_version": FORMAT_VERSION,
        "weights_file": weights_path.name,
        "weights_sha256": _sha256(weights_path),
    }
    sidecar = json.dumps({"checkpoint": record, **json.loads(text)}, indent=2)
    atomic_write(sidecar_path, lambda tmp: tmp.write_text(sidecar + "\n"))
    return weights_path


def _read_sidecar(path: str | Path) -> dict[str, Any]:
    """The whole sidecar (format record included), with clear errors when it is missing or not JSON."""
    weights_path, sidecar_path = checkpoint_paths(path)
    if not sidecar_path.is_file():
        raise FileNotFoundError(
            f"checkpoint sidecar {sidecar_path} is missing; it holds the model name and options "
            f'(e.g. {{"model": {{"name": "se_resnet20", "num_classes": 10}}}}) needed to use {weights_path.name}. '
            "Re-save with senet_lib.checkpoint.save_checkpoint, or write that JSON file by hand"
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
    return meta


def read_meta(path: str | Path) -> dict[str, Any]:
    """The sidecar's ``meta`` dict of a checkpoint (cheap: the weights are not read)."""
    meta = _read_sidecar(path)
    meta.pop("checkpoint", None)
    return meta


def update_meta(path: str | Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into a checkpoint's sidecar (atomically; the weights stay untouched); return the new meta."""
    _, sidecar_path = checkpoint_paths(path)
    full = _read_sidecar(path)
    full.update(json.loads(json.dumps(changes, default=_json_default)))
    text = json.dumps(full, indent=2) + "\n"
    atomic_write(sidecar_path, lambda tmp: tmp.write_text(text))
    full.pop("checkpoint", None)
    return full


def _verify_hash(weights_path: Path, sidecar_path: Path, record: Any) -> None:
    """Check that the sidecar was written for these weights (a save interrupted between the two files)."""
    expected = record.get("weights_sha256") if isinstance(record, dict) else None
    if expected and expected != _sha256(weights_path):
        raise CheckpointError(
            f"{weights_path.name} does not match its sidecar {sidecar_path.name} (sha256 differs): "
            "one of the two files was replaced or a save was interrupted; re-save the checkpoint"
        )


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict]:
    """``(state_dict, meta)`` of a checkpoint written by :func:`save_checkpoint` (stem or either file)."""
    weights_path, sidecar_path = checkpoint_paths(path)
    if not weights_path.is_file():
        raise FileNotFoundError(
            f"checkpoint weights {weights_path} not found; pass the checkpoint's stem "
            "(runs/<run>/best), its .safetensors file or its .json sidecar"
        )
    meta = _read_sidecar(weights_path)
    record = meta.pop("checkpoint", None)
    try:
        state_dict = safetensors.torch.load_file(str(weights_path), device=str(device))
    except (safetensors.SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(
            f"{weights_path} is not a readable safetensors file ({err}).{_pickle_hint(weights_path)} It should hold "
            "the weights written by save_checkpoint (safetensors format, never a pickle); it may be truncated or "
            "a .pt file renamed. Re-save the checkpoint"
        ) from err
    _verify_hash(weights_path, sidecar_path, record)
    return state_dict, meta


def _pickle_hint(weights_path: Path) -> str:
    """A sentence when the file starts like a torch.save file (zip archive or raw pickle), else ''."""
    with open(weights_path, "rb") as fh:
        head = fh.read(4)
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
    """Write the resume state (tensors, state dicts, plain values) with ``torch.save``, atomically."""
    return atomic_write(path, lambda tmp: torch.save(state, tmp))


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

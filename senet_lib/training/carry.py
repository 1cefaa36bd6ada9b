"""Carry an unfinished run to another machine through git: pack what ``--resume`` reads, unpack it there.

Background training ends with a working session, and the next session may start on a fresh machine where only
the repository survives. ``pack_run`` copies what an exact resume reads -- ``config.json``, ``metrics.jsonl`` and
the training state ``latest_state.pt`` -- into a folder, the state split into parts of at most ``part_bytes``
(default 4 MiB, small enough to commit), with a manifest (``carried.json``: the state's size, sha256 and epoch).
``unpack_run`` joins the parts back into a run directory, byte for byte, after checking the sha256; the run then
continues with ``python -m senet_lib train --resume RUN_DIR`` exactly as if it had never moved (same machine
kind and software; across them, the same recipe and epochs, with that machine's arithmetic).

    python -m senet_lib carry pack runs/long-se_resnet56 experiments/carried/long-se_resnet56
    python -m senet_lib carry unpack experiments/carried/long-se_resnet56 runs/long-se_resnet56
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path

import torch

from senet_lib.files import atomic_write
from senet_lib.training.config import TrainConfig, recipe_differences
from senet_lib.training.rundir import (
    CONFIG_FILE,
    METRICS_FILE,
    RESULT_FILES,
    STATE_FILE,
    SUMMARY_FILE,
    hold_run_dir,
    read_metrics,
)

__all__ = ["MANIFEST_FILE", "PART_BYTES", "pack_run", "read_carried", "unpack_run"]

MANIFEST_FILE = "carried.json"
PART_BYTES = 4 * 2**20  # 4 MiB: a resnet56 state (weights + momentum, about 7 MB) is two parts


def _part_name(index: int) -> str:
    return f"{STATE_FILE}.part{index:03d}"


def pack_run(run_dir: str | Path, dest: str | Path, part_bytes: int = PART_BYTES) -> dict:
    """Copy the resumable state of the unfinished run in ``run_dir`` into ``dest``; return the manifest.

    Safe while the run trains: the state file is replaced atomically each epoch, so the copy holds one whole
    epoch, and the metrics are cut back to that epoch. Older parts in ``dest`` are replaced.
    """
    run_dir, dest = Path(run_dir), Path(dest)
    if part_bytes <= 0:
        raise ValueError(f"part_bytes must be positive; got {part_bytes}")
    if (run_dir / SUMMARY_FILE).is_file():
        raise ValueError(
            f"{run_dir} holds a finished run (summary.json): there is nothing to resume, so nothing to carry; "
            "ship its final checkpoint instead (experiments/ship_run.sh)"
        )
    state_path = run_dir / STATE_FILE
    if not (run_dir / CONFIG_FILE).is_file() or not state_path.is_file():
        raise FileNotFoundError(
            f"{run_dir} holds no {CONFIG_FILE} and {STATE_FILE}, so no finished epoch to carry; pass the folder "
            "a run trains in (its --run-dir) once it has finished an epoch"
        )
    state = state_path.read_bytes()  # one read: the file is replaced, never rewritten in place
    epoch = int(torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)["epoch"])
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    config["run_dir"] = ""  # where the run lives is the unpacking machine's choice
    metrics = [r for r in read_metrics(run_dir / METRICS_FILE) if r.get("epoch", 0) <= epoch]
    if (dest / MANIFEST_FILE).is_file() and (dest / CONFIG_FILE).is_file():
        before = TrainConfig.from_dict(json.loads((dest / CONFIG_FILE).read_text()))
        if differences := recipe_differences(before, TrainConfig.from_dict(config)):
            raise FileExistsError(
                f"{dest} holds another carried run ({'; '.join(differences[:4])}); nothing was changed. Pack "
                "this one into its own folder (e.g. experiments/carried/<its run directory's name>)"
            )

    parts = [_part_name(i) for i in range(max(1, -(-len(state) // part_bytes)))]
    for i, name in enumerate(parts):
        chunk = state[i * part_bytes : (i + 1) * part_bytes]
        atomic_write(dest / name, lambda tmp, chunk=chunk: tmp.write_bytes(chunk))
    config_text = json.dumps(config, indent=2)
    atomic_write(dest / CONFIG_FILE, lambda tmp: tmp.write_text(config_text))
    metrics_text = "".join(json.dumps(r) + "\n" for r in metrics)
    atomic_write(dest / METRICS_FILE, lambda tmp: tmp.write_text(metrics_text))
    manifest = {
        "model": config.get("model"),
        "epoch": epoch,
        "epochs": config.get("epochs"),
        "state_bytes": len(state),
        "state_sha256": hashlib.sha256(state).hexdigest(),
        "parts": parts,
        "packed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "resume": f"python -m senet_lib carry unpack {dest} RUN_DIR && python -m senet_lib train --resume RUN_DIR",
    }
    manifest_text = json.dumps(manifest, indent=2)
    atomic_write(dest / MANIFEST_FILE, lambda tmp: tmp.write_text(manifest_text + "\n"))  # the commit point
    for stale in dest.glob(f"{STATE_FILE}.part*"):
        if stale.name not in parts:
            stale.unlink()
    return manifest


def read_carried(src: str | Path) -> tuple[dict, bytes]:
    """``(manifest, state bytes)`` of the run packed in ``src``, the parts joined and checked against the manifest.

    A missing manifest or part, or parts that do not join into the state it describes, is a clear error.
    """
    src = Path(src)
    manifest_path = src / MANIFEST_FILE
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{src} holds no {MANIFEST_FILE}, so it is not a carried run; pass a folder written by "
            "`python -m senet_lib carry pack`"
        )
    manifest = json.loads(manifest_path.read_text())
    missing = [name for name in manifest["parts"] if not (src / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{src} lacks {', '.join(missing)} of the carried training state; check it out again "
            f"(git checkout -- {src}) or pack the run again"
        )
    state = b"".join((src / name).read_bytes() for name in manifest["parts"])
    if len(state) != manifest["state_bytes"] or hashlib.sha256(state).hexdigest() != manifest["state_sha256"]:
        raise ValueError(
            f"the parts in {src} do not join into the state {MANIFEST_FILE} describes (size or sha256 differs): "
            "a part was edited or comes from another packing; pack the run again from its run directory"
        )
    return manifest, state


def unpack_run(src: str | Path, run_dir: str | Path) -> dict:
    """Rebuild the run packed in ``src`` in ``run_dir`` (new, or holding nothing to lose); return the manifest."""
    src, run_dir = Path(src), Path(run_dir)
    manifest, state = read_carried(src)
    with hold_run_dir(run_dir):
        held = [name for name in RESULT_FILES if (run_dir / name).exists()]
        if held:
            raise FileExistsError(
                f"{run_dir} already holds a run ({', '.join(held)}); nothing was changed. If it is this run, "
                f"resume it there (python -m senet_lib train --resume {run_dir}); else unpack into another folder"
            )
        for name in (CONFIG_FILE, METRICS_FILE):
            text = (src / name).read_text()
            atomic_write(run_dir / name, lambda tmp, text=text: tmp.write_text(text))
        atomic_write(run_dir / STATE_FILE, lambda tmp: tmp.write_bytes(state))  # last: resumable from here on
    return manifest

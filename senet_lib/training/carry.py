"""Carry runs to another machine through git: pack what ``--resume`` and the grid tables read, unpack it there.

Background training ends with a working session, and the next session may start on a fresh machine where only
the repository survives. ``pack_run`` copies what an exact resume reads -- ``config.json``, ``metrics.jsonl``,
``runtime.jsonl`` (where each epoch ran) and the training state ``latest_state.pt`` -- into a folder, the state
split into parts of at most ``part_bytes`` (default 4 MiB, small enough to commit), with a manifest (``carried.json``: the state's size, sha256 and epoch).
``unpack_run`` joins the parts back into a run directory, byte for byte, after checking the sha256; the run then
continues with ``python -m senet_lib train --resume RUN_DIR`` exactly as if it had never moved (same machine
kind and software; across them, the same recipe and epochs, with that machine's arithmetic). A finished run
packs its results only (``config.json``, ``metrics.jsonl``, ``summary.json``: a few kB), which is what a grid
needs to tabulate it without training it again; ``pack_runs`` / ``unpack_runs`` do a whole grid's folder.

    python -m senet_lib carry pack runs/ship-se_resnet56 experiments/carried/ship-se_resnet56
    python -m senet_lib carry unpack experiments/carried/ship-se_resnet56 runs/ship-se_resnet56
    python -m senet_lib carry pack experiments/runs/se_vs_plain experiments/carried/se_vs_plain   # every run
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
    read_summary,
)
from senet_lib.training.segments import RUNTIME_FILE, read_lines

__all__ = [
    "MANIFEST_FILE",
    "PART_BYTES",
    "pack_run",
    "pack_runs",
    "read_carried",
    "unpack_run",
    "unpack_runs",
]

MANIFEST_FILE = "carried.json"
PART_BYTES = 4 * 2**20  # 4 MiB: a resnet56 state (weights + momentum, about 7 MB) is two parts


def _part_name(index: int) -> str:
    return f"{STATE_FILE}.part{index:03d}"


def pack_run(run_dir: str | Path, dest: str | Path, part_bytes: int = PART_BYTES) -> dict:
    """Copy what the run in ``run_dir`` needs on another machine into ``dest``; return the manifest.

    Unfinished: the training state in parts, to resume it. Finished: its results, to tabulate it. Safe while the
    run trains: the state file is replaced atomically each epoch, so the copy holds one whole epoch, and the
    metrics are cut back to that epoch. Older parts in ``dest`` are replaced; another run's folder is refused.
    """
    run_dir, dest = Path(run_dir), Path(dest)
    if part_bytes <= 0:
        raise ValueError(f"part_bytes must be positive; got {part_bytes}")
    summary = read_summary(run_dir)
    state_path = run_dir / STATE_FILE
    if not (run_dir / CONFIG_FILE).is_file() or (summary is None and not state_path.is_file()):
        raise FileNotFoundError(
            f"{run_dir} holds no {CONFIG_FILE} and {STATE_FILE}, so no finished epoch to carry; pass the folder "
            "a run trains in (its --run-dir) once it has finished an epoch"
        )
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    config["run_dir"] = ""  # where the run lives is the unpacking machine's choice
    if summary is None:
        state = state_path.read_bytes()  # one read: the file is replaced, never rewritten in place
        epoch = int(torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)["epoch"])
    else:
        state, epoch = b"", int(summary["epochs"])
    metrics = [r for r in read_metrics(run_dir / METRICS_FILE) if r.get("epoch", 0) <= epoch]
    if (dest / MANIFEST_FILE).is_file() and (dest / CONFIG_FILE).is_file():
        before = TrainConfig.from_dict(json.loads((dest / CONFIG_FILE).read_text()))
        if differences := recipe_differences(before, TrainConfig.from_dict(config)):
            raise FileExistsError(
                f"{dest} holds another carried run ({'; '.join(differences[:4])}); nothing was changed. Pack "
                "this one into its own folder (e.g. experiments/carried/<its run directory's name>)"
            )

    parts = [_part_name(i) for i in range(-(-len(state) // part_bytes))]
    for i, name in enumerate(parts):
        chunk = state[i * part_bytes : (i + 1) * part_bytes]
        atomic_write(dest / name, lambda tmp, chunk=chunk: tmp.write_bytes(chunk))
    texts = {
        CONFIG_FILE: json.dumps(config, indent=2),
        METRICS_FILE: "".join(json.dumps(r) + "\n" for r in metrics),
    }
    if summary is not None:
        texts[SUMMARY_FILE] = json.dumps({**summary, "run_dir": ""}, indent=2)
    if segments := read_lines(run_dir, up_to_epoch=epoch):  # where each epoch ran (runs since 2026-12)
        texts[RUNTIME_FILE] = "".join(json.dumps(line) + "\n" for line in segments)
    for name, text in texts.items():
        atomic_write(dest / name, lambda tmp, text=text: tmp.write_text(text))
    manifest = {
        "model": config.get("model"),
        "epoch": epoch,
        "epochs": config.get("epochs"),
        "finished": summary is not None,
        "state_bytes": len(state),
        "state_sha256": hashlib.sha256(state).hexdigest(),
        "parts": parts,
        "packed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    manifest_text = json.dumps(manifest, indent=2)
    atomic_write(dest / MANIFEST_FILE, lambda tmp: tmp.write_text(manifest_text + "\n"))  # the commit point
    for stale in dest.glob(f"{STATE_FILE}.part*"):
        if stale.name not in parts:
            stale.unlink()
    if summary is None:
        (dest / SUMMARY_FILE).unlink(missing_ok=True)
    if RUNTIME_FILE not in texts:
        (dest / RUNTIME_FILE).unlink(missing_ok=True)
    return manifest


def pack_runs(root: str | Path, dest: str | Path, part_bytes: int = PART_BYTES) -> dict[str, dict | None]:
    """Pack every run folder under ``root`` (a grid's runs) into ``dest/<its name>``; ``name -> manifest``, or
    None for a run that has not finished an epoch yet (nothing to carry)."""
    runs = (
        sorted(p for p in Path(root).iterdir() if (p / CONFIG_FILE).is_file()) if Path(root).is_dir() else []
    )
    if not runs:
        raise FileNotFoundError(
            f"{root} holds no run folder (a folder with {CONFIG_FILE}); nothing was packed"
        )
    packed = {}
    for run in runs:
        has_epoch = (run / STATE_FILE).is_file() or (run / SUMMARY_FILE).is_file()
        packed[run.name] = pack_run(run, Path(dest) / run.name, part_bytes) if has_epoch else None
    return packed


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
        for name in (CONFIG_FILE, METRICS_FILE, RUNTIME_FILE):
            if name == RUNTIME_FILE and not (src / name).is_file():
                continue  # packed before runs recorded where each epoch ran
            text = (src / name).read_text()
            atomic_write(run_dir / name, lambda tmp, text=text: tmp.write_text(text))
        if manifest["finished"]:  # last: the run counts as finished (or resumable) from here on
            text = json.dumps(
                {**json.loads((src / SUMMARY_FILE).read_text()), "run_dir": str(run_dir)}, indent=2
            )
            atomic_write(run_dir / SUMMARY_FILE, lambda tmp: tmp.write_text(text))
        else:
            atomic_write(run_dir / STATE_FILE, lambda tmp: tmp.write_bytes(state))
    return manifest


def unpack_runs(src: str | Path, root: str | Path) -> dict[str, dict | None]:
    """Unpack every carried run in ``src/<name>`` into ``root/<name>``; ``name -> manifest``, or None where
    ``root/<name>`` already holds a run (this machine kept it: it is left as it is)."""
    carried = sorted(p.parent for p in Path(src).glob(f"*/{MANIFEST_FILE}"))
    if not carried:
        raise FileNotFoundError(
            f"{src} holds no carried run (a folder with {MANIFEST_FILE}); pass a folder written by "
            "`python -m senet_lib carry pack`"
        )
    unpacked = {}
    for folder in carried:
        target = Path(root) / folder.name
        kept = any((target / name).exists() for name in RESULT_FILES)
        unpacked[folder.name] = None if kept else unpack_run(folder, target)
    return unpacked

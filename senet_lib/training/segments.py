"""Where each epoch of a run was computed: one line per training process, kept in the run directory.

A long run may cross machines (``carry``): its first epochs in fp32 on one CPU, the rest in bf16 on another.
``runtime.jsonl`` holds one line per process that trained in the run -- the first epoch it trained and its
runtime (device, precision, threads, torch) -- so that the summary, the checkpoint's sidecar and the grid tables
say which epochs ran where, instead of naming only the machine that finished the run.
"""

from __future__ import annotations

import json
import time
from itertools import groupby
from pathlib import Path

from senet_lib.files import atomic_write

__all__ = ["RUNTIME_FILE", "UNRECORDED", "describe", "read_lines", "run_segments", "start_segment"]

RUNTIME_FILE = "runtime.jsonl"
#: The device of epochs trained before runs recorded their runtime (no line says where they ran).
UNRECORDED = "unrecorded"


def read_lines(run_dir: Path, up_to_epoch: int | None = None) -> list[dict]:
    """The lines of ``runtime.jsonl`` ([] without one), those that began after ``up_to_epoch`` left out."""
    path = Path(run_dir) / RUNTIME_FILE
    lines = (
        [json.loads(text) for text in path.read_text().splitlines() if text.strip()] if path.is_file() else []
    )
    return [line for line in lines if up_to_epoch is None or line["first_epoch"] <= up_to_epoch]


def start_segment(run_dir: Path, first_epoch: int, runtime: dict) -> None:
    """Record that this process trains from epoch ``first_epoch`` (1-based) with ``runtime``.

    Lines of processes that began at or after that epoch go: the run was cut back, so none of their epochs is kept.
    """
    kept = read_lines(run_dir, up_to_epoch=first_epoch - 1)
    kept.append(
        {
            "first_epoch": first_epoch,
            **runtime,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    text = "".join(json.dumps(line, allow_nan=False) + "\n" for line in kept)
    atomic_write(Path(run_dir) / RUNTIME_FILE, lambda tmp: tmp.write_text(text))


def run_segments(run_dir: Path, last_epoch: int) -> list[dict]:
    """The recorded processes that trained epochs 1..``last_epoch``, each with ``epochs: [first, last]``.

    Epochs before the first recorded line (a run begun before runs recorded this) form a segment whose device is
    :data:`UNRECORDED`.
    """
    lines = read_lines(run_dir, up_to_epoch=last_epoch)
    if not lines or lines[0]["first_epoch"] > 1:
        lines.insert(0, {"first_epoch": 1, "device": UNRECORDED})
    ends = [line["first_epoch"] - 1 for line in lines[1:]] + [last_epoch]
    return [
        {"epochs": [line["first_epoch"], end], **{k: v for k, v in line.items() if k != "first_epoch"}}
        for line, end in zip(lines, ends)
        if end >= line["first_epoch"]
    ]


def describe(segments: list[dict], key: str):
    """One value of ``key`` when every segment agrees (``fp32``), else each with its epochs
    (``fp32 (epochs 1-21), bf16 (epochs 22-150)``); consecutive segments that agree read as one."""

    def value(segment: dict):
        return segment.get(key, UNRECORDED)

    spans = [list(group) for _, group in groupby(segments, key=lambda segment: json.dumps(value(segment)))]
    if len(spans) <= 1:  # an older summary's one runtime has no epochs: never read
        return value(spans[0][0]) if spans else None
    return ", ".join(f"{value(s[0])} (epochs {s[0]['epochs'][0]}-{s[-1]['epochs'][1]})" for s in spans)

"""Where the arithmetic runs: the device, its number format (bf16 or fp32) and the CPU's bf16 units.

bf16 autocast pays on GPUs and on CPUs with bf16 instructions (Intel AMX-BF16, AVX-512-BF16 on Intel
Cooper Lake+ and AMD Zen 4+); elsewhere it is slower than fp32 or fails, so ``precision="auto"`` detects
the units and never assumes them. Under autocast the convolutions and linear layers run in bf16; the loss,
the BatchNorm running statistics and the weights stay fp32.
"""

from __future__ import annotations

import platform
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from pathlib import Path

import torch

__all__ = [
    "DEVICES",
    "EXECUTION_FIELDS",
    "MACHINE_FIELDS",
    "PRECISIONS",
    "autocast",
    "cpu_bf16_units",
    "cpu_name",
    "device_name",
    "resolve_device",
    "resolve_precision",
]

DEVICES = ("auto", "cpu", "cuda", "mps")
#: ``auto``: bf16 where the hardware computes it natively, else fp32; ``bf16`` / ``fp32`` force one.
PRECISIONS = ("auto", "bf16", "fp32")
#: Run settings that say where this machine keeps things, how many CPU threads it gives the run and how it
#: reports, not what is trained: left out of recipes (and their ids), and free to change on --resume (bit-for-bit
#: equality with an uninterrupted run holds for the same number of threads: another one may sum in another order).
MACHINE_FIELDS = ("data_dir", "run_dir", "progress", "threads")
#: Run settings that say how the arithmetic was carried out (which device, how batches were fed, compiled or
#: not), not what was trained: two runs that differ only here are the same experiment.
EXECUTION_FIELDS = ("device", "loader", "num_workers", "compile")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> cuda if available, else mps, else cpu; a named device that is not there is a clear error."""
    if name.split(":")[0] not in DEVICES:
        raise ValueError(
            f"device must be one of {DEVICES} (optionally with an index, e.g. cuda:1); got {name!r}"
        )
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU; use --device cpu or auto")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            "device 'mps' was asked for but this machine has no Apple GPU; use --device cpu or auto"
        )
    return torch.device(name)


def _cpuinfo_flags() -> set[str]:
    """The CPU feature flags of /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@lru_cache(maxsize=1)
def cpu_bf16_units() -> tuple[str, ...]:
    """The CPU's native bf16 units: ``("AMX-BF16", "AVX512-BF16")``, one of them, or ``()``.

    Asks torch's own CPU probes when it has them (the ones oneDNN uses), else the Linux CPU flags.
    """
    probes = {"AMX-BF16": "_is_amx_tile_supported", "AVX512-BF16": "_is_avx512_bf16_supported"}
    found = []
    for unit, probe in probes.items():
        check = getattr(torch.cpu, probe, None)
        if check is not None:
            supported = bool(check())
        else:
            supported = {"AMX-BF16": "amx_bf16", "AVX512-BF16": "avx512_bf16"}[unit] in _cpuinfo_flags()
        if supported:
            found.append(unit)
    return tuple(found)


@lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU's model name ('Intel(R) Xeon(R) Platinum 8480+', 'AMD EPYC', ...), for benchmark records."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_name(device: torch.device) -> str:
    """A human name of the device for results files: the GPU's or the CPU's model name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (mps)"
    return cpu_name()


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype for ``precision`` on ``device``: ``torch.bfloat16`` or ``torch.float32``.

    ``auto`` picks bf16 on CUDA GPUs that support it and on CPUs with bf16 units (:func:`cpu_bf16_units`),
    fp32 elsewhere (MPS included). ``bf16`` forces it; on a CPU without the units that is legal but slow.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        if device.type == "mps":
            raise ValueError("bf16 autocast is not supported on mps here; use --precision fp32 (or auto)")
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu":
        return torch.bfloat16 if cpu_bf16_units() else torch.float32
    return torch.float32


def autocast(device: torch.device, dtype: torch.dtype) -> AbstractContextManager:
    """``torch.autocast`` in ``dtype`` on ``device`` for bf16; a no-op context for fp32."""
    if dtype == torch.float32:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)

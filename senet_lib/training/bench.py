"""Training-throughput benchmarks: the textbook path vs the fast path, and the SE overhead.

    python -m senet_lib bench --plain resnet20 --se se_resnet20 --out experiments/results/bench-cpu.json

* textbook: ``DataLoader`` + ``torchvision.transforms.v2`` on the CPU, fp32, contiguous tensors, eager;
* fast: the whole split as uint8 on the device (:class:`~senet_lib.data.DeviceLoader`), bf16 autocast where the
  hardware computes bf16 (:func:`~senet_lib.runtime.resolve_precision`), channels_last; eager, then compiled.

SE overhead = median over interleaved repeats of (SE step time / plain step time) - 1 on a fixed batch, on the
fast path, eager and compiled. Prints a table and returns JSON; timings are measured, never assumed.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from senet_lib.data import DeviceLoader, TensorSplit, TextbookLoader
from senet_lib.models import create_model
from senet_lib.runtime import autocast, cpu_bf16_units, device_name, resolve_device, resolve_precision

__all__ = [
    "Stepper",
    "format_bench_table",
    "images_per_second",
    "random_split",
    "run_benchmark",
    "step_seconds",
]

MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)


def random_split(n: int, size: int = 32, num_classes: int = 10, seed: int = 0) -> TensorSplit:
    """n random uint8 images (n, 3, size, size): pipeline speed does not depend on the pixels."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    return TensorSplit(images, torch.randint(0, num_classes, (n,), generator=g))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stepper:
    """One model + optimizer doing SGD steps the way the training loop does, in a given number format."""

    def __init__(
        self,
        name: str,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        channels_last: bool = False,
        compile: bool = False,
    ):
        torch.manual_seed(0)
        self.model = create_model(name, num_classes=10).to(device)
        self.device, self.dtype, self.channels_last = device, dtype, channels_last
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.step_model = torch.compile(self.model) if compile else self.model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)

    def step(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        images, labels = images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, self.dtype):
            loss = F.cross_entropy(self.step_model(images).float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def images_per_second(stepper: Stepper, loader, steps: int, warmup: int) -> float:
    """Images/s over ``steps`` training steps fed by ``loader`` (after ``warmup`` steps)."""
    batches, done, seen, start = iter(()), 0, 0, 0.0
    while done < warmup + steps:
        try:
            images, labels = next(batches)
        except StopIteration:
            batches = iter(loader)
            continue
        if done == warmup:
            sync(stepper.device)
            start, seen = time.perf_counter(), 0
        stepper.step(images, labels)
        seen += labels.shape[0]
        done += 1
    sync(stepper.device)
    return seen / (time.perf_counter() - start)


def step_seconds(stepper: Stepper, images, labels, steps: int) -> float:
    """Mean seconds of one training step on a fixed batch already on the device."""
    sync(stepper.device)
    start = time.perf_counter()
    for _ in range(steps):
        stepper.step(images, labels)
    sync(stepper.device)
    return (time.perf_counter() - start) / steps


def se_overhead(
    plain: str,
    se: str,
    device: torch.device,
    dtype: torch.dtype,
    compile: bool,
    batch,
    steps: int,
    warmup: int,
    repeats: int,
) -> dict:
    """Step times (ms) of ``plain`` and ``se`` on one batch, interleaved ``repeats`` times; the median ratio."""
    steppers = {
        name: Stepper(name, device, dtype, channels_last=True, compile=compile) for name in (plain, se)
    }
    images, labels = batch
    for stepper in steppers.values():
        step_seconds(stepper, images, labels, warmup)
    times: dict[str, list[float]] = {plain: [], se: []}
    for _ in range(repeats):
        for name, stepper in steppers.items():
            times[name].append(step_seconds(stepper, images, labels, steps))
    ratios = [s / p for s, p in zip(times[se], times[plain])]
    return {
        "step_ms": {name: [1e3 * t for t in ts] for name, ts in times.items()},
        "ratios": ratios,
        "overhead": statistics.median(ratios) - 1,
    }


def run_benchmark(
    plain: str = "resnet20",
    se: str = "se_resnet20",
    device: str = "auto",
    precision: str = "auto",
    batch_size: int = 128,
    steps: int = 10,
    warmup: int = 3,
    repeats: int = 5,
    compile: bool = True,
    num_workers: int = 2,
    dataset_size: int = 0,
) -> dict:
    """Measure the textbook and fast paths on the SE model and the SE overhead on the fast path; a JSON-able dict."""
    for name, value, low in (
        ("batch_size", batch_size, 1),
        ("steps", steps, 1),
        ("warmup", warmup, 0),
        ("repeats", repeats, 1),
        ("num_workers", num_workers, 0),
    ):
        if value < low:
            raise ValueError(f"bench: {name} must be >= {low}; got {value}")
    dev = resolve_device(device)
    dtype = resolve_precision(precision, dev)
    split = random_split(dataset_size or batch_size * (steps + warmup))
    textbook = TextbookLoader(
        split,
        batch_size,
        mean=MEAN,
        std=STD,
        train=True,
        num_workers=num_workers,
        pin_memory=dev.type == "cuda",
    )
    fast = DeviceLoader(split, batch_size, dev, mean=MEAN, std=STD, train=True)
    modes = {"eager": False, **({"compiled": True} if compile else {})}
    paths = {"textbook": images_per_second(Stepper(se, dev), textbook, steps, warmup)}
    for mode, compiled in modes.items():
        stepper = Stepper(se, dev, dtype, channels_last=True, compile=compiled)
        paths[f"fast_{mode}"] = images_per_second(stepper, fast, steps, warmup)
    batch = next(iter(fast))
    overhead = {
        mode: se_overhead(plain, se, dev, dtype, compiled, batch, steps, warmup, repeats)
        for mode, compiled in modes.items()
    }
    best_fast = max(v for k, v in paths.items() if k.startswith("fast"))
    return {
        "device": device_name(dev),
        "device_type": dev.type,
        "cpu_bf16_units": list(cpu_bf16_units()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "precision": "bf16" if dtype == torch.bfloat16 else "fp32",
        "channels_last": True,
        "plain": plain,
        "se": se,
        "batch_size": batch_size,
        "steps": steps,
        "warmup": warmup,
        "repeats": repeats,
        "num_workers": num_workers,
        "images_per_s": paths,
        "fast_over_textbook": best_fast / paths["textbook"],
        "se_overhead": overhead,
    }


def format_bench_table(result: dict) -> str:
    """The benchmark as an aligned two-column table."""
    r, ips = result, result["images_per_s"]
    units = f", bf16 units: {', '.join(r['cpu_bf16_units']) or 'none'}" if r["device_type"] == "cpu" else ""
    rows = [
        ("device", f"{r['device']} ({r['device_type']}, torch {r['torch']}, {r['threads']} threads{units})"),
        (
            f"textbook path ({r['se']}, fp32, DataLoader, {r['num_workers']} workers)",
            f"{ips['textbook']:.0f} img/s",
        ),
    ]
    for mode in ("eager", "compiled"):
        if f"fast_{mode}" in ips:
            rows.append(
                (
                    f"fast path ({r['se']}, device-resident, {r['precision']}, channels_last, {mode})",
                    f"{ips[f'fast_{mode}']:.0f} img/s",
                )
            )
    rows.append(("fast / textbook (best fast path)", f"{r['fast_over_textbook']:.2f}x"))
    for mode, o in r["se_overhead"].items():
        plain_ms, se_ms = (statistics.median(o["step_ms"][name]) for name in (r["plain"], r["se"]))
        rows.append(
            (
                f"step time, fast path {mode}: {r['plain']} / {r['se']} (median)",
                f"{plain_ms:.1f} / {se_ms:.1f} ms",
            )
        )
        rows.append((f"SE overhead, fast path {mode} (median ratio - 1)", f"{100 * o['overhead']:+.1f}%"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

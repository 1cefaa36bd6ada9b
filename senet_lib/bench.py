"""Training-throughput benchmarks: the textbook path vs the fast path, and the SE overhead.

    python -m senet_lib.bench --plain resnet56 --se se_resnet56 --device cuda --compile --out bench.json

(a) textbook: DataLoader + torchvision.transforms.v2 on the CPU, fp32, images copied to the device per batch;
(b) fast: the whole split as uint8 on the device (DeviceLoader), bf16 autocast on CUDA, channels_last,
    optionally torch.compile. SE overhead = median over interleaved repeats of step time with SE / without SE.
Prints a table and writes JSON; timings are measured, never assumed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F

from senet_lib.data import DeviceLoader, TensorSplit, TextbookLoader
from senet_lib.models import create_model
from senet_lib.train import resolve_device

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
    """One model + optimizer doing SGD steps the way the training loop does."""

    def __init__(self, name: str, device: torch.device, fast: bool, compile: bool):
        self.model = create_model(name, num_classes=10).to(device)
        self.fast, self.device = fast, device
        if fast:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.step_model = torch.compile(self.model) if compile else self.model
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        use_bf16 = fast and device.type == "cuda"
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else nullcontext

    def step(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        images, labels = images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)
        if self.fast:
            images = images.contiguous(memory_format=torch.channels_last)
        with self.autocast():
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


def run_benchmark(plain: str, se: str, device: str = "auto", batch_size: int = 128, steps: int = 20,
                  warmup: int = 3, repeats: int = 5, compile: bool = False, num_workers: int = 2,
                  dataset_size: int = 0) -> dict:
    """Measure both paths for the SE model and the SE overhead on the fast path; return a JSON-able dict."""
    dev = resolve_device(device)
    split = random_split(dataset_size or batch_size * (steps + warmup))
    textbook = TextbookLoader(split, batch_size, mean=MEAN, std=STD, train=True, num_workers=num_workers,
                              pin_memory=dev.type == "cuda")
    fast = DeviceLoader(split, batch_size, dev, mean=MEAN, std=STD, train=True)
    paths = {
        "textbook": images_per_second(Stepper(se, dev, fast=False, compile=False), textbook, steps, warmup),
        "fast": images_per_second(Stepper(se, dev, fast=True, compile=compile), fast, steps, warmup),
    }
    # SE overhead: same fixed batch, fast path, plain and SE steps interleaved, median of the ratios
    steppers = {name: Stepper(name, dev, fast=True, compile=compile) for name in (plain, se)}
    images, labels = next(iter(fast))
    for stepper in steppers.values():
        step_seconds(stepper, images, labels, warmup)
    times: dict[str, list[float]] = {plain: [], se: []}
    for _ in range(repeats):
        for name, stepper in steppers.items():
            times[name].append(step_seconds(stepper, images, labels, steps))
    ratios = [s / p for s, p in zip(times[se], times[plain])]
    return {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "device_type": dev.type, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "plain": plain, "se": se, "batch_size": batch_size, "steps": steps, "repeats": repeats,
        "compile": compile, "bf16": dev.type == "cuda", "num_workers": num_workers,
        "images_per_s": paths, "fast_over_textbook": paths["fast"] / paths["textbook"],
        "step_ms": {name: [1e3 * t for t in ts] for name, ts in times.items()},
        "se_overhead_ratio_median": statistics.median(ratios), "se_overhead_ratios": ratios,
    }


def format_table(result: dict) -> str:
    r = result
    rows = [
        ("device", f"{r['device']} ({r['device_type']}, torch {r['torch']}, {r['threads']} threads)"),
        (f"textbook path ({r['se']}, fp32, DataLoader)", f"{r['images_per_s']['textbook']:.0f} img/s"),
        (f"fast path ({r['se']}, device-resident{', bf16' if r['bf16'] else ''}, channels_last"
         f"{', compiled' if r['compile'] else ''})", f"{r['images_per_s']['fast']:.0f} img/s"),
        ("fast / textbook", f"{r['fast_over_textbook']:.2f}x"),
        (f"step time {r['plain']} (median)", f"{statistics.median(r['step_ms'][r['plain']]):.2f} ms"),
        (f"step time {r['se']} (median)", f"{statistics.median(r['step_ms'][r['se']]):.2f} ms"),
        ("SE overhead (median ratio - 1)", f"{100 * (r['se_overhead_ratio_median'] - 1):+.1f}%"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plain", default="resnet20")
    parser.add_argument("--se", default="se_resnet20")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--out", help="write the result as JSON here")


def run(args: argparse.Namespace) -> int:
    result = run_benchmark(args.plain, args.se, args.device, args.batch_size, args.steps, args.warmup,
                           args.repeats, args.compile, args.num_workers)
    print(format_table(result))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))
        print(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m senet_lib.bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

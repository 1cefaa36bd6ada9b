"""How long the dashboard's model work takes per image, from the uploaded bytes to the excitation figures.

    python -m senet_lib latency [--checkpoint data/checkpoints/se_resnet20] [--images data/samples] [-n 30]

Per image: decode the file (:func:`senet_lib.analysis.images.decode_image`), resize and normalise, one forward pass
recording every SE layer's excitation, then build the Excitations page's plotly figures (layers x channels
heatmap, image vs class profiles, the per-layer probes' classes) and serialise them to JSON as the app sends them.
Prints the median per stage and the median and 90th percentile of the total. A benchmark, not a test.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from senet_lib.analysis.figures import excitation_heatmap, excitation_vs_profiles, probe_heatmap
from senet_lib.analysis.images import decode_image, to_model_input
from senet_lib.analysis.inspection import LoadedModel, inspect
from senet_lib.analysis.probe import probe_probabilities
from senet_lib.runtime import resolve_device

__all__ = ["STAGES", "TARGET_MS", "excitation_figures", "format_latency", "measure", "time_checkpoint"]

TARGET_MS = 150.0  # per image on CPU for the shipped CIFAR model (the dashboard issue's target)
STAGES = ("decode", "preprocess", "forward + record", "figures")


def excitation_figures(loaded: LoadedModel, result, image_label: str = "this image") -> list:
    """The Excitations page's figures for one inspected image (the last SE layer for the profile view)."""
    figures = [excitation_heatmap(result.excitations)]
    if loaded.profiles:
        layer = list(result.excitations)[-1]
        figures.append(
            excitation_vs_profiles(
                result.excitations[layer],
                loaded.profiles[layer].means,
                loaded.classes,
                [result.predicted],
                layer,
                image_label,
            )
        )
    if loaded.probes:
        layers, probabilities = probe_probabilities(result.excitations, loaded.probes)
        figures.append(probe_heatmap(probabilities, layers, loaded.classes, result.predicted))
    return figures


def _now(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def measure(loaded: LoadedModel, files: list[Path], warmup: int = 2) -> list[dict[str, float]]:
    """Seconds per stage for each file (after ``warmup`` untimed images)."""
    timings = []
    for i, path in enumerate(([files[0]] * warmup) + files):
        data = path.read_bytes()  # the upload's bytes: reading the file is not part of the app's work
        t0 = _now(loaded.device)
        decoded = decode_image(data, path.name)
        t1 = _now(loaded.device)
        x = to_model_input(decoded.image, loaded.input_format)
        t2 = _now(loaded.device)
        result = inspect(loaded, x)
        t3 = _now(loaded.device)
        for fig in excitation_figures(loaded, result, path.name):
            fig.to_json()
        t4 = time.perf_counter()
        if i >= warmup:
            timings.append(dict(zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3))))
    return timings


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def format_latency(timings: list[dict[str, float]], label: str, device: torch.device) -> str:
    totals = [sum(t.values()) * 1000 for t in timings]
    lines = [f"{label} on {device} ({torch.get_num_threads()} threads), {len(timings)} images, per image:"]
    for stage in STAGES:
        lines.append(f"  {stage:<18} median {statistics.median(t[stage] for t in timings) * 1000:7.1f} ms")
    median, p90 = statistics.median(totals), _p90(totals)
    verdict = "within" if p90 <= TARGET_MS else "OVER"
    lines.append(
        f"  {'total':<18} median {median:7.1f} ms   p90 {p90:7.1f} ms   "
        f"({verdict} the {TARGET_MS:.0f} ms target)"
    )
    return "\n".join(lines)


def time_checkpoint(
    checkpoint: str | Path, images: Path, n: int = 30, device: str = "cpu", threads: int = 1
) -> str:
    """Time ``n`` images of the folder ``images`` (cycled) through a checkpoint, as the dashboard does; a report.

    ``threads``: torch CPU threads while timing (1, as the dashboard runs; 0 keeps torch's own choice).
    """
    if n < 1:
        raise ValueError(f"the number of images to time must be >= 1; got {n}")
    files = sorted(
        p for p in Path(images).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
    )
    if not files:
        raise FileNotFoundError(
            f"no images (.jpg, .png, .webp) in {images}; pass a folder of images with --images"
        )
    files = [files[i % len(files)] for i in range(n)]
    dev = resolve_device(device)
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        loaded = LoadedModel.from_checkpoint(checkpoint, dev)
        return format_latency(measure(loaded, files), loaded.label, dev)
    finally:
        torch.set_num_threads(previous)

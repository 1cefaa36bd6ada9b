"""What each change to the SE block's implementation did to its cost on the fast path (issue 9).

    python experiments/scripts/se_overhead_variants.py --out experiments/results/se-overhead-variants-cpu.json

Three implementations of the same maths (Eq. 2-4), each timed as SE-ResNet-20 vs ResNet-20 training steps on
the fast path (bf16 autocast where the CPU has bf16 units, channels_last), eager and compiled:

* ``textbook``: squeeze = ``u.mean((2, 3))``, scale = ``u * s`` then ``+ identity`` (two passes);
* ``nhwc_pool``: squeeze over an (N, H*W, C) view of the channels_last map (its backward stays NHWC);
* ``nhwc_pool+fold``: and the scale folded into the residual sum (``addcmul``, one pass): the library's code.

The variants are patched in here, over the library's functions; the library keeps only the last one.
"""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from pathlib import Path

import torch

import senet_lib.models.resnet_cifar as resnet_cifar
import senet_lib.se as se
from senet_lib.data import DeviceLoader
from senet_lib.runtime import cpu_bf16_units, device_name, resolve_device, resolve_precision
from senet_lib.training.bench import MEAN, STD, random_split, se_overhead

LIBRARY_POOL, LIBRARY_FORWARD = se.global_avg_pool, se.SEBlock.forward


def mean_pool(u: torch.Tensor) -> torch.Tensor:
    return u.mean(dim=(2, 3))  # (N, C, H, W) -> (N, C), whatever the layout


def unfolded_forward(self, u, residual=None):
    s = self.excite(self.squeeze(u))
    x = self.scale(u, s)  # one pass to scale ...
    return x if residual is None else x + residual  # ... and another to add the identity


@contextmanager
def variant(name: str):
    pool = LIBRARY_POOL if "nhwc_pool" in name else mean_pool
    forward = LIBRARY_FORWARD if "fold" in name else unfolded_forward
    se.global_avg_pool, resnet_cifar.global_avg_pool, se.SEBlock.forward = pool, pool, forward
    try:
        yield
    finally:
        se.global_avg_pool, resnet_cifar.global_avg_pool = LIBRARY_POOL, LIBRARY_POOL
        se.SEBlock.forward = LIBRARY_FORWARD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args()
    device = resolve_device("cpu")
    dtype = resolve_precision("auto", device)
    batch = next(
        iter(DeviceLoader(random_split(args.batch_size), args.batch_size, device, mean=MEAN, std=STD))
    )
    result = {
        "device": device_name(device),
        "cpu_bf16_units": list(cpu_bf16_units()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "precision": str(dtype),
        "batch_size": args.batch_size,
        "steps": args.steps,
        "repeats": args.repeats,
        "variants": {},
    }
    for name in ("textbook", "nhwc_pool", "nhwc_pool+fold"):
        for mode, compiled in (("eager", False), ("compiled", True)):
            torch._dynamo.reset()  # recompile under the patched functions
            with variant(name):
                o = se_overhead(
                    "resnet20",
                    "se_resnet20",
                    device,
                    dtype,
                    compiled,
                    batch,
                    args.steps,
                    args.warmup,
                    args.repeats,
                )
            result["variants"][f"{name} ({mode})"] = o
            ms = {k: sorted(v)[len(v) // 2] for k, v in o["step_ms"].items()}
            print(
                f"{name:16s} {mode:9s} resnet20 {ms['resnet20']:7.1f} ms  se_resnet20 {ms['se_resnet20']:7.1f} ms"
                f"  SE overhead {100 * o['overhead']:+5.1f}%",
                flush=True,
            )
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""torchrun / DistributedDataParallel plumbing for the training loop (single process when not launched by torchrun)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")


def setup(device_name: str) -> DistContext:
    """Join the process group when launched by torchrun (nccl on CUDA, gloo on CPU)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistContext()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistContext(rank=rank, world_size=world_size, device=device)


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """DDP-wrap the model when there are several processes (gradients averaged across ranks)."""
    if ctx.world_size == 1:
        return model
    return nn.parallel.DistributedDataParallel(
        model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None
    )


def shard(images: torch.Tensor, labels: torch.Tensor, ctx: DistContext) -> tuple[torch.Tensor, torch.Tensor]:
    """Every rank draws the same global batch; each keeps its contiguous slice. (B, ...) -> (B / world, ...)."""
    if ctx.world_size == 1:
        return images, labels
    if images.shape[0] % ctx.world_size:
        raise ValueError(
            f"global batch {images.shape[0]} does not split over {ctx.world_size} processes; "
            "choose a batch size divisible by the number of processes (drop_last keeps them full)"
        )
    per = images.shape[0] // ctx.world_size
    lo = ctx.rank * per
    return images[lo : lo + per], labels[lo : lo + per]


def reduce_mean(
    loss_sum: torch.Tensor, correct: torch.Tensor, seen: int, ctx: DistContext
) -> tuple[float, float]:
    """Mean loss and accuracy over all ranks' samples of an epoch."""
    totals = torch.stack(
        [
            loss_sum.double(),
            correct.double(),
            torch.tensor(float(seen), dtype=torch.double, device=loss_sum.device),
        ]
    )
    if ctx.world_size > 1:
        dist.all_reduce(totals)
    loss, hits, count = totals.tolist()
    return loss / count, hits / count


def max_weight_difference(model: nn.Module, ctx: DistContext) -> float:
    """Largest absolute difference of any parameter between this rank and rank 0 (0.0 when DDP is in step)."""
    flat = torch.cat([p.detach().double().flatten() for p in model.parameters()])
    reference = flat.clone()
    dist.broadcast(reference, src=0)
    diff = (flat - reference).abs().max()
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    return float(diff)


def teardown(ctx: DistContext) -> None:
    if ctx.world_size > 1 and dist.is_initialized():
        dist.destroy_process_group()

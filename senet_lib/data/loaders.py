"""Two loaders, one augmentation distribution, both resumable mid-epoch from a seeded ``torch.Generator``.

* :class:`TextbookLoader` -- a ``torch.utils.data.Dataset`` + ``transforms.v2`` + a standard ``DataLoader``;
* :class:`DeviceLoader` -- the whole split as uint8 on the device; crop, flip and normalise a batch at a time.

Each epoch draws all of its randomness up front from the generator (order, then augmentation), so the
generator state at the start of an epoch plus the batch position is an exact resume point.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from senet_lib.data.augment import FLIP_P, PADDING, crop_flip, normalize, textbook_transform
from senet_lib.data.splits import TensorSplit

__all__ = ["AugmentedDataset", "DeviceLoader", "TextbookLoader"]


class _EpochCursor:
    """Epoch bookkeeping shared by both loaders: epochs started, batches yielded, the epoch's starting RNG state."""

    def __init__(self, generator: torch.Generator, num_batches: int):
        self.generator = generator
        self.num_batches = num_batches
        self.epoch = 0  # epochs started so far
        self.batch = 0  # batches yielded in the current epoch
        self._epoch_state: torch.Tensor | None = None
        self._resume = False

    def begin(self) -> int:
        """Start (or, after ``load_state_dict``, resume) an epoch; return the first batch to yield."""
        if self._resume:
            self._resume = False
            self.generator.set_state(self._epoch_state)
            return self.batch
        self._epoch_state = self.generator.get_state()
        self.epoch += 1
        self.batch = 0
        return 0

    def state_dict(self) -> dict[str, Any]:
        """Generator state + position: mid-epoch, the epoch's start state and batches done; else the next epoch's."""
        if self._epoch_state is not None and 0 < self.batch < self.num_batches:
            return {"generator": self._epoch_state.clone(), "epoch": self.epoch, "batch": self.batch}
        return {"generator": self.generator.get_state(), "epoch": self.epoch, "batch": 0}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue exactly where ``state`` was taken: the next iteration yields the batches that were still due."""
        generator_state = state["generator"].to("cpu", torch.uint8)
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        if self.batch:
            self._epoch_state, self._resume = generator_state, True
        else:
            self._epoch_state, self._resume = None, False
            self.generator.set_state(generator_state)


class _ResumableLoader:
    """Exact-resume interface of both loaders, kept by their :class:`_EpochCursor` (``self._cursor``)."""

    _cursor: _EpochCursor

    @property
    def epoch(self) -> int:
        return self._cursor.epoch

    def state_dict(self) -> dict[str, Any]:
        return self._cursor.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._cursor.load_state_dict(state)


def _default_generator(generator: torch.Generator | None, seed: int, device: torch.device) -> torch.Generator:
    if generator is None:
        return torch.Generator(device=device).manual_seed(seed)
    if generator.device.type != device.type:
        raise ValueError(
            f"generator lives on {generator.device} but the loader draws on {device}; "
            f"pass torch.Generator(device={str(device)!r}).manual_seed(seed)"
        )
    return generator


class AugmentedDataset(Dataset):
    """``(transform(image), target)`` from a :class:`TensorSplit`; an index ``(i, seed)`` seeds the transform."""

    def __init__(self, split: TensorSplit, transform):
        self.split, self.transform = split, transform

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, item: int | tuple[int, int]) -> tuple[torch.Tensor, int]:
        i, seed = item if isinstance(item, tuple) else (item, None)
        image = self.split.images[i]  # (3, H, W) uint8
        if seed is None:
            return self.transform(image), int(self.split.targets[i])
        with torch.random.fork_rng(devices=[]):  # v2 draws from the global RNG: seed a private copy of it
            torch.manual_seed(seed)
            return self.transform(image), int(self.split.targets[i])


class TextbookLoader(_ResumableLoader):
    """The textbook path: :class:`AugmentedDataset` with ``transforms.v2`` and a standard ``DataLoader`` per epoch.

    The generator draws each epoch's order and one seed per image, so results do not depend on ``num_workers``.
    """

    def __init__(
        self,
        split: TensorSplit,
        batch_size: int,
        *,
        mean: Sequence[float],
        std: Sequence[float],
        train: bool = True,
        generator: torch.Generator | None = None,
        seed: int = 0,
        shuffle: bool | None = None,
        drop_last: bool | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        padding: int = PADDING,
        flip_p: float = FLIP_P,
    ):
        self.split, self.batch_size, self.train = split, batch_size, train
        self.shuffle = train if shuffle is None else shuffle
        self.drop_last = train if drop_last is None else drop_last
        self.num_workers, self.pin_memory = num_workers, pin_memory
        size = split.images.shape[-1]
        self.dataset = AugmentedDataset(split, textbook_transform(train, mean, std, size, padding, flip_p))
        self.generator = _default_generator(generator, seed, torch.device("cpu"))
        self._cursor = _EpochCursor(self.generator, len(self))

    def __len__(self) -> int:
        n = len(self.split)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        start = self._cursor.begin()
        n = len(self.split)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        if self.train:
            seeds = torch.randint(0, 2**62, (n,), generator=self.generator)
            items: list = list(zip(order.tolist(), seeds.tolist()))
        else:
            items = order.tolist()
        loader = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=items[start * self.batch_size :],
            drop_last=self.drop_last,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            generator=torch.Generator().manual_seed(0),
        )  # worker seeds; unused by our transforms
        for b, batch in enumerate(loader, start=start):
            self._cursor.batch = b + 1
            yield batch


class DeviceLoader(_ResumableLoader):
    """The fast path: uint8 images kept on ``device``; each batch is gathered, cropped, flipped, normalised there.

    ``train=False``: no shuffling, no augmentation, every image once (normalise only).
    """

    def __init__(
        self,
        split: TensorSplit,
        batch_size: int,
        device: str | torch.device = "cpu",
        *,
        mean: Sequence[float],
        std: Sequence[float],
        train: bool = True,
        generator: torch.Generator | None = None,
        seed: int = 0,
        shuffle: bool | None = None,
        drop_last: bool | None = None,
        channels_last: bool = False,
        dtype: torch.dtype = torch.float32,
        padding: int = PADDING,
        flip_p: float = FLIP_P,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        self.device = torch.device(device)
        self.images = split.images.to(self.device)  # (N, 3, H, W) uint8, resident for the whole run
        self.targets = split.targets.to(self.device)  # (N,)
        self.batch_size, self.train = batch_size, train
        self.shuffle = train if shuffle is None else shuffle
        self.drop_last = train if drop_last is None else drop_last
        self.mean, self.std = tuple(mean), tuple(std)
        self._mean_std = (
            torch.tensor(self.mean, device=self.device),
            torch.tensor(self.std, device=self.device),
        )
        self.channels_last, self.dtype = channels_last, dtype
        self.padding, self.flip_p = padding, flip_p
        self.generator = _default_generator(generator, seed, self.device)
        self._cursor = _EpochCursor(self.generator, len(self))

    def __len__(self) -> int:
        n = self.images.shape[0]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _draw_epoch(self) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """This epoch's order (N,), crop offsets (N, 2) and flips (N,), in that order from the generator."""
        n, g, dev = self.images.shape[0], self.generator, self.device
        order = torch.randperm(n, generator=g, device=dev) if self.shuffle else torch.arange(n, device=dev)
        if not self.train:
            return order, None, None
        offsets = torch.randint(0, 2 * self.padding + 1, (n, 2), generator=g, device=dev)
        flips = torch.rand(n, generator=g, device=dev) < self.flip_p
        return order, offsets, flips

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        start = self._cursor.begin()
        order, offsets, flips = self._draw_epoch()
        for b in range(start, len(self)):
            at = slice(b * self.batch_size, (b + 1) * self.batch_size)
            index = order[at]
            images = self.images[index]  # (B, 3, H, W) uint8
            if self.train:
                images = crop_flip(images, offsets[at], flips[at], self.padding)
            x = normalize(images, *self._mean_std, self.dtype)  # (B, 3, H, W) float
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            self._cursor.batch = b + 1
            yield x, self.targets[index]

"""ImageFolder directories (and .tar.gz archives of them), decoded once into cached uint8 tensors.

Layout: ``<root>/train/<class>/<image>`` plus optionally ``<root>/val/...`` or ``<root>/test/...``; a root that
holds class folders directly is used as the training set. Decoded tensors are cached under ``<cache_dir>/decoded/``,
keyed by the source, the image size and the list of files, so a rerun loads them instead of decoding again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset
from tqdm.auto import tqdm

from senet_lib.data.splits import DatasetNotFoundError, TensorSplit
from senet_lib.files import atomic_write

__all__ = [
    "ARCHIVE_SUFFIXES",
    "decode_images",
    "extract_archive",
    "find_split_dirs",
    "is_archive",
    "load_folder",
]

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
VAL_NAMES = ("val", "valid", "validation")
_CHUNK = 512  # images per decoding task
CACHE_VERSION = 1  # bump when the decoded format changes, so old caches are ignored


def is_archive(path: str | Path) -> bool:
    """Whether ``path`` names a tar archive (``.tar.gz``, ``.tgz``, ``.tar``)."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def _archive_stem(path: Path) -> str:
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def extract_archive(archive: str | Path, cache_dir: str | Path) -> Path:
    """Extract ``archive`` once into ``<cache_dir>/<archive stem>/`` and return that folder.

    A stamp (path, size, mtime) records which archive was extracted; a different archive of the same name re-extracts.
    """
    archive = Path(archive).expanduser().resolve()
    if not archive.is_file():
        raise DatasetNotFoundError(f"archive {archive} not found")
    target = Path(cache_dir) / _archive_stem(archive)
    stat = archive.stat()
    stamp = {"archive": str(archive), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    marker = target / ".extracted.json"

    def done() -> bool:
        try:
            return json.loads(marker.read_text()) == stamp
        except (OSError, ValueError):  # no marker yet, or a damaged one
            return False

    if done():
        return target
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            safe = (
                {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            )  # no paths outside the folder
            tar.extractall(partial, **safe)
        (partial / marker.name).write_text(json.dumps(stamp))
    except (tarfile.TarError, EOFError, OSError) as err:
        shutil.rmtree(partial, ignore_errors=True)
        raise ValueError(
            f"cannot extract {archive} ({type(err).__name__}: {err}); it should be a tar(.gz) of an "
            "ImageFolder tree (train/<class>/<image>); re-download it or pass the extracted folder"
        ) from err
    if not done():  # another process (e.g. a second torchrun rank) may have finished first: keep its copy
        shutil.rmtree(target, ignore_errors=True)  # a stale extraction of another archive of this name
        try:
            os.replace(partial, target)  # appears complete or not at all
        except OSError:
            if not done():
                raise
    shutil.rmtree(partial, ignore_errors=True)
    return target


def _has_class_dirs(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())


def find_split_dirs(root: str | Path) -> dict[str, Path]:
    """``{"train": ..., ["val": ...], ["test": ...]}`` inside an ImageFolder root (descending one wrapper folder)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFoundError(f"ImageFolder directory {root} not found")
    if not (root / "train").is_dir():
        inner = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if len(inner) == 1 and (inner[0] / "train").is_dir():
            root = inner[0]  # an archive that wraps everything in one top folder
    if not (root / "train").is_dir():
        if not _has_class_dirs(root):
            raise DatasetNotFoundError(
                f"{root} holds no train/ folder and no class folders; expected "
                "<root>/train/<class>/<image> (ImageFolder layout)"
            )
        return {"train": root}
    found = {"train": root / "train"}
    for name in VAL_NAMES:
        if (root / name).is_dir():
            found["val"] = root / name
            break
    if (root / "test").is_dir():
        found["test"] = root / "test"
    return found


def _list_images(folder: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """``([(path, class_index), ...], classes)`` in ImageFolder order (classes and files sorted)."""
    try:
        classes, class_to_idx = find_classes(str(folder))
        samples = make_dataset(str(folder), class_to_idx, extensions=IMG_EXTENSIONS)
    except FileNotFoundError as err:
        raise DatasetNotFoundError(
            f"ImageFolder {folder}: {err}. Every class folder needs at least one image "
            f"with one of the extensions {', '.join(IMG_EXTENSIONS)}"
        ) from err
    return samples, classes


def _fingerprint(folder: Path, samples: list[tuple[str, int]], image_size: int, source_key: str) -> str:
    """A short hash of where the images come from, their relative paths and sizes, and the decode size."""
    digest = hashlib.sha1(f"v{CACHE_VERSION}|{source_key}|{image_size}\n".encode())
    skip = len(str(folder)) + 1  # make_dataset's paths start with '<folder>/'
    for path, target in samples:
        digest.update(f"{path[skip:]}|{target}|{os.path.getsize(path)}\n".encode())
    return digest.hexdigest()[:16]


def _decode_one(path: str, image_size: int) -> np.ndarray:
    """One image file -> RGB uint8 (S, S, 3): shorter side resized to S, then centre-cropped."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if img.size != (image_size, image_size):
            w, h = img.size
            scale = image_size / min(w, h)
            new_w, new_h = max(image_size, round(w * scale)), max(image_size, round(h * scale))
            img = img.resize((new_w, new_h), Image.BILINEAR)  # PIL antialiases when shrinking
            left, top = (new_w - image_size) // 2, (new_h - image_size) // 2
            img = img.crop((left, top, left + image_size, top + image_size))
        return np.array(img)  # a writable copy (H, W, 3)


def decode_images(
    paths: list[str],
    image_size: int = 32,
    progress: bool = True,
    desc: str = "decoding",
    workers: int | None = None,
) -> torch.Tensor:
    """Decode image files into one uint8 tensor (N, 3, S, S), resizing where needed; threads, a tqdm bar.

    ``workers`` threads decode chunks in parallel (PIL releases the GIL); default: up to 8, one per CPU core.
    """
    images = torch.empty(len(paths), 3, image_size, image_size, dtype=torch.uint8)

    def decode_chunk(start: int) -> int:
        chunk = paths[start : start + _CHUNK]
        for i, path in enumerate(chunk, start=start):
            try:
                images[i] = torch.from_numpy(_decode_one(path, image_size)).permute(
                    2, 0, 1
                )  # (S, S, 3) -> (3, S, S)
            except OSError as err:
                raise ValueError(f"cannot decode image {path} ({err}); delete or replace that file") from err
        return len(chunk)

    workers = workers or min(8, os.cpu_count() or 1)
    with (
        tqdm(total=len(paths), desc=desc, unit="img", disable=not progress, mininterval=0.5) as bar,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        for done in pool.map(decode_chunk, range(0, len(paths), _CHUNK)):
            bar.update(done)
    return images


def load_folder(
    folder: str | Path,
    cache_dir: str | Path,
    image_size: int = 32,
    progress: bool = True,
    source_key: str | None = None,
) -> tuple[TensorSplit, list[str]]:
    """One ImageFolder split as a :class:`TensorSplit` plus its classes; decoded once, then read from the cache."""
    folder = Path(folder).resolve()
    samples, classes = _list_images(folder)
    key = _fingerprint(folder, samples, image_size, source_key or str(folder))
    cache = Path(cache_dir) / "decoded" / f"{folder.parent.name}-{folder.name}-{image_size}px-{key}.pt"
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            return TensorSplit(saved["images"], saved["targets"]), list(saved["classes"])
        except Exception:  # a damaged cache file is rebuilt, never trusted
            cache.unlink(missing_ok=True)
    images = decode_images([p for p, _ in samples], image_size, progress, desc=f"decoding {folder.name}/")
    targets = torch.tensor([t for _, t in samples], dtype=torch.int64)
    atomic_write(
        cache,
        lambda tmp: torch.save(
            {"images": images, "targets": targets, "classes": classes, "source": str(folder)}, tmp
        ),
    )
    return TensorSplit(images, targets), classes

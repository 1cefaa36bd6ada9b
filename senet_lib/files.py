"""Writing files so that a crash never leaves half of one: :func:`atomic_write`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "remove_orphan_temp_files"]


TEMP_SUFFIX = ".tmp"  # atomic_write's temporary files: .<name>.<pid>-<random>.tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then move it onto ``path`` in one step.

    Readers see the old file or the new one, never half a file; the temporary file is removed on error.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # like a plain open(): some writers (safetensors) create files 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_orphan_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files that killed :func:`atomic_write` calls left in ``folder``; return them.

    Only call it while no other process writes there (e.g. holding the folder's lock).
    """
    orphans = sorted(Path(folder).glob(f".*.*-*{TEMP_SUFFIX}"))
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans

"""Run the course notebooks top to bottom and keep HTML copies: ``python -m senet_lib course [--quick]``.

Quick mode sets ``SENET_QUICK=1`` (small data, few epochs; what CI runs); full mode is what a course runs on a GPU.
Notebooks execute with their own folder as the working directory, exactly as in Jupyter. The stored
notebooks are never modified: executed copies go to HTML only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from senet_lib.paths import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
HTML_DIR = NOTEBOOK_DIR / "_html"
# Seconds per cell. Seen here: now and then a message between two cells stalls until this limit and then the run
# goes on without error (nbclient 0.10 / ipykernel 6), so the quick limit is kept tight: no quick cell needs 60 s.
CELL_TIMEOUT_S = {"quick": 120, "full": 4 * 3600}


def course_notebooks(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course's notebooks in order: ``NN_name.ipynb``."""
    return sorted(Path(directory).glob("[0-9][0-9]_*.ipynb"))


@contextmanager
def _quick_env(quick: bool) -> Iterator[None]:
    old = os.environ.get("SENET_QUICK")
    os.environ["SENET_QUICK"] = "1" if quick else "0"  # the kernel inherits this process's environment
    try:
        yield
    finally:
        if old is None:
            del os.environ["SENET_QUICK"]
        else:
            os.environ["SENET_QUICK"] = old


def execute(path: str | Path, quick: bool = True):
    """Execute one notebook in a fresh ``python3`` kernel; return (the executed notebook, seconds).

    Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell.
    """
    try:
        import nbclient
        import nbformat
    except ImportError:
        raise ImportError(
            "running notebooks needs the notebooks extra: pip install -e '.[notebooks]'"
        ) from None
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    limit = CELL_TIMEOUT_S["quick" if quick else "full"]
    # `timeout` bounds the start-up kernel_info request, whose reply a fresh kernel sometimes drops (nbclient then
    # waits the whole timeout before going on); each cell gets `limit` seconds.
    client = nbclient.NotebookClient(
        nb,
        timeout=10,
        timeout_func=lambda cell: limit,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    with _quick_env(quick):
        client.execute()
    return nb, time.perf_counter() - start


def write_html(nb, out: str | Path) -> Path:
    """An executed notebook as a standalone HTML page (plotly figures stay interactive)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def run_course(
    paths: list[Path] | None = None, quick: bool = True, out: str | Path = HTML_DIR, report=print
) -> list[str]:
    """Execute notebooks (default: the whole course) and write their HTML copies; return the names that failed.

    Every notebook runs, even after a failure; ``report`` gets one line per notebook.
    """
    paths = [Path(p) for p in paths] if paths else course_notebooks()
    if missing := [str(p) for p in paths if not p.is_file()]:
        raise FileNotFoundError(
            f"no such notebook {missing}; the course is {[p.name for p in course_notebooks()]}"
        )
    failed = []
    for path in paths:
        try:
            nb, seconds = execute(path, quick=quick)
        except Exception as error:  # report every notebook, then fail
            report(
                f"FAILED {path.name}: {str(error).strip().splitlines()[-1] if str(error).strip() else error!r}"
            )
            failed.append(path.name)
            continue
        html = write_html(nb, Path(out) / f"{path.stem}.html")
        report(f"{path.name}: {seconds:6.1f} s ({'quick' if quick else 'full'} mode) -> {html}")
    return failed

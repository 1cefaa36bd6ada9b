"""Run the course notebooks top to bottom and keep HTML copies: ``python -m senet_lib course [--tier quick]``.

The notebooks ship with blank exercises (stubs raising NotImplementedError); by default the runner fills each
exercise cell (metadata ``exercise="<id>"``) with its worked solution from ``notebooks/solutions/<notebook>.py``
(a jupytext percent file, cells with metadata ``solution="<id>"``) before executing, so CI checks the solutions
against their checkers. The tier (quick, laptop, full; see :mod:`senet_lib.course.tiers`) reaches the kernel as
``SENET_TIER``. Notebooks execute with their own folder as the working directory, exactly as in Jupyter, under a
plain ``nbclient.NotebookClient``; the stored notebooks are never modified: executed copies go to HTML only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from senet_lib.course.tiers import TIER_ENV, TIERS
from senet_lib.paths import REPO_ROOT

__all__ = [
    "CELL_TIMEOUT_S",
    "HTML_DIR",
    "NOTEBOOK_DIR",
    "SOLUTIONS_DIR",
    "course_notebooks",
    "execute",
    "exercise_ids",
    "fill_solutions",
    "read_notebook",
    "run_course",
    "solutions_for",
    "tier_environment",
    "write_html",
]

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
HTML_DIR = NOTEBOOK_DIR / "_html"
SOLUTIONS_DIR = NOTEBOOK_DIR / "solutions"
#: Seconds a single cell may run before the runner gives up on it: a safety net, far above any cell of the tier
#: (a quick notebook takes seconds, a laptop one at most 10 minutes). No stall allowance is needed: see
#: senet_lib.course.display for the between-cell stall that once made a tight quick limit necessary.
CELL_TIMEOUT_S = {"quick": 300, "laptop": 1200, "full": 8 * 3600}


def _imports():
    try:
        import jupytext
        import nbclient
        import nbformat
    except ImportError:
        raise ImportError(
            "running notebooks needs the notebooks extra: pip install -e '.[notebooks]'"
        ) from None
    return jupytext, nbclient, nbformat


def course_notebooks(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course's notebooks in order: ``NN_name.ipynb``."""
    return sorted(Path(directory).glob("[0-9][0-9]_*.ipynb"))


def exercise_ids(nb) -> list[str]:
    """The exercise ids of a notebook's cells (metadata ``exercise``), in order."""
    return [c.metadata["exercise"] for c in nb.cells if c.cell_type == "code" and "exercise" in c.metadata]


def solutions_for(path: str | Path) -> dict[str, str]:
    """Exercise id -> worked solution source, from ``notebooks/solutions/<stem>.py`` ({} when there is none)."""
    jupytext, _, _ = _imports()
    file = SOLUTIONS_DIR / f"{Path(path).stem}.py"
    if not file.is_file():
        return {}
    found: dict[str, str] = {}
    for cell in jupytext.read(file).cells:
        if "solution" in cell.metadata:
            if cell.metadata["solution"] in found:
                raise ValueError(f"{file}: two solutions for exercise {cell.metadata['solution']!r}")
            found[cell.metadata["solution"]] = cell.source
    return found


def fill_solutions(nb, path: str | Path):
    """``nb`` with every exercise cell's source replaced by its worked solution (in place; returned)."""
    solutions = solutions_for(path)
    missing = [i for i in exercise_ids(nb) if i not in solutions]
    if missing:
        raise ValueError(
            f"{Path(path).name}: no worked solution for exercise(s) {missing} in {SOLUTIONS_DIR}"
        )
    for cell in nb.cells:
        if cell.cell_type == "code" and "exercise" in cell.metadata:
            cell.source = solutions[cell.metadata["exercise"]]
    return nb


def read_notebook(path: str | Path, solutions: bool = True):
    """A stored notebook, with its exercises solved unless ``solutions`` is False."""
    _, _, nbformat = _imports()
    nb = nbformat.read(Path(path), as_version=4)
    return fill_solutions(nb, path) if solutions else nb


@contextmanager
def tier_environment(tier: str) -> Iterator[None]:
    """Set ``SENET_TIER`` (and clear the older ``SENET_QUICK``) for the kernels started inside."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; choose one of {TIERS}")
    old = {k: os.environ.get(k) for k in (TIER_ENV, "SENET_QUICK")}
    os.environ[TIER_ENV] = tier  # the kernel inherits this process's environment
    os.environ.pop("SENET_QUICK", None)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path: str | Path, tier: str = "quick", solutions: bool = True):
    """Execute one notebook in a fresh ``python3`` kernel; return (the executed notebook, seconds).

    Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell.
    """
    _, nbclient, _ = _imports()
    path = Path(path)
    nb = read_notebook(path, solutions)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S[tier],
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    with tier_environment(tier):
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
    paths: list[Path] | None = None,
    tier: str = "quick",
    out: str | Path = HTML_DIR,
    report=print,
    solutions: bool = True,
) -> list[str]:
    """Execute notebooks (default: the whole course) and write their HTML copies; return the names that failed.

    Every notebook runs, even after a failure; ``report`` gets one line per notebook, with its time.
    """
    paths = [Path(p) for p in paths] if paths else course_notebooks()
    if missing := [str(p) for p in paths if not p.is_file()]:
        raise FileNotFoundError(
            f"no such notebook {missing}; the course is {[p.name for p in course_notebooks()]}"
        )
    failed, total = [], 0.0
    for path in paths:
        try:
            nb, seconds = execute(path, tier=tier, solutions=solutions)
        except Exception as error:  # report every notebook, then fail
            text = str(error).strip()
            report(f"FAILED {path.name}: {text.splitlines()[-1] if text else repr(error)}")
            failed.append(path.name)
            continue
        total += seconds
        html = write_html(nb, Path(out) / f"{path.stem}.html")
        report(f"{path.name}: {seconds:6.1f} s ({tier} tier) -> {html}")
    report(f"total: {total:.1f} s for {len(paths) - len(failed)} notebook(s) in the {tier} tier")
    return failed

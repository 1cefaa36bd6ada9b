"""The course notebooks run top to bottom in quick mode (SENET_QUICK=1) and are stored without outputs."""

import os
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


def test_kernel_is_this_python():
    """The `python3` kernelspec (from ipykernel, found in the venv's data dirs) starts this interpreter."""
    from jupyter_client.manager import KernelManager

    cmd = KernelManager(kernel_name="python3").format_kernel_cmd()
    assert Path(cmd[0]).resolve() == Path(sys.executable).resolve(), cmd


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them (clean diffs)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("SENET_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    # `timeout` bounds the start-up kernel_info request, whose reply the fresh kernel sometimes drops (nbclient
    # then waits the whole timeout and carries on: seen here as 90-300 s stalls); cells get timeout_func's limit.
    client = nbclient.NotebookClient(nb, timeout=10, timeout_func=lambda cell: 180, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on any failing cell
    print(f"{path.name}: {time.perf_counter() - start:.1f} s in quick mode")

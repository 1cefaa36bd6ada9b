"""The course notebooks run top to bottom in quick mode (SENET_QUICK=1) and are stored without outputs."""

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

from senet_lib.cli import main as senet  # noqa: E402
from senet_lib.course.runner import NOTEBOOK_DIR, course_notebooks, execute, write_html  # noqa: E402

NOTEBOOKS = course_notebooks()


def test_the_course_has_eight_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 9)], (
        f"found {NOTEBOOKS} in {NOTEBOOK_DIR}"
    )


def test_kernel_is_this_python():
    """The `python3` kernelspec (from ipykernel, found in the venv's data dirs) starts this interpreter."""
    from jupyter_client.manager import KernelManager

    cmd = KernelManager(kernel_name="python3").format_kernel_cmd()
    assert Path(cmd[0]).resolve() == Path(sys.executable).resolve(), cmd


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them (clean diffs)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_quick_mode_and_exports_html(path, tmp_path):
    nb, seconds = execute(path, quick=True)  # raises CellExecutionError on any failing cell
    print(f"{path.name}: {seconds:.1f} s in quick mode")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert "quick mode" in "".join(
        o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream"
    )
    html = write_html(nb, tmp_path / f"{path.stem}.html").read_text()
    assert "<html" in html and nb.cells[0].source.splitlines()[0].lstrip("# ") in html
    assert "Plotly.newPlot" in html  # the figures are in the HTML copy, not only as a Jupyter mimetype


def test_course_command_names_a_missing_notebook(capsys):
    assert senet(["course", "no_such.ipynb", "--quick"]) == 2
    assert "no such notebook ['no_such.ipynb']" in capsys.readouterr().err

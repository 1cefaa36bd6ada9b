"""The course notebooks run top to bottom in the quick tier with their worked solutions filled in (CI)."""

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")
pytest.importorskip("jupytext")

from senet_lib.cli import main as senet  # noqa: E402
from senet_lib.course.runner import course_notebooks, execute, write_html  # noqa: E402

NOTEBOOKS = course_notebooks()


def test_kernel_is_this_python():
    """The `python3` kernelspec (from ipykernel, found in the venv's data dirs) starts this interpreter."""
    from jupyter_client.manager import KernelManager

    cmd = KernelManager(kernel_name="python3").format_kernel_cmd()
    assert Path(cmd[0]).resolve() == Path(sys.executable).resolve(), cmd


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_the_quick_tier_with_solutions(path, tmp_path):
    nb, seconds = execute(path, tier="quick")  # raises CellExecutionError on any failing cell
    print(f"{path.name}: {seconds:.1f} s in the quick tier")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "tier: quick" in _stdout(first) and "expected run time of this notebook" in _stdout(first)
    for cell in nb.cells:
        if "exercise" in cell.metadata:  # the worked solution passed its checker
            assert "✓" in _stdout(cell) and "not done yet" not in _stdout(cell), cell.metadata["exercise"]
    html = write_html(nb, tmp_path / f"{path.stem}.html").read_text()
    assert "<html" in html and nb.cells[0].source.splitlines()[0].lstrip("# ") in html
    assert "Plotly.newPlot" in html  # the figures are in the HTML copy, not only as a Jupyter mimetype


def test_course_command_names_a_missing_notebook(capsys):
    assert senet(["course", "no_such.ipynb", "--quick"]) == 2
    assert "no such notebook ['no_such.ipynb']" in capsys.readouterr().err


def test_stall_check_measures_every_cell(tmp_path):
    """The stall check's own machinery, on a three-cell notebook under plain nbclient (default settings)."""
    from senet_lib.course.stalls import run_once

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(src) for src in ("x = 1", "import time; time.sleep(0.2)", "print(x)")
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "three.ipynb"
    nbformat.write(nb, path)
    result = run_once(path)
    assert not result.error and len(result.gaps) == 6  # request and reply waits of three cells
    assert 0 <= result.gap < 10 and result.where.startswith("cell ") and result.startup > 0

"""The course's sources: jupytext pairs in sync, blank exercises with worked solutions, tiers in the first cell,
and no ipywidgets.Output (its headless mimic stalls nbclient runs, nbclient #312). No kernel is started here."""

import re

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

from senet_lib.course.runner import (  # noqa: E402
    NOTEBOOK_DIR,
    SOLUTIONS_DIR,
    course_notebooks,
    exercise_ids,
    fill_solutions,
    solutions_for,
)

NOTEBOOKS = course_notebooks()


def test_the_course_has_nine_notebooks_each_with_its_py_source():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 10)], NOTEBOOKS
    assert all(p.with_suffix(".py").is_file() for p in NOTEBOOKS)


def _cells(nb):
    return [(c.cell_type, c.source, c.metadata.get("exercise")) for c in nb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_pair_in_sync(path):
    """The .ipynb holds exactly the cells of its jupytext .py source (run `make notebooks-sync` after editing)."""
    stored = nbformat.read(path, as_version=4)
    source = jupytext.read(path.with_suffix(".py"))
    assert _cells(stored) == _cells(source), (
        f"{path.name} and {path.stem}.py differ: run `make notebooks-sync`"
    )
    assert stored.metadata["jupytext"]["formats"] == "ipynb,py:percent"


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
def test_first_code_cell_chooses_the_tier(path):
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert re.match(r"TIER = None  #", first.source) and f'setup("{path.name[:2]}", TIER)' in first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_ship_blank_and_have_worked_solutions(path):
    nb = nbformat.read(path, as_version=4)
    ids = exercise_ids(nb)
    solutions = solutions_for(path)
    assert set(solutions) == set(ids), f"{path.name}: exercises {ids}, solutions {sorted(solutions)}"
    for cell in nb.cells:
        if "exercise" in cell.metadata:
            assert "raise NotImplementedError(" in cell.source, (
                f"{path.name}: exercise {cell.metadata['exercise']}"
            )
            assert "exercise" in cell.metadata.get("tags", [])
    filled = fill_solutions(nbformat.read(path, as_version=4), path)
    assert all("raise NotImplementedError(" not in c.source for c in filled.cells if "exercise" in c.metadata)


def test_the_harder_exercises_are_there():
    ids = {p.name[:2]: exercise_ids(nbformat.read(p, as_version=4)) for p in NOTEBOOKS}
    assert ids["03"] == ["scale", "se_block", "placements"]
    assert ids["06"] == ["recorder", "eta_squared"]
    assert all(
        p.stem + ".py" in {f.name for f in SOLUTIONS_DIR.glob("*.py")} for p in NOTEBOOKS if ids[p.name[:2]]
    )


@pytest.mark.parametrize(
    "path",
    sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py")) + sorted(SOLUTIONS_DIR.glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_output_widgets(path):
    """Interactive cells use senet_lib.course.display (display handles), never ipywidgets.Output / interact."""
    text = path.read_text()
    assert not re.search(r"\bOutput\(|interactive_output|\binteract\(|@interact", text), path.name

"""environment.yml (conda route) and pyproject.toml (pip route) must list the same packages."""

import tomllib
import yaml

from senet_lib.paths import REPO_ROOT

ROOT = REPO_ROOT


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return {r.replace(" ", "") for r in reqs}


def conda_pip_requirements() -> tuple[dict, set[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return env, {r.replace(" ", "") for r in pip_block if not r.startswith("-e")}


def test_environment_matches_pyproject():
    _, conda = conda_pip_requirements()
    pip = pyproject_requirements()
    assert conda == pip, (
        f"only in environment.yml: {sorted(conda - pip)}; only in pyproject.toml: {sorted(pip - conda)}"
    )


def test_environment_installs_project_editable_on_python_311():
    env, _ = conda_pip_requirements()
    assert "python=3.11" in env["dependencies"]
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip_block


def test_required_packages_present():
    names = {r.split(">")[0].split("=")[0].split("<")[0] for r in pyproject_requirements()}
    for needed in [
        "torch",
        "torchvision",
        "jupyterlab",
        "ipywidgets",
        "streamlit",
        "plotly",
        "captum",
        "safetensors",
    ]:
        assert needed in names, f"{needed} missing from pyproject.toml"

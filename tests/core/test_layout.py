"""The package's layout rules: imports flow one way (core <- data <- training / analysis <- course <- cli),
no import cycle anywhere inside ``senet_lib`` (function-level imports count too), no argparse outside the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import senet_lib

PACKAGE = Path(senet_lib.__file__).parent
#: Layer of each top-level part; a module may import only its own layer or lower ones.
LAYERS = {"core": 0, "data": 1, "training": 2, "analysis": 2, "course": 3, "cli": 4, "entry": 5}
ENTRY_POINTS = {
    "senet_lib.__main__",
    "senet_lib.train",
}  # `python -m senet_lib[.train]`: thin shims over the CLI


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ``senet_lib`` module that ``path`` imports, anywhere in the file (module or function level)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("senet_lib")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("senet_lib"):
            for alias in node.names:  # `from senet_lib.models import resnet` imports a submodule
                sub = f"{node.module}.{alias.name}"
                found.add(
                    sub
                    if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists()
                    or (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                    else node.module
                )
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()
    }


def layer(module: str) -> int:
    if module in ENTRY_POINTS:
        return LAYERS["entry"]
    part = module.split(".")[1] if module.count(".") else "core"
    return LAYERS.get(part, LAYERS["core"])


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])


def test_imports_flow_one_way():
    upward = [
        f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
        for a, targets in graph().items()
        for b in targets
        if layer(b) > layer(a) and not (b == "senet_lib" or a.startswith(b + "."))
    ]
    assert not upward, "imports against the layer rule:\n" + "\n".join(sorted(upward))


def test_argparse_only_in_the_cli():
    offenders = [
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*.py")
        if "argparse" in imports_names(p) and "cli" not in p.relative_to(PACKAGE).parts
    ]
    assert not offenders, f"argparse outside senet_lib/cli: {offenders}"


def imports_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_modules_stay_small():
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 300
    }
    assert not long, f"modules over 300 lines (split them by concept): {long}"

"""The package's import graph runs one way: no cycle among mufno_core's modules, and no import of
the package's own modules inside a function unless a comment on that line says why (a local
import hides an edge of the graph, usually a cycle)."""

from __future__ import annotations

import ast
import functools
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mufno_core"

def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The mufno_core modules an import statement loads (``from pkg import sub`` loads pkg.sub)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "mufno_core"]
    if node.module is None or node.module.split(".")[0] != "mufno_core":
        return []
    return [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
            for a in node.names]


@functools.cache  # ten tests read it; parsing the package takes half a second
def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """Edges module -> imported module (every import, wherever it is), and the function-local
    imports of the package's own modules as (module, line, source line). Read-only: cached."""
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    local: list[tuple[str, int, str]] = []
    for name, path in MODULES.items():
        source = path.read_text()
        tree = ast.parse(source)
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            targets = [t for t in imported_modules(node) if t != name]
            edges[name].update(targets)
            if targets and id(node) not in top_level:
                local.append((name, node.lineno, source.splitlines()[node.lineno - 1]))
    return edges, local


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_package_has_no_import_cycle():
    edges, _ = import_graph()
    assert find_cycle(edges) is None


def test_no_unexplained_function_local_import_of_the_package():
    _, local = import_graph()
    unexplained = [f"{name}:{line}: {text.strip()}" for name, line, text in local
                   if "#" not in text]
    assert unexplained == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports_on_its_own(name):
    importlib.import_module(name)


# The layers, bottom to top: a module imports only from its own layer and the ones below it.
# The package root (``mufno_core/__init__.py``: the version and two lazy names) sits below all.
LAYERS = ("pde", "data", "core", "sweep", "analysis", "book", "cli")
ROOT_MODULE = "mufno_core"


def layer_of(module: str) -> str:
    """The layer of a module: its sub-package's name, or "core" for a top-level module."""
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] in LAYERS and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "core"


def rank(layer: str) -> int:
    return -1 if layer == "root" else LAYERS.index(layer)


def test_every_module_belongs_to_a_known_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS) - {"core"}


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_from_the_layers_below_it(layer):
    edges, _ = import_graph()
    upward = sorted(f"{module} -> {target}" for module, targets in edges.items()
                    if layer_of(module) == layer for target in targets
                    if rank(layer_of(target)) > rank(layer))
    assert upward == []


def test_the_layers_have_no_cycle_between_them():
    edges, _ = import_graph()
    packages: dict[str, set[str]] = {}
    for module, targets in edges.items():
        packages.setdefault(layer_of(module), set()).update(
            layer_of(t) for t in targets if layer_of(t) != layer_of(module))
    assert find_cycle(packages) is None


def readme_layer_table() -> dict[str, set[str]]:
    """The README's map of the package: layer -> the module files its row names."""
    import re

    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| layer | modules |"):].split("\n\n")[0]
    rows = {}
    for line in table.splitlines()[2:]:
        layer, modules = (cell.strip() for cell in line.strip("|").split("|", 1))
        rows[layer.strip("`/ ")] = set(re.findall(r"`([a-z_]+\.py)`", modules))
    return rows


def test_the_readme_map_lists_every_module_in_its_layer():
    expected: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        if path.name != "__init__.py":
            expected.setdefault(layer_of(module), set()).add(path.name)
    assert readme_layer_table() == expected


TORCH_FREE = (
    "mufno_core", "mufno_core.data", "mufno_core.data.generate", "mufno_core.checks",
    "mufno_core.settings", "mufno_core.mup", "mufno_core.provenance", "mufno_core.sweep",
    "mufno_core.sweep.config", "mufno_core.sweep.experiments", "mufno_core.sweep.store",
    "mufno_core.sweep.studies", "mufno_core.sweep.estimate", "mufno_core.sweep.api",
    "mufno_core.analysis.optima", "mufno_core.analysis.summary", "mufno_core.book.pages",
    "mufno_core.book.build", "mufno_core.cli.main",
)
"""What ``mufno data``, the book's driver scripts (ensure_data, run_notebooks, build_site) and the
analysis of a store load: none of it imports torch, about 2 s of CPU per process that only
generates data or reads records (a notebook's kernel imports it when it trains or plots)."""


def test_reading_records_and_driving_the_book_never_import_torch():
    code = ("import importlib, sys\n"
            f"for name in {TORCH_FREE!r}:\n"
            "    importlib.import_module(name)\n"
            "    if 'torch' in sys.modules:\n"
            "        sys.exit(f'importing {name} imported torch')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


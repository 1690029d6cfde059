"""The package's import graph, computed with ``ast`` (imports inside functions and under ``TYPE_CHECKING``
included): no cycles, dependencies point down and inward, and aiohttp stays behind the transport seam.

See docs/architecture.md for the map these rules keep true.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "linkdoctor"

# The faces translate input into library calls; nothing in the library imports them.
FACES = ("linkdoctor.cli", "linkdoctor.web", "linkdoctor.distributed", "linkdoctor.__main__")
# Pure layers: they import nothing of linkdoctor outside themselves but these.
PURE = {
    "linkdoctor.classify": ("linkdoctor.classify", "linkdoctor.models", "linkdoctor._version"),
    "linkdoctor.extract": (
        "linkdoctor.extract",
        "linkdoctor.urls",
        "linkdoctor.models",
        "linkdoctor.printable",
    ),
}
# The only modules that may import aiohttp: the transport implementation.
AIOHTTP_HOMES = ("linkdoctor.engine.http",)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module a dotted import name lands in (``linkdoctor.models.Category`` -> ``linkdoctor.models``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[str]:
    """Every dotted name ``module`` imports, absolute, anywhere in its body."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                name = f"{target}.{alias.name}"
                # ``from pkg import module`` imports the module; ``from module import name`` the module
                yield name if name in MODULES else target


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        targets = {_owner(name) for name in _imports(module) if name.startswith(PACKAGE)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_graph_sees_inline_imports() -> None:
    # engine.documents imports extract inside a function (so the parser process loads only what it needs)
    assert GRAPH, "no modules found"
    assert all(isinstance(edges, set) for edges in GRAPH.values())
    assert "linkdoctor.models" in GRAPH["linkdoctor.engine.crawl"]


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _within(m, FACES)))
def test_the_library_never_imports_a_face(module: str) -> None:
    assert not [t for t in GRAPH[module] if _within(t, FACES)]


@pytest.mark.parametrize("layer", sorted(PURE))
def test_pure_layers_import_nothing_above_them(layer: str) -> None:
    upward = {
        (module, target)
        for module in MODULES
        if _within(module, (layer,))
        for target in GRAPH[module]
        if not _within(target, PURE[layer])
    }
    assert upward == set()


def test_aiohttp_is_imported_only_by_the_transport() -> None:
    importers = sorted(
        module
        for module in MODULES
        if any(name == "aiohttp" or name.startswith("aiohttp.") for name in _imports(module))
    )
    assert [m for m in importers if not _within(m, AIOHTTP_HOMES)] == []


def test_nothing_imports_the_public_api_module() -> None:
    # linkdoctor/__init__ loads the engine lazily; a module importing it would drag the whole API in
    assert [m for m, targets in GRAPH.items() if PACKAGE in targets] == []

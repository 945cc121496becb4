"""The shape of the code, read from the source so it stays true: layers import one way, no import cycles,
small modules.

Layers (ARCHITECTURE.md, docs/architecture.md): cli -> ui -> qa -> index -> corpus; training sits beside ui
(it may use qa, index and corpus; nothing of the runtime imports it); bench and tools may use anything but the
tests. Function-level imports count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ALLOWED = {
    "corpus": {"corpus"},
    "index": {"index", "corpus"},
    "qa": {"qa", "index", "corpus"},
    "ui": {"ui", "qa", "index", "corpus"},
    "cli": {"cli", "ui", "qa", "index", "corpus"},
    "training": {"training", "qa", "index", "corpus"},
    "bench": {"bench", "training", "cli", "ui", "qa", "index", "corpus"},
    "tools": {"tools", "bench", "cli", "ui", "qa", "index", "corpus"},
}
SMALL = ("corpus", "index", "qa", "ui", "cli", "training")  # every module here at most MAX_LINES lines
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in ALLOWED for p in sorted((REPO / package).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that ``path`` (module ``name``) imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` the module mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # ``import a.b.c`` of a module we do not have: its package
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def test_the_packages_are_found(graph):
    for package in ("corpus", "index", "qa", "ui", "cli", "training", "bench"):
        assert any(name.split(".")[0] == package for name in graph), package
    assert {"qa.answerer", "index.lifecycle", "cli.main", "ui.app"} <= set(graph)


def test_layers_import_one_way(graph):
    wrong = {
        name: sorted(t for t in targets if t.split(".")[0] not in ALLOWED[name.split(".")[0]])
        for name, targets in graph.items()
    }
    assert {name: targets for name, targets in wrong.items() if targets} == {}


def test_no_import_cycles(graph):
    cycles = strongly_connected(graph)
    assert [sorted(c) for c in cycles if len(c) > 1] == []


def test_modules_are_small():
    long = {
        str(path.relative_to(REPO)): n
        for package in SMALL
        for path in (REPO / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_cycle_finder_finds_a_cycle():
    cycles = strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert sorted(sorted(c) for c in cycles if len(c) > 1) == [["a", "b", "c"]]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components (iterative): a component of two or more modules is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    edges = defaultdict(set, graph)
    for root in list(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_gold_set_and_dataset_readers_depend_one_way(graph):
    assert "corpus.squad" in graph["corpus.gold_sets"]
    assert not any(t.startswith("corpus.gold_sets") for t in graph["corpus.squad"])


def test_the_runtime_never_imports_training_or_the_command_line(graph):
    runtime = [name for name in graph if name.split(".")[0] in ("corpus", "index", "qa", "ui")]
    assert len(runtime) > 30
    assert {n: t for n in runtime for t in graph[n] if t.split(".")[0] in ("training", "cli", "bench")} == {}

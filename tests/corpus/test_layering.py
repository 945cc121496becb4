"""corpus is the bottom layer: it imports nothing of ours above it, and its readers depend one way."""

from __future__ import annotations

import ast
from pathlib import Path

import corpus

CORPUS_DIR = Path(corpus.__file__).parent
ABOVE = {"index", "qa", "ui", "bench", "training", "tools"}


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names (function-level ones included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_corpus_imports_nothing_above_it():
    modules = sorted(CORPUS_DIR.rglob("*.py"))
    assert len(modules) > 10
    offending = {
        str(path.relative_to(CORPUS_DIR)): sorted(m for m in imported_modules(path) if m.split(".")[0] in ABOVE)
        for path in modules
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_squad_reader_does_not_import_the_gold_set_reader():
    assert not any(m.startswith("corpus.gold_sets") for m in imported_modules(CORPUS_DIR / "squad.py"))
    assert "corpus.squad" in imported_modules(CORPUS_DIR / "gold_sets.py")

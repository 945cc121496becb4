"""Shared, session-scoped fixtures: the real embedding model and the real default-corpus index, built once.

Loading all-MiniLM-L6-v2 takes several seconds (importing torch); embedding the default corpus about one more.
Tests that need them share one copy; tests that change an index work on a copy of ``default_index_dir``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SQUAD_V11_DEV = SHARED_DATA / "squad-v1.1-dev.json.gz"
SQUAD_V11_TRAIN = SHARED_DATA / "squad-v1.1-train.json.gz"
QA_BIN = REPO / ".venv" / "bin" / "qa"


@pytest.fixture(scope="session")
def embedder():
    from index.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def default_articles():
    from corpus.defaults import DEFAULT_ARTICLES_DIR
    from corpus.loaders import load_paths

    report = load_paths([DEFAULT_ARTICLES_DIR])
    assert not report.errors, report.errors
    assert len(report.articles) == 2
    return report.articles


@pytest.fixture(scope="session")
def default_index(embedder, default_articles):
    """The default corpus, chunked, embedded and BM25-indexed with the default settings (in memory)."""
    from corpus.defaults import DEFAULT_ARTICLES_DIR
    from index.sources import describe_sources
    from index.store import build_index

    return build_index(
        default_articles, embedder=embedder, progress=False, sources=describe_sources([DEFAULT_ARTICLES_DIR])
    )


@pytest.fixture(scope="session")
def default_index_dir(default_index, tmp_path_factory) -> Path:
    """``default_index`` saved on disk. Read-only for tests: copy it (``index_copy``) before changing it."""
    from index.store import save_index

    directory = tmp_path_factory.mktemp("default-index") / "idx"
    save_index(default_index, directory)
    return directory


@pytest.fixture
def index_copy(default_index_dir, tmp_path) -> Path:
    """A private copy of the saved default index that a test may change."""
    target = tmp_path / "idx"
    shutil.copytree(default_index_dir, target)
    return target


@pytest.fixture(scope="session")
def default_retriever(default_index, embedder):
    from qa.retriever import Retriever

    return Retriever(default_index, embedder=embedder)


@pytest.fixture(scope="session")
def gold_questions():
    from corpus.defaults import DEFAULT_GOLD
    from corpus.gold import load_gold_jsonl

    questions = load_gold_jsonl(DEFAULT_GOLD)
    assert len(questions) >= 20
    return questions


@pytest.fixture(scope="session")
def squad_dev():
    if not SQUAD_V11_DEV.exists():
        pytest.skip(f"no SQuAD v1.1 dev at {SQUAD_V11_DEV}")
    from corpus.squad import load_squad

    return load_squad(SQUAD_V11_DEV)

"""Shared, session-scoped fixtures: the real embedding model and the real default-corpus index, built once.

Loading all-MiniLM-L6-v2 takes several seconds (importing torch); embedding the default corpus about one more.
Tests that need them share one copy; tests that change an index work on a copy of ``default_index_dir``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tiny_span import build_tiny_span_model

from corpus.datasets import SQUAD_V11_DEV as SQUAD_V11_DEV_NAME
from corpus.datasets import SQUAD_V11_TRAIN as SQUAD_V11_TRAIN_NAME
from corpus.datasets import dataset_path

REPO = Path(__file__).resolve().parents[1]
SQUAD_V11_DEV = dataset_path(SQUAD_V11_DEV_NAME)
SQUAD_V11_TRAIN = dataset_path(SQUAD_V11_TRAIN_NAME)
QA_BIN = REPO / ".venv" / "bin" / "qa"


@pytest.fixture(scope="session")
def one_torch_thread():
    """Tiny models on a shared 2-core machine: torch's second intra-op thread only waits for a busy core
    (measured: a tiny-model read took 0.4-0.9 s with 2 threads under load, 0.03-0.07 s with 1). Test folders
    of tiny-model tests use it for all their tests (an autouse fixture in their conftest)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_span_model(tmp_path_factory) -> Path:
    """A tiny, randomly initialised span model saved like a real one (read-only: copy it to change it)."""
    return build_tiny_span_model(tmp_path_factory.mktemp("tiny-span-model"))


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
    from corpus.gold_sets import load_gold_jsonl

    questions = load_gold_jsonl(DEFAULT_GOLD)
    assert len(questions) >= 20
    return questions


@pytest.fixture(scope="session")
def squad_dev():
    if not SQUAD_V11_DEV.exists():
        pytest.skip(f"no SQuAD v1.1 dev at {SQUAD_V11_DEV}")
    from corpus.squad import load_squad

    return load_squad(SQUAD_V11_DEV)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of the default corpus folder (with its metadata sidecars) that a test may change."""
    from corpus.defaults import DEFAULT_ARTICLES_DIR

    target = tmp_path / "articles"
    shutil.copytree(DEFAULT_ARTICLES_DIR, target)
    return target


@pytest.fixture
def copy_index(corpus_copy, tmp_path, default_index, embedder) -> Path:
    """An index of ``corpus_copy``, saved under tmp_path (vectors reused from the session index: no encoding)."""
    from corpus.loaders import load_paths
    from index.sources import describe_sources
    from index.store import build_index, save_index

    report = load_paths([corpus_copy])
    index = build_index(report.articles, embedder=embedder, progress=False, sources=describe_sources([corpus_copy]), reuse=default_index)
    directory = tmp_path / "idx"
    save_index(index, directory)
    return directory


@pytest.fixture
def new_article_file(tmp_path, squad_dev) -> Path:
    """A real article the default corpus does not have: the first paragraphs of a SQuAD dev article."""
    art = next(a for a in squad_dev.articles if a.title == "Super Bowl 50")
    path = tmp_path / "new" / "super-bowl-50.txt"
    path.parent.mkdir()
    path.write_text("Super Bowl 50\n\n" + art.text[: art.text.index("\n\n", 2000)], encoding="utf-8")
    return path

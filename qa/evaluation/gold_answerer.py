"""The answerer that an evaluation runs with, for a gold file of either kind.

For gold JSONL the project's index (``--index``) is used. For a SQuAD file its own articles are the corpus: an
index for them (chunks never crossing a paragraph) is built once in a cache directory
(``index.lifecycle.cached_index``: keyed by the articles and the settings) and reused on re-runs.

Example:
    >>> setup = answerer_for_gold(Path("corpus/gold/default.jsonl"), EvalConfig(), Path(".qa-index"))  # doctest: +SKIP
    >>> len(setup.questions), setup.note                                                             # doctest: +SKIP
    (55, 'index .qa-index')
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from corpus.gold_sets import GoldQuestion, load_gold, read_text
from index.chunker import ChunkerConfig
from index.embedder import Embedder, EmbedderUnavailable
from index.lifecycle import cached_index
from index.store import IndexConfig
from qa.answerer import Answerer, build_answerer, load_answerer
from qa.evaluation.records import EvalConfig

# SQuAD articles are chunked without crossing a paragraph (ARCHITECTURE.md).
SQUAD_INDEX_CONFIG = IndexConfig(chunker=ChunkerConfig(respect_paragraphs=True))
CACHE_ENV = "QA_CACHE"


@dataclass(frozen=True)
class GoldSetup:
    answerer: Answerer
    questions: list[GoldQuestion]
    kinds: dict[str, str]  # question id -> kind, for JSONL questions that carry one
    note: str  # which index was used, for the report


def cache_root() -> Path:
    """Where evaluation indexes are cached: ``$QA_CACHE``, else ``~/.cache/article-qa``."""
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "article-qa"))


def read_kinds(path: Path) -> dict[str, str]:
    """The optional ``kind`` of each JSONL gold question (factoid, paraphrase, unanswerable, ...)."""
    if not Path(path).name.lower().endswith((".jsonl", ".jsonl.gz")):
        return {}
    kinds = {}
    for line in read_text(path).splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row, dict) and isinstance(row.get("kind"), str):
                kinds[str(row["id"])] = row["kind"]
    return kinds


def answerer_for_gold(
    gold_path: Path, config: EvalConfig, index_dir: Path | None, cache_dir: Path | None = None, embedder: Embedder | None = None
) -> GoldSetup:
    """The answerer for this gold file, its questions, their kinds and a note on the index used.

    ``embedder``: an already loaded model to use for a SQuAD file's index (loaded here when not given).
    """
    questions, articles, _ = load_gold(gold_path)
    if articles is None:  # gold JSONL: the project's index
        if index_dir is None:
            raise ValueError("gold JSONL needs an index (--index)")
        answerer = load_answerer(index_dir, config.reader, config.model, config.int8, config.threshold)
        return GoldSetup(answerer, questions, read_kinds(gold_path), f"index {index_dir}")
    embedder = embedder or _try_embedder()
    digest = hashlib.sha256(Path(gold_path).read_bytes()).hexdigest()[:16]
    cached = cached_index("squad", articles, SQUAD_INDEX_CONFIG, cache_dir or cache_root() / "eval", embedder,
                          config.progress, sources=[{"path": str(Path(gold_path).resolve()), "sha256": digest}])
    answerer = build_answerer(cached.index, config.reader, config.model, config.int8, config.threshold, embedder)
    return GoldSetup(answerer, questions, {}, f"{'reused' if cached.reused else 'built'} SQuAD index {cached.directory}")


def _try_embedder() -> Embedder | None:
    try:
        return Embedder(SQUAD_INDEX_CONFIG.embedder)
    except EmbedderUnavailable:
        return None

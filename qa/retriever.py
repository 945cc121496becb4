"""Hybrid retrieval: dense (FAISS) and BM25 rankings of chunks, fused; modes ``hybrid``, ``dense``, ``bm25``.

When the embedding model cannot be loaded, or a query is out of its reach (mostly unknown tokens), retrieval
answers from BM25 alone and says so in ``RetrievalResult.notice``.

``article_ids`` and ``filters`` (``qa.filters.ArticleFilter``: sources, a date range) restrict retrieval itself:
FAISS (an id selector) and BM25 (a mask) score only the chosen articles' passages, so the k hits are the best k
among them, never what is left of the overall top k. A filter no article passes is ``NoMatchingArticles``.

Example:
    >>> retriever = Retriever(load_index(Path(".qa-index")))          # doctest: +SKIP
    >>> result = retriever.search("Who is Geng Shuang?", k=3)         # doctest: +SKIP
    >>> result.hits[0].chunk.text, result.mode                        # doctest: +SKIP
    >>> retriever.search("Who is Geng Shuang?", filters=ArticleFilter(sources=("CNN",)))  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from index.embedder import Embedder, EmbedderUnavailable
from index.store import CorpusIndex
from qa.filters import ArticleFilter
from qa.fusion import convex_fuse, rrf_fuse
from qa.types import Hit

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class RetrievalConfig:
    mode: Mode = "hybrid"
    k: int = 5
    candidates: int = 100  # taken from each side before fusing
    fusion: Literal["rrf", "convex"] = "convex"
    rrf_k: int = 60
    # Rule and weights chosen on 4,000 SQuAD v1.1 train questions (bench/tune_fusion.py, results in
    # bench/results/tune_fusion*.txt), never on dev: convex 0.45/0.55 had the best MRR@10 of 58 candidates,
    # with and without titles in passages.
    dense_weight: float = 0.45
    bm25_weight: float = 0.55
    max_unknown_fraction: float = 0.5


@dataclass(frozen=True)
class RetrievalResult:
    query: str
    hits: list[Hit]
    mode: str  # the mode actually used
    notice: str | None = None


class Retriever:
    """Searches one ``CorpusIndex``. The embedder is loaded once, at construction, or never (BM25 fallback)."""

    def __init__(self, index: CorpusIndex, config: RetrievalConfig = RetrievalConfig(), embedder: Embedder | None = None):
        self.index = index
        self.config = config
        self.embedder = embedder
        self.dense_problem: str | None = None
        if index.dense is None:
            self.dense_problem = index.dense_error or "the index has no dense vectors"
        elif embedder is None:
            try:
                self.embedder = Embedder(index.config.embedder)
            except EmbedderUnavailable as exc:
                self.dense_problem = str(exc)
        if self.embedder is not None and index.dense is not None and self.embedder.dim != index.dense.dim:
            self.dense_problem = f"model gives {self.embedder.dim} dims, index has {index.dense.dim}"
            self.embedder = None

    def search(self, query: str, k: int | None = None, mode: str | None = None, article_ids: set[str] | None = None,
               filters: ArticleFilter | None = None) -> RetrievalResult:
        return self.search_batch([query], k=k, mode=mode, article_ids=article_ids, filters=filters)[0]

    def search_batch(
        self, queries: list[str], k: int | None = None, mode: str | None = None, article_ids: set[str] | None = None,
        filters: ArticleFilter | None = None,
    ) -> list[RetrievalResult]:
        k = k or self.config.k
        mode = mode or self.config.mode
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        allowed = self.allowed_articles(article_ids, filters)
        rows = self.index.article_rows(allowed) if allowed is not None else None
        mask = None
        if rows is not None:
            mask = np.zeros(len(self.index.chunks), dtype=bool)
            mask[rows] = True
        want_dense = mode in ("hybrid", "dense")
        dense_ok = want_dense and self.dense_problem is None
        reach = [self._in_reach(q) for q in queries] if dense_ok else [False] * len(queries)
        dense_results: dict[int, list[tuple[int, float]]] = {}
        if dense_ok and any(reach):
            todo = [i for i, ok in enumerate(reach) if ok]
            vectors = self.embedder.encode([queries[i] for i in todo])
            n = self.config.candidates if mode == "hybrid" else k
            if rows is not None and len(rows) == 0:
                dense_results = {i: [] for i in todo}
            else:
                ids, scores = self.index.dense.search(vectors, n, allowed=rows)
                for j, i in enumerate(todo):
                    dense_results[i] = [(int(r), float(s)) for r, s in zip(ids[j], scores[j]) if r >= 0]
        results = []
        for i, query in enumerate(queries):
            notice = None
            used = mode
            if want_dense and i not in dense_results:
                used = "bm25"
                why = self.dense_problem or "the query is out of the embedding model's reach (mostly unknown tokens)"
                notice = f"answered from BM25 only: {why}"
            if used == "dense":
                ranked = dense_results[i][:k]
                hits = self._hits(ranked, "dense")
            else:
                bm25 = self._bm25(query, self.config.candidates if used == "hybrid" else k, mask)
                if used == "bm25":
                    hits = self._hits(bm25[:k], "bm25")
                else:
                    hits = self._hits(self._fuse(dense_results[i], bm25)[:k], "hybrid")
            results.append(RetrievalResult(query, hits, used, notice))
        return results

    def allowed_articles(self, article_ids: set[str] | None, filters: ArticleFilter | None) -> set[str] | None:
        """The articles retrieval may return (None: all); ``NoMatchingArticles`` when the filter passes none."""
        if filters is None or not filters.active:
            return article_ids
        matching = filters.matching_ids(self.index.articles)
        if not matching:
            raise filters.no_match(self.index.articles)
        return matching if article_ids is None else matching & set(article_ids)

    def _bm25(self, query: str, n: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        rows, scores = self.index.bm25.search(self.index.bm25.tokenize(query), n, mask=mask)
        return [(int(r), float(s)) for r, s in zip(rows, scores)]

    def _fuse(self, dense: list[tuple[int, float]], bm25: list[tuple[int, float]]) -> list[tuple[int, float]]:
        c = self.config
        if c.fusion == "rrf":
            fused = rrf_fuse([[r for r, _ in dense], [r for r, _ in bm25]], (c.dense_weight, c.bm25_weight), c.rrf_k)
        else:
            fused = convex_fuse([dense, bm25], (c.dense_weight, c.bm25_weight))
        return [(int(r), float(s)) for r, s in fused]

    def _hits(self, ranked: list[tuple[int, float]], via: str) -> list[Hit]:
        return [Hit(self.index.chunks[r], s, rank, via) for rank, (r, s) in enumerate(ranked, start=1)]

    def _in_reach(self, query: str) -> bool:
        tokens = self.embedder.tokenizer.tokenize(query)
        if not tokens:
            return False
        unknown = sum(t == self.embedder.tokenizer.unk_token for t in tokens)
        return unknown / len(tokens) <= self.config.max_unknown_fraction

    def with_config(self, **changes) -> "Retriever":
        return Retriever(self.index, replace(self.config, **changes), self.embedder)

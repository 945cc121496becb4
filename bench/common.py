"""Shared pieces of the benchmark scripts: the index cache folder, SQuAD hit test, recall/MRR, percentiles.

Indexes are cached with ``index.lifecycle.cached_index`` (the same helper evaluation uses) under ``CACHE``.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from corpus.gold_sets import GoldQuestion
from index.chunk import Chunk

CACHE = Path(__file__).parent / "cache"


def train_sample(squad, n_articles: int, n_questions: int, seed: int) -> tuple[list, list[GoldQuestion]]:
    """A seeded sample of SQuAD articles and of the questions about them (for fitting and tuning on train)."""
    rng = random.Random(seed)
    articles = rng.sample(squad.articles, n_articles)
    keep = {a.id for a in articles}
    pool = [q for q in squad.questions if q.article_id in keep]
    return articles, rng.sample(pool, min(n_questions, len(pool)))


def squad_hit(chunk: Chunk, q: GoldQuestion) -> bool:
    """A retrieved chunk inside the gold paragraph that contains a gold answer."""
    if chunk.article_id != q.article_id or q.paragraph is None:
        return False
    p_start, p_end = q.paragraph
    if not (p_start <= chunk.start and chunk.end <= p_end):
        return False
    return any(a and a in chunk.text for a in q.answers)


def ranking_metrics(hit_ranks: list[int | None], ks=(1, 5, 10, 20)) -> dict:
    """hit_ranks: 1-based rank of the first hit per question, None when missed."""
    n = len(hit_ranks)
    out = {f"R@{k}": round(100 * sum(r is not None and r <= k for r in hit_ranks) / n, 2) for k in ks}
    out["MRR@10"] = round(sum(1 / r for r in hit_ranks if r is not None and r <= 10) / n, 4)
    return out


def first_hit_rank(chunks: list[Chunk], q: GoldQuestion) -> int | None:
    for rank, chunk in enumerate(chunks, start=1):
        if squad_hit(chunk, q):
            return rank
    return None


def percentiles_ms(seconds: list[float]) -> dict:
    arr = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(arr, 50)), 2), "p95_ms": round(float(np.percentile(arr, 95)), 2)}

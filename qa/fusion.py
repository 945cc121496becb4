"""Fusing a dense and a BM25 ranking into one.

Two rules, chosen between by measurement on SQuAD train questions (bench/tune_fusion.py):
- ``rrf``: weighted reciprocal rank fusion, ``sum_i w_i / (k + rank_i)``;
- ``convex``: ``alpha * dense + (1 - alpha) * bm25`` over scores min-max normalised within each candidate list
  (a document missing from a list gets that list's minimum, 0 after normalising).

Example:
    >>> rrf_fuse([("a", "b"), ("b", "c")], weights=(1.0, 1.0), k=60)[0]
    ('b', 0.03252247488101534)
"""

from __future__ import annotations

from collections.abc import Sequence


def rrf_fuse(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def convex_fuse(
    scored: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float]
) -> list[tuple[str, float]]:
    fused: dict[str, float] = {}
    for items, weight in zip(scored, weights):
        if not items:
            continue
        values = [s for _, s in items]
        lo, hi = min(values), max(values)
        span = hi - lo
        for key, s in items:
            norm = (s - lo) / span if span > 0 else 1.0
            fused[key] = fused.get(key, 0.0) + weight * norm
    return sorted(fused.items(), key=lambda kv: -kv[1])

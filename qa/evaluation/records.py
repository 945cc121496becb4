"""What an evaluation is run with (``EvalConfig``) and what it records per question (``Outcome``).

Example:
    >>> EvalConfig(limit=100, seed=1).retrieve_k
    20
"""

from __future__ import annotations

from dataclasses import dataclass

from corpus.gold_sets import GoldQuestion
from qa.answerer import Answered
from qa.filters import ArticleFilter


@dataclass(frozen=True)
class EvalConfig:
    k: int = 5  # chunks read
    mode: str = "hybrid"
    retrieve_k: int = 20  # chunks retrieved for recall@20 (the reader reads the first k)
    reader: str = "auto"
    model: str | None = None
    int8: bool | None = None  # span reader with int8 linear layers; None: as its calibration was fitted
    reader_only: bool = False
    limit: int | None = None
    seed: int = 0
    threshold: float | None = None  # overrides the reader's calibrated threshold
    progress: bool = True
    filters: ArticleFilter | None = None  # sources and dates retrieval is restricted to (not with reader_only)


@dataclass(frozen=True)
class Outcome:
    """One evaluated question."""

    gold: GoldQuestion
    kind: str | None
    answered: Answered
    exact_match: float
    f1: float
    found: bool
    first_relevant: int | None  # rank of the first relevant retrieved chunk; None: none in retrieve_k
    judged: bool  # whether retrieval could be judged (answerable with a target)
    candidate_credit: dict[str, float]  # the reader's candidate, abstention aside: {"f1": .., "found": ..}

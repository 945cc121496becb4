"""The reader interface: from a question and retrieved chunks to one verbatim answer span with a confidence.

A reader never abstains by itself: it always returns its best candidate (or ``None`` when there is nothing
to read) and a confidence in [0, 1]; the ``Answerer`` compares that confidence to the calibrated threshold.

Example:
    >>> reader: Reader = SentenceReader(embedder)                               # doctest: +SKIP
    >>> result = reader.read("Who spoke?", hits, index.articles)                # doctest: +SKIP
    >>> index.articles[result.article_id].text[result.start:result.end] == result.answer   # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from corpus import Article
from index.sentences import sentence_spans
from qa.types import Hit


@dataclass(frozen=True)
class ReaderResult:
    """The reader's best candidate: ``articles[article_id].text[start:end] == answer``.

    ``hit_rank`` is the rank of the retrieved chunk it was read from; ``answer`` is None when there was
    nothing to read (no hits), and then ``confidence`` is 0. ``signals``: other confidences the reader can give
    for the same candidate (by name), so a calibration can compare them on one run. ``unread``: how many of the
    hits were not read in full because the reader's deadline passed (0: all were read). ``alternatives``: the
    best candidate of each *other* article read (a reader that can give them; best first), with confidences on the
    same scale, so an answer can show where sources differ.
    """

    answer: str | None
    article_id: str | None
    start: int
    end: int
    confidence: float
    hit_rank: int | None = None
    signals: Mapping[str, float] = field(default_factory=dict)
    unread: int = 0
    alternatives: tuple[ReaderResult, ...] = ()

    @classmethod
    def nothing(cls) -> "ReaderResult":
        return cls(None, None, 0, 0, 0.0, None)


@runtime_checkable
class Reader(Protocol):
    name: str  # "sentence" or "span": shown in eval reports
    # The confidence below which the Answerer abstains, calibrated for this reader (None: never calibrated).
    abstain_threshold: float | None

    def read(self, question: str, hits: list[Hit], articles: Mapping[str, Article],
             deadline: float | None = None) -> ReaderResult:
        """The best span of the hits. ``deadline`` (a ``time.perf_counter()`` value): past it the reader stops
        and answers from what it has read, counting the hits it did not read in full in ``unread``."""
        ...


def containing_sentence(article: Article, hit: Hit, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence(s) of the hit's chunk that hold article.text[start:end].

    An answer crossing a sentence boundary gets all the sentences it touches; sentences are found over the
    chunk (never beyond it) with the same splitter the chunker used.
    """
    spans = sentence_spans(article.text, hit.chunk.start, hit.chunk.end)
    touched = [(s, e) for s, e in spans if s < end and start < e] or [(start, end)]
    return min(s for s, _ in touched), max(e for _, e in touched)

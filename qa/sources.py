"""Answers across sources: when the passages read come from several articles and more than one of them answers
the question confidently, each article's answer with its source and day, and whether it says what the answer says.

The reader gives the best span of each article it read (``ReaderResult.alternatives``), with confidences on the
scale the abstention threshold applies to; an article's answer counts when its confidence clears that same
threshold. Two answers *agree* when, normalised as SQuAD normalises (case, punctuation, articles), one's words are
the other's or run inside them ("Geng Shuang" and "spokesman Geng Shuang"); "30 people" and "32 people" differ.

Example:
    >>> same_answer("Geng Shuang", "the spokesman Geng Shuang"), same_answer("30 people", "32 people")
    (True, False)
    >>> same_answer("24", "the 24-year-old")
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from corpus import Article
from corpus.dates import lenient_date
from qa.metrics import normalize_answer
from qa.reader import ReaderResult
from qa.types import Citation, SourceAnswer, first_holding

_DASHES = re.compile(r"[-\u2010-\u2015]")  # hyphens and dashes part words: SQuAD's normalisation would glue them


def same_answer(a: str, b: str) -> bool:
    """Whether two answers say the same: their normalised words equal, or one a run of the other's."""
    x, y = (normalize_answer(_DASHES.sub(" ", t)).split() for t in (a, b))  # "24-year-old" holds "24"
    if not x or not y:
        return x == y
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    return any(long[i:i + len(short)] == short for i in range(len(long) - len(short) + 1))


def source_answers(candidate: ReaderResult, threshold: float, citations: Sequence[Citation],
                   articles: Mapping[str, Article]) -> tuple[SourceAnswer, ...]:
    """The answer (``candidate``) and every other article's answer that clears ``threshold``, the answer first,
    the others best first; () when fewer than two articles answer (nothing to compare)."""
    others = [c for c in candidate.alternatives if c.answer is not None and c.confidence >= threshold]
    if candidate.answer is None or candidate.confidence < threshold or not others:
        return ()
    return tuple(_source_answer(c, candidate.answer, citations, articles) for c in [candidate, *others])


def _source_answer(c: ReaderResult, answer: str, citations: Sequence[Citation],
                   articles: Mapping[str, Article]) -> SourceAnswer:
    article = articles[c.article_id]
    span = (c.article_id, c.start, c.end)
    cited = first_holding(citations, span)
    return SourceAnswer(c.answer, float(min(1.0, max(0.0, c.confidence))), c.article_id, c.start, c.end,
                        article.title, article.source, lenient_date(article.published), cited.n if cited else None,
                        same_answer(c.answer, answer))

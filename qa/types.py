"""The things that flow out of the question-answering layer: Hit, Citation, Answer.

JSON shapes follow ARCHITECTURE.md (``Answer.to_json_dict``), with two bounds on what a reply carries:
a citation's ``text`` is at most ``MAX_CITATION_CHARS`` characters (``Citation.excerpt``: around the answer; a
longer passage adds ``"text_start"``/``"text_end"``, where the excerpt lies in the article, while ``start``/``end``
still give the whole passage), and ``"notice"`` appears only when something limited the answer (the time budget).
An abstained answer may carry the reader's best candidate as a ``Guess`` (``"guess"`` in the JSON only then): shown
to a user as a labelled low-confidence guess, never as the answer. A citation carries its article's ``published``
day (``YYYY-MM-DD`` or None) and ``url`` beside its ``source``; a search hit, its article's source and day. When
two or more of the articles read answer confidently, ``Answer.alternatives`` holds each one's answer
(``SourceAnswer``: its source, day, citation and whether it agrees; ``"alternatives"`` in the JSON only then).

Example:
    >>> c = Citation(1, "a1", "T", None, 0, 5000, "word " * 1000, 0.5).excerpt(around=(2500, 2504))
    >>> len(c.text) <= MAX_CITATION_CHARS, c.start, c.end, c.text_start > 0
    (True, 0, 5000, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from index.chunk import Chunk
from qa.excerpt import excerpt_bounds

Via = Literal["dense", "bm25", "hybrid"]
# The most passage text a citation carries in a reply (JSON, chat, terminal): about 250 words.
MAX_CITATION_CHARS = 1500


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int
    via: Via

    def to_json_dict(self, title: str, source: str | None = None, published: str | None = None) -> dict:
        """The hit with its article's ``title``, ``source`` and ``published`` day (``YYYY-MM-DD`` or None)."""
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "via": self.via,
            "article_id": self.chunk.article_id,
            "title": title,
            "source": source,
            "published": published,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.chunk.text,
        }


@dataclass(frozen=True)
class Citation:
    n: int
    article_id: str
    title: str
    source: str | None
    start: int
    end: int
    text: str
    score: float
    # Where ``text`` begins in the article when it is an excerpt of the passage [start, end); None: the whole.
    text_start: int | None = None
    published: str | None = None  # the article's day, YYYY-MM-DD
    url: str | None = None  # the article's

    @property
    def text_offset(self) -> int:
        """The article offset of ``text[0]``."""
        return self.start if self.text_start is None else self.text_start

    def excerpt(self, limit: int = MAX_CITATION_CHARS, around: tuple[int, int] | None = None) -> Citation:
        """This citation with at most ``limit`` characters of its passage: around the article span ``around``
        (else from the passage's beginning), verbatim; ``start``/``end`` still give the whole passage."""
        if len(self.text) <= limit:
            return self
        base = self.text_offset
        span = None if around is None else (around[0] - base, around[1] - base)
        a, b = excerpt_bounds(self.text, 0, len(self.text), span, limit)
        return replace(self, text=self.text[a:b], text_start=base + a)

    def holds(self, span: tuple[str, int, int] | None) -> bool:
        """Whether this passage contains the span ``(article_id, start, end)`` of its article."""
        if span is None:
            return False
        article_id, start, end = span
        return self.article_id == article_id and self.start <= start and end <= self.end

    def to_json_dict(self) -> dict:
        return {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
            "url": self.url,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(float(self.score), 6),
        } | ({} if self.text_start is None else {"text_start": self.text_start, "text_end": self.text_start + len(self.text)})


def first_holding(citations: Iterable[Citation], span: tuple[str, int, int] | None) -> Citation | None:
    """The first of ``citations`` whose passage holds ``span`` (article_id, start, end), or None."""
    return next((c for c in citations if c.holds(span)), None)


@dataclass(frozen=True)
class Guess:
    """The reader's best span when the answer abstained: below the threshold, so not an answer."""

    text: str
    confidence: float
    article_id: str
    start: int  # article_id's text[start:end] == text
    end: int
    sentence: str | None  # the sentence holding it (bounded as an answer's sentence is)
    citation: int | None  # the number of the first citation whose passage holds it

    @property
    def span(self) -> tuple[str, int, int]:
        return self.article_id, self.start, self.end

    def to_json_dict(self) -> dict:
        return {"text": self.text, "confidence": round(float(self.confidence), 4), "article_id": self.article_id,
                "start": self.start, "end": self.end, "sentence": self.sentence, "citation": self.citation}


@dataclass(frozen=True)
class SourceAnswer:
    """One article's answer when several articles read answer the question (``qa.sources``)."""

    text: str
    confidence: float
    article_id: str
    start: int  # article_id's text[start:end] == text
    end: int
    title: str
    source: str | None
    published: str | None  # the article's day, YYYY-MM-DD
    citation: int | None  # the number of the first citation whose passage holds it
    agrees: bool  # says what the answer says (``qa.sources.same_answer``); the answer's own entry: True

    def label(self) -> str:
        """"Source, YYYY-MM-DD" (or the title when the article has no source), for a reply."""
        return ", ".join(p for p in (self.source or self.title, self.published) if p)

    def to_json_dict(self) -> dict:
        return {"text": self.text, "confidence": round(float(self.confidence), 4), "article_id": self.article_id,
                "title": self.title, "source": self.source, "published": self.published, "start": self.start,
                "end": self.end, "citation": self.citation, "agrees": self.agrees}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str | None
    abstained: bool
    confidence: float
    sentence: str | None
    answer_span: tuple[str, int, int] | None  # (article_id, start, end) into Article.text
    citations: list[Citation] = field(default_factory=list)
    mode: str = "hybrid"
    latency_ms: float = 0.0
    notice: str | None = None  # what limited this answer (the time budget ran out), for the reader of the reply
    guess: Guess | None = None  # abstained only: the reader's best candidate, a low-confidence guess
    # answered only, when two or more articles answer confidently: each one's answer, this answer's first
    alternatives: tuple[SourceAnswer, ...] = ()

    @property
    def sources_differ(self) -> bool:
        """Whether an article read answers otherwise than the answer (then a reply shows each answer)."""
        return any(not a.agrees for a in self.alternatives)

    @property
    def sources_agreeing(self) -> int:
        """How many sources give this answer (0 when fewer than two articles answer): articles of one outlet count
        once (an article without a source counts on its own)."""
        return len({a.source or f"article {a.article_id}" for a in self.alternatives if a.agrees})

    def answer_citation(self) -> Citation | None:
        """The first citation whose passage holds the answer span (None when abstained or none holds it)."""
        return first_holding(self.citations, self.answer_span)

    def to_json_dict(self) -> dict:
        span = None
        if self.answer_span is not None:
            article_id, start, end = self.answer_span
            span = {"article_id": article_id, "start": start, "end": end}
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "confidence": round(float(self.confidence), 4),
            "sentence": self.sentence,
            "answer_span": span,
            "citations": [c.to_json_dict() for c in self.citations],
            "mode": self.mode,
            "latency_ms": round(float(self.latency_ms), 1),
        } | ({} if self.notice is None else {"notice": self.notice}) | (
            {"guess": self.guess.to_json_dict()} if self.abstained and self.guess is not None else {}) | (
            {"alternatives": [a.to_json_dict() for a in self.alternatives]} if self.alternatives else {})

"""The things that flow out of the question-answering layer: Hit, Citation, Answer.

JSON shapes follow ARCHITECTURE.md exactly (``Answer.to_json_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from index.chunk import Chunk

Via = Literal["dense", "bm25", "hybrid"]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    rank: int
    via: Via

    def to_json_dict(self, title: str) -> dict:
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "via": self.via,
            "article_id": self.chunk.article_id,
            "title": title,
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
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(float(self.score), 6),
        }


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

    def answer_citation(self) -> Citation | None:
        """The first citation whose passage holds the answer span (None when abstained or none holds it)."""
        return next((c for c in self.citations if c.holds(self.answer_span)), None)

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
        }

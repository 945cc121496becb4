"""The Chunk: a span of one article, with the invariant ``article.text[start:end] == text``."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Chunk:
    id: str
    article_id: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Chunk":
        return cls(**{k: data[k] for k in ("id", "article_id", "start", "end", "text")})

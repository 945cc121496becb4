"""The Article: one loaded document whose text is never altered after loading.

Every offset in the system (chunks, citations, answer spans) points into ``Article.text``. The id is a
fingerprint of the text with its line ends normalised, so a CRLF copy of an article is the same article.

Example:
    >>> a = Article.from_text("Hello world.", title="Greeting")
    >>> a.text[0:5]
    'Hello'
    >>> text_fingerprint("one\\r\\ntwo") == text_fingerprint("one\\ntwo")
    True
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

_LINE_END = re.compile(r"\r\n?")


def text_fingerprint(text: str) -> str:
    """Stable id for a text: the first 16 hex digits of its SHA-256 (same text, same id).

    Line ends are normalised first (``\\r\\n`` and ``\\r`` count as ``\\n``), for the id only: the text itself
    is kept as loaded, since every offset points into it. A text with LF line ends keeps the id it always had.
    """
    return hashlib.sha256(_LINE_END.sub("\n", text).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    source: str | None = None
    published: str | None = None
    path: str | None = None
    url: str | None = None

    @classmethod
    def from_text(cls, text: str, title: str, **meta: str | None) -> "Article":
        return cls(id=text_fingerprint(text), title=title, text=text, **meta)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Article":
        fields = {k: data.get(k) for k in ("id", "title", "text", "source", "published", "path", "url")}
        return cls(**fields)

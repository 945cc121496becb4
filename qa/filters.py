"""Which articles a question may be answered from: by source and by publication date.

An ``ArticleFilter`` keeps the articles whose ``source`` is one of ``sources`` (case-insensitive, exact, spaces
around ignored) and whose ``published`` day lies from ``since`` to ``until`` (both inclusive). An article with no
date is left out as soon as a date bound is given (nothing says it falls in the range); one with no source, as
soon as sources are given. Dates are read with ``corpus.dates.lenient_date``, so an index built before dates were
parsed (its articles hold the text their files gave, "Tue, 01 Aug 2017 ...") is filtered by the same days.

The retriever applies it *inside* retrieval (``Retriever.search(..., filters=...)``): dense and BM25 search only
the matching articles' passages, so the k hits are the best k among them. A filter that no article matches is
``NoMatchingArticles`` (a ``ValueError``: "no article matches the filters: ..."), which the CLI, the API and the
chat show as a message.

Example:
    >>> f = ArticleFilter.parse(["thinkprogress"], since="2017-08-01")
    >>> f.describe()
    'source thinkprogress; published on or after 2017-08-01'
    >>> f.matches(Article("a", "T", "x", source="ThinkProgress", published="Tue, 01 Aug 2017 10:00:00 GMT"))
    True
    >>> ArticleFilter.parse(since="2017-13-01")
    Traceback (most recent call last):
    ValueError: since must be a date as YYYY-MM-DD (got '2017-13-01': month must be in 1..12)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from corpus.article import Article
from corpus.dates import lenient_date

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_SOURCES = 100  # more names than that in one question is not a choice but a mistake (or an attack)
MAX_SOURCE_CHARS = 200
SHOWN = 10  # sources (or their number) named in a no-match message


class NoMatchingArticles(ValueError):
    """No article in the index passes the filter; the message says which filter and what the index holds."""


@dataclass(frozen=True)
class ArticleFilter:
    sources: tuple[str, ...] = ()  # as given; compared case-insensitively
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def parse(cls, sources: Iterable[str] | None = None, since: str | None = None, until: str | None = None,
              names: tuple[str, str, str] = ("source", "since", "until")) -> ArticleFilter:
        """A filter from user input (dates as ``YYYY-MM-DD``; empty means not given); ``ValueError`` naming the
        field, as ``names`` call them (``--source``, ``"since"``, ...), for a bad value."""
        chosen = []
        for source in sources or ():
            if not isinstance(source, str) or not source.strip():
                raise ValueError(f"{names[0]}: {source!r} is not a source name")
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in source):  # could not be written back in a reply
                raise ValueError(f"{names[0]}: not valid text (a lone surrogate: bytes that are not UTF-8, or a broken \\u escape)")
            if len(source) > MAX_SOURCE_CHARS:
                raise ValueError(f"{names[0]} must be at most {MAX_SOURCE_CHARS} characters")
            chosen.append(" ".join(source.split()))
        if len(chosen) > MAX_SOURCES:
            raise ValueError(f"at most {MAX_SOURCES} sources at a time (got {len(chosen)})")
        start, end = parse_day(since, names[1]), parse_day(until, names[2])
        if start and end and start > end:
            raise ValueError(f"{names[1]} {start} is after {names[2]} {end}: no day is in that range")
        return cls(tuple(dict.fromkeys(chosen)), start, end)

    @property
    def active(self) -> bool:
        return bool(self.sources or self.since or self.until)

    @cached_property
    def _source_keys(self) -> frozenset[str]:
        return frozenset(_key(s) for s in self.sources)

    def matches(self, article: Article) -> bool:
        if self.sources and _key(article.source) not in self._source_keys:
            return False
        if self.since is None and self.until is None:
            return True
        day = lenient_date(article.published)
        if day is None:  # no date: it cannot be shown to be in the range
            return False
        return (self.since is None or day >= self.since.isoformat()) and (self.until is None or day <= self.until.isoformat())

    def matching_ids(self, articles: Mapping[str, Article]) -> set[str]:
        """The ids of the articles (by id, as ``CorpusIndex.articles``) that pass."""
        return {a.id for a in articles.values() if self.matches(a)}

    def describe(self) -> str:
        """The filter in words: "source CNN or Reuters; published from 2017-08-01 to 2017-08-31"."""
        parts = [f"source {' or '.join(self.sources)}"] if self.sources else []
        if self.since and self.until:
            parts.append(f"published from {self.since} to {self.until}")
        elif self.since:
            parts.append(f"published on or after {self.since}")
        elif self.until:
            parts.append(f"published on or before {self.until}")
        return "; ".join(parts) or "none"

    def no_match(self, articles: Mapping[str, Article]) -> NoMatchingArticles:
        """The error for a filter none of ``articles`` passes, saying what the index holds instead."""
        known = source_names(articles.values())
        days = sorted(d for d in (lenient_date(a.published) for a in articles.values()) if d)
        held = []
        if self.sources:
            shown = ", ".join(known[:SHOWN]) + (f" and {len(known) - SHOWN} more" if len(known) > SHOWN else "")
            held.append(f"sources in the index: {shown}" if known else "no article in the index has a source")
        if self.since or self.until:
            undated = len(articles) - len(days)
            dated = f"articles published from {days[0]} to {days[-1]}" if days else "no article in the index has a date"
            held.append(dated + (f", {undated} without a date" if days and undated else ""))
        return NoMatchingArticles(f"no article matches the filters: {self.describe()} ({'; '.join(held)})")


def source_names(articles: Iterable[Article]) -> list[str]:
    """The sources of ``articles``, each once (case and spaces aside; spelled as its first article spells it),
    sorted: what a filter can choose from."""
    names: dict[str, str] = {}
    for article in articles:
        if key := _key(article.source):
            names.setdefault(key, " ".join(article.source.split()))
    return sorted(names.values(), key=str.casefold)


def parse_day(value: str | None, name: str) -> dt.date | None:
    """``YYYY-MM-DD`` as a date (None for None or empty); ``ValueError`` naming ``name`` otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a date as YYYY-MM-DD (got {type(value).__name__})")  # noqa: TRY004
    text = value.strip()
    if not text:
        return None
    if not _DAY.fullmatch(text):
        raise ValueError(f"{name} must be a date as YYYY-MM-DD (got {text[:40]!r})")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD (got {text!r}: {exc})") from None


def _key(source: str | None) -> str | None:
    return None if source is None else " ".join(source.split()).casefold()

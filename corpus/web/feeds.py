"""An RSS or Atom feed's items, from the bytes the fetcher got (``feedparser``, which then never fetches).

feedparser reads RSS 0.9x/1.0/2.0 and Atom 0.3/1.0, strict or, for a malformed feed, loose. It is handed the
bytes (as a stream: a string could be taken for a URL or a file name) with the response's Content-Type (for
the encoding) and the feed's URL (as ``Content-Location``: relative links resolve against it). External
entities are not loaded.

Each item gives its link (the article page), its GUID (RSS ``<guid>``, Atom ``<id>``), its title and its
date: ``published``, else ``updated``, as ISO 8601 with the publisher's offset (``2019-08-20T07:12:00+09:00``,
so that its first ten characters are the day where it was published), in UTC when only feedparser could read it;
that day (``corpus.dates.lenient_date``: ``YYYY-MM-DD``) becomes the article's ``published`` when its page gives
none (``corpus.web.store``). A date nothing can read is None, never kept as text: a feed is not the user's to fix.

Example:
    >>> feed = parse_feed(open("news.rss", "rb").read(), "https://example.com/news.rss")   # doctest: +SKIP
    >>> feed.title, [item.link for item in feed.items][:2]                                  # doctest: +SKIP
    ('Example News', ['https://example.com/a.html', 'https://example.com/b.html'])
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from corpus.dates import lenient_date
from corpus.loaders.common import Failure, clean


@dataclass(frozen=True)
class FeedItem:
    link: str | None
    guid: str | None
    title: str | None
    published: str | None  # ISO 8601, with the publisher's offset


@dataclass(frozen=True)
class Feed:
    url: str
    title: str | None
    kind: str  # feedparser's name for it: "rss20", "atom10", ...
    items: tuple[FeedItem, ...]


def parse_feed(data: bytes, url: str, content_type: str | None = None) -> Feed:
    """The feed in ``data`` (fetched from ``url``); ``Failure`` when it is not an RSS or Atom feed."""
    import feedparser

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({str(problem)[:120]})" if problem else ""
        raise Failure(f"not an RSS or Atom feed{detail}")
    items = tuple(_item(entry, url) for entry in parsed.entries)
    return Feed(url, clean(parsed.feed.get("title") or ""), parsed.get("version") or "unknown", items)


def _item(entry, feed_url: str) -> FeedItem:
    link = entry.get("link") or next((l.get("href") for l in entry.get("links", []) if l.get("href")), None)
    guid = (entry.get("id") or "").strip() or None
    return FeedItem(urljoin(feed_url, link.strip()) if link else None, guid, clean(entry.get("title") or ""), _date(entry))


def _date(entry) -> str | None:
    """The item's date as ISO 8601 in the publisher's own offset (so its day is the publisher's day), read
    from the text (RFC 822 in RSS, RFC 3339 in Atom); else feedparser's reading of it, in UTC."""
    for key in ("published", "updated"):
        raw = (entry.get(key) or "").strip()
        if not raw:
            continue
        for parse in (parsedate_to_datetime, datetime.fromisoformat):
            try:
                stamp = parse(raw)
            except (TypeError, ValueError, IndexError):
                continue
            if stamp.tzinfo is not None:
                return stamp.isoformat().replace("+00:00", "Z")
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
        if day := lenient_date(raw):  # a form feedparser does not read ("August 1, 2017"): the day alone
            return day
    return None

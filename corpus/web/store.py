"""Fetched pages kept beside the corpus, so an index can always be rebuilt offline from what was fetched.

A page is read first, by the same loader as a saved file (``stage_page``: a page with no main text is refused
and never kept), then kept (``keep_pages``) in the ``fetched/`` folder as three files:
- ``<name>.html`` (or ``.txt``): the bytes as the server sent them (after any gzip), so ``qa index`` reads
  the page as ``qa add`` did. One exception: a page that declares no encoding, is not UTF-8, and whose
  encoding the server gave in its ``Content-Type`` header gets that declaration, ``<meta charset="...">``
  and a line end, put before its first byte, so every later read decodes it as the server said (the record
  says so, and holds the SHA-256 of the bytes as sent);
- ``<name>.meta.json``, its sidecar (``corpus.loaders.sidecar``): ``url``, the page's final URL after
  redirects, and, for a feed's item, the feed's title as ``source`` and the item's date as ``published``
  when the page itself gives none;
- ``.<name>.fetch.json``, the record of the fetch: the URL asked for and the final one, the redirects, the
  fetch time (UTC, ISO 8601), the HTTP status, the content type and charset, the size and SHA-256 of the
  body, the user agent, and the feed and item it came from. Hidden, as the loader and the index's source
  tracking skip hidden files (a sidecar's keys are only the article's metadata, so it cannot go there).
The name comes from the URL: its host and path folded to ``a-z0-9-``, at most ``MAX_STEM`` characters, and 10
hex digits of the URL's SHA-256 (``-2``, ``-3`` … after it if that name holds other bytes): it cannot leave
the folder, hide, or be a sidecar.

Example:
    >>> page_name("https://www.cnn.com/2013/11/27/justice/tucson-arizona-captive-girls/index.html", ".html")
    'cnn-com-2013-11-27-justice-tucson-arizona-captive-girls-index-1502a754d5.html'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from corpus.article import Article
from corpus.dates import lenient_date
from corpus.loaders import LOADERS
from corpus.loaders.common import Failure, exc_reason
from corpus.loaders.encoding import codec_for_label, declared_encoding
from corpus.loaders.sidecar import apply_sidecar, sidecar_path
from corpus.web.fetch import Fetched

FETCHED_FOLDER = "fetched"
RECORD_SUFFIX = ".fetch.json"
MAX_STEM = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PAGE_SUFFIXES = re.compile(r"\.(?:html?|php\d?|aspx?|jsp|cgi|shtml)$", re.IGNORECASE)


@dataclass(frozen=True)
class FeedContext:
    """The feed an item came from: its URL and title, the item's GUID, date (ISO 8601) and title."""

    feed_url: str
    feed_title: str | None = None
    guid: str | None = None
    published: str | None = None
    item_title: str | None = None


@dataclass(frozen=True)
class StagedPage:
    """A fetched page that loads, waiting to be kept: its article as the loader will read the kept files."""

    fetched: Fetched
    article: Article
    data: bytes  # what is stored
    sidecar: dict[str, str]
    record: dict
    name: str
    feed: FeedContext | None = None


@dataclass(frozen=True)
class KeptPage:
    staged: StagedPage
    path: Path
    article: Article  # its path is the kept file's
    created: bool  # False: the same bytes were kept there already

    @property
    def files(self) -> list[Path]:
        """The files the index records for it: the page and its sidecar (the record is hidden)."""
        return [self.path, sidecar_path(self.path)]


def page_name(url: str, suffix: str) -> str:
    """A safe, bounded, unique file name for the page at ``url``."""
    parts = urlsplit(url)
    host = (parts.hostname or "page").removeprefix("www.")
    path = _PAGE_SUFFIXES.sub("", unquote(parts.path))
    folded = unicodedata.normalize("NFKD", f"{host} {path} {unquote(parts.query)}")
    slug = _NOT_SLUG.sub("-", folded.encode("ascii", "ignore").decode("ascii").lower()).strip("-")
    slug = slug[:MAX_STEM].rstrip("-") or "page"
    return f"{slug}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:10]}{suffix}"


def stored_bytes(page: Fetched) -> tuple[bytes, str | None]:
    """(the bytes to keep, the declaration put before them or None): the HTTP charset is written into a page
    that declares none, is not UTF-8 and has no byte-order mark, so the HTML loader reads it as sent."""
    body = page.body
    if page.suffix != ".html" or not page.charset or codec_for_label(page.charset) is None:
        return body, None
    if body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or declared_encoding(body) is not None:
        return body, None
    try:
        body.decode("utf-8")
        return body, None  # valid UTF-8 is read as UTF-8 whatever is declared
    except UnicodeDecodeError:
        pass
    label = re.sub(r"[^A-Za-z0-9._:-]", "", page.charset)
    declaration = f'<meta charset="{label}">\n'
    return declaration.encode("ascii") + body, declaration


def stage_page(page: Fetched, folder: Path, feed: FeedContext | None = None) -> StagedPage:
    """Read ``page`` as its kept files will be read; ``Failure`` (the loader's reason) when it does not load."""
    data, declaration = stored_bytes(page)
    name = page_name(page.final_url, page.suffix)
    where = Path(folder) / f".unkept-{uuid.uuid4().hex}" / name  # never on disk: no sidecar is read for it
    try:
        pairs, _ = LOADERS[page.suffix](where, data)  # [(article, origin)]: a one-article format
        loaded = pairs[0][0]
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001 (as the batch loader does: one odd page never stops a batch)
        raise Failure(f"could not load ({exc_reason(exc)})") from None
    sidecar = {"url": page.final_url}
    if feed is not None and feed.feed_title and not loaded.source:
        sidecar["source"] = feed.feed_title
    if feed is not None and (day := lenient_date(feed.published)) and not loaded.published:
        sidecar["published"] = day  # the publisher's day (the feed's offset kept), as YYYY-MM-DD
    record = {
        "url": page.final_url,
        "requested_url": page.url,
        "redirects": list(page.redirects),
        "fetched_at": page.fetched_at,
        "status": page.status,
        "content_type": page.content_type,
        "charset": page.charset,
        "bytes": len(page.body),
        "sha256": hashlib.sha256(page.body).hexdigest(),
        "declaration_added": declaration,
        "feed": None if feed is None else {
            "url": feed.feed_url, "title": feed.feed_title, "guid": feed.guid,
            "published": feed.published, "item_title": feed.item_title,
        },
    }
    article = apply_sidecar(loaded, sidecar)
    return StagedPage(page, article, data, sidecar, record | {"article_id": article.id}, name, feed)


def keep_pages(staged: list[StagedPage], folder: Path) -> list[KeptPage]:
    """Write each page with its sidecar and record into ``folder``; the articles then name the kept files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kept: list[KeptPage] = []
    try:
        for page in staged:
            target, created = _free_name(folder, page.name, page.data)
            _write_atomic(sidecar_path(target), _json(page.sidecar))
            _write_atomic(record_path(target), _json(page.record))
            if created:
                _write_atomic(target, page.data)
            kept.append(KeptPage(page, target, replace(page.article, path=str(target)), created))
    except BaseException:
        withdraw(kept)
        raise
    return kept


def withdraw(kept: list[KeptPage]) -> None:
    """Take kept pages out again (indexing them failed): their files go, unless they were there before."""
    for page in kept:
        if page.created:
            for path in (page.path, sidecar_path(page.path), record_path(page.path)):
                try:
                    path.unlink(missing_ok=True)
                except OSError:  # a folder we just wrote to; if it happens, the index reports the change
                    pass


def record_path(page: Path) -> Path:
    """The hidden record of a kept page: ``name.html`` -> ``.name.fetch.json``."""
    return page.with_name(f".{page.stem}{RECORD_SUFFIX}")


def read_record(page: Path) -> dict:
    return json.loads(record_path(page).read_text(encoding="utf-8"))


def _free_name(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """(where to keep ``data`` as ``name``, whether it is new there): a file with the same bytes is reused."""
    stem, suffix = os.path.splitext(name)
    for i in range(1, 10_000):
        candidate = folder / (name if i == 1 else f"{stem}-{i}{suffix}")
        if not candidate.exists() and not sidecar_path(candidate).exists():
            return candidate, True
        if candidate.is_file() and candidate.read_bytes() == data:
            return candidate, False
    raise Failure(f"too many pages kept under the name {name}")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary file beside ``path``, flush it to disk, then rename it over."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _json(value: dict) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


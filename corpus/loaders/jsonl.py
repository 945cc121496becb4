"""JSON Lines (.jsonl): one article a line, ``{"title", "text", "source", "published", "url"}``.

Only ``text`` is required; a missing title is derived from the text. ``published`` is read as a date
(``corpus.dates``) and kept as ``YYYY-MM-DD``. A bad line (bad JSON, a missing text, a ``published`` that is not
a date) becomes a ``LoadError`` naming its line number and the other lines still load. Lines carry their own
metadata (no sidecar).

Example:
    >>> loaded, errors = load_jsonl(Path("a.jsonl"), b'{"text": "Body."}\\n{oops\\n')
    >>> [article.title for article, _ in loaded], [str(e) for e in errors]
    (['Body'], ['a.jsonl line 2: invalid JSON (Expecting property name enclosed in double quotes)'])
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

from corpus.article import Article
from corpus.dates import parse_date
from corpus.loaders.common import Failure, Loaded, LoadError, invalid_utf8, refuse_utf16
from corpus.loaders.titles import title_for

JSONL_KEYS = ("title", "text", "source", "published", "url")


def load_jsonl(path: Path, data: bytes) -> tuple[Loaded, list[LoadError]]:
    """One article a line; a bad line is an error naming its number and the other lines still load."""
    refuse_utf16(data)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    loaded: Loaded = []
    errors: list[LoadError] = []
    seen_lines = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        seen_lines += 1
        try:
            article = _jsonl_article(raw, path)
        except Failure as failure:
            errors.append(LoadError(str(path), failure.reason, number))
            continue
        loaded.append((article, f"{path} line {number}"))
    if not seen_lines:
        raise Failure("empty file (only whitespace)")
    return loaded, errors


def _jsonl_article(raw: bytes, path: Path) -> Article:
    if b"\x00" in raw:
        raise Failure("binary data, not text")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_utf8(raw, exc.start) from None  # a position within the line
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Failure(f"invalid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise Failure(f"expected a JSON object, got {type(record).__name__}")
    for key in JSONL_KEYS:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise Failure(f"{key} must be a string, got {type(record[key]).__name__}")
    text = record.get("text")
    if text is None:
        raise Failure("missing text")
    if not text.strip():
        raise Failure("empty text")
    title = (record.get("title") or "").strip() or title_for(text)
    meta = {key: record.get(key) for key in ("source", "url")}
    try:
        meta["published"] = parse_date(record.get("published"))
    except ValueError as exc:
        raise Failure(f"published: {exc}") from None
    return Article.from_text(text, title=title, path=str(path), **meta)

"""Markdown front matter: a YAML block between ``---`` lines at the very top of a ``.md`` file.

Its ``title``, ``source``, ``published`` (or ``date``) and ``url`` become the article's metadata; other keys
(``tags``, ``layout``, ...) are ignored, as static site generators leave them to other tools. The date is kept
as ``YYYY-MM-DD`` (``corpus.dates``: YAML gives ``2017-04-12`` as a date, a time with it as a datetime, and
text such as "April 12, 2017" is read too). The block is not part of the article: the text (and every offset
into it) starts after its closing line. A block that opens but is not valid YAML, or holds a value that is not
text where a key is used, or a date that is not a date, is an error that names the reason, never silently
indexed as prose.

Example:
    >>> meta, body = split_front_matter("---\\ntitle: Storm hits\\ndate: 2017-04-12\\n---\\nThe storm arrived.")
    >>> meta
    {'title': 'Storm hits', 'published': '2017-04-12'}
    >>> body
    'The storm arrived.'
    >>> split_front_matter("No front matter here.")
    ({}, 'No front matter here.')
"""

from __future__ import annotations

import datetime as dt
import re

import yaml

from corpus.dates import parse_date
from corpus.loaders.common import Failure

# The opening line, then the block up to a closing "---" (or YAML's "...") line; bounded so that a file
# opening with a thematic break and no closing line is read as prose, not scanned to its end.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
MAX_FRONT_MATTER_CHARS = 64_000
KEYS = {"title": "title", "source": "source", "published": "published", "date": "published", "url": "url"}


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """(the metadata in the front matter, the text after it); ({}, text) when the text has none."""
    match = _FRONT_MATTER.match(text[: MAX_FRONT_MATTER_CHARS + 8])
    if match is None:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 2}" if where is not None else ""  # +2: 1-based, after the opening ---
        raise Failure(f"front matter is not valid YAML{at} ({getattr(exc, 'problem', None) or 'parse error'})") from None
    if data is None:  # an empty block: no metadata, still not part of the text
        data = {}
    if not isinstance(data, dict):
        raise Failure("front matter must be YAML keys and values (title: ...)")
    meta: dict[str, str] = {}
    for key, field in KEYS.items():
        if key in data and data[key] is not None and field not in meta:
            value = _date(key, data[key]) if field == "published" else _text(key, data[key])
            if value is not None:  # an empty date is no date
                meta[field] = value
    return meta, text[match.end():]


def _date(key: str, value: object) -> str | None:
    """The date as ``YYYY-MM-DD`` (None when empty); a value that is not a date is an error naming the key."""
    try:
        return parse_date(value if isinstance(value, (dt.date, str)) else _text(key, value))
    except ValueError as exc:
        raise Failure(f"front matter: {key}: {exc}") from None


def _text(key: str, value: object) -> str:
    """A scalar as text: YAML reads ``2017-04-12`` as a date and ``1984`` as a number; both become text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Failure(f"front matter: {key} must be text, got {type(value).__name__}")
    return str(value).strip()

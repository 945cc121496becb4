"""Metadata sidecars: ``<stem>.meta.json`` beside an article file sets or overrides its metadata.

Allowed keys are ``title``, ``source``, ``published`` and ``url`` (strings or null); an unknown key is an
error, so a typo cannot be silently ignored. A null or empty ``title`` keeps the title the loader found.
``published`` is read as a date (``corpus.dates``: ISO 8601, RFC 2822, "August 1, 2017", ...) and kept as
``YYYY-MM-DD``. A bad sidecar drops its article, with an error that names both files ("story.txt: not loaded:
its metadata sidecar story.meta.json: invalid JSON (...)"; "...: published: not a date: 'soon' (...)").

Example:
    >>> sidecar_path("news/story.txt")
    PosixPath('news/story.meta.json')
    >>> is_sidecar("news/story.meta.json")
    True
"""

from __future__ import annotations

import json
from pathlib import Path

from corpus.article import Article
from corpus.dates import parse_date
from corpus.loaders.common import Failure, os_reason

SIDECAR_SUFFIX = ".meta.json"
SIDECAR_KEYS = ("title", "source", "published", "url")


def is_sidecar(path: str | Path) -> bool:
    """True for a ``<stem>.meta.json`` metadata file."""
    return Path(path).name.lower().endswith(SIDECAR_SUFFIX)


def sidecar_path(path: str | Path) -> Path:
    """The sidecar that belongs to an article file: ``story.txt`` -> ``story.meta.json``."""
    path = Path(path)
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, str | None]:
    """The metadata in ``<stem>.meta.json`` beside ``path``, or {} when there is none."""
    meta_path = sidecar_path(path)
    if not meta_path.exists():
        return {}
    try:
        data = meta_path.read_bytes()
        meta = json.loads(data.decode("utf-8-sig"))
    except OSError as exc:
        raise _bad(meta_path, f"cannot read it ({os_reason(exc)})") from None
    except UnicodeDecodeError:
        raise _bad(meta_path, "not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise _bad(meta_path, f"invalid JSON ({exc.msg})") from None
    if not isinstance(meta, dict):
        raise _bad(meta_path, "must be a JSON object")
    unknown = sorted(set(meta) - set(SIDECAR_KEYS))
    if unknown:  # a typo such as "sorce" would otherwise be silently ignored
        raise _bad(meta_path, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(SIDECAR_KEYS)})")
    for key, value in meta.items():
        if value is not None and not isinstance(value, str):
            raise _bad(meta_path, f"{key} must be a string or null")
    if "published" in meta:
        try:
            meta["published"] = parse_date(meta["published"])
        except ValueError as exc:  # free text must not pass for a date: the article is not loaded, and says why
            raise _bad(meta_path, f"published: {exc}") from None
    return meta


def _bad(meta_path: Path, reason: str) -> Failure:
    """A bad sidecar drops its article: the failure is the article's, and its reason names the sidecar."""
    return Failure(f"not loaded: its metadata sidecar {meta_path.name}: {reason}")


def apply_sidecar(article: Article, meta: dict[str, str | None]) -> Article:
    """``article`` with the sidecar's metadata laid over its own."""
    if not meta:
        return article
    title = (meta.get("title") or "").strip() or article.title  # null/empty title keeps the derived one
    updates = {key: meta[key] for key in ("source", "published", "url") if key in meta}
    fields = article.to_dict() | updates | {"title": title}
    return Article(**fields)

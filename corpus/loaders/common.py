"""What every format loader shares: the error types, whole-file failures, and strict UTF-8 decoding.

A loader raises ``Failure`` for a file it cannot load; the batch loader turns it into a ``LoadError`` that
names the file (and the line, for JSONL), so one bad file never stops a batch.

Example:
    >>> str(LoadError("bad.jsonl", "invalid JSON (Expecting value)", 3))
    'bad.jsonl line 3: invalid JSON (Expecting value)'
    >>> decode_text(b"\\xef\\xbb\\xbfHeadline")   # the UTF-8 byte-order mark is dropped
    'Headline'
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from corpus.article import Article

Loaded = list[tuple[Article, str]]  # each article with where it came from ("a.txt", "b.jsonl line 4")


@dataclass
class LoadError:
    """Why one file (or one line of a JSONL file) could not be loaded."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path} line {self.line}"
        return f"{where}: {self.reason}"


@dataclass
class LoadReport:
    """The outcome of a batch load: what loaded, what failed, and which paths repeated a loaded text.

    ``origins`` says where each loaded article came from, by id ("a.txt", "b.jsonl line 4"), so a caller that
    finds one already indexed can name it.
    """

    articles: list[Article] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


class ArticleLoadError(Exception):
    """Raised by ``load_file``; ``error`` is the first failure, ``errors`` all of them."""

    def __init__(self, error: LoadError, errors: list[LoadError] | None = None):
        super().__init__(str(error))
        self.error = error
        self.errors = errors or [error]


class Failure(Exception):
    """A whole-file (or whole-line) failure, turned into a LoadError (naming the file) by the caller."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def exc_reason(exc: Exception) -> str:
    """An unexpected exception as a reason: its class, and its message when it has one."""
    message = str(exc).strip()
    return f"{exc.__class__.__name__}: {message}" if message else exc.__class__.__name__


def os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def refuse_utf16(data: bytes) -> None:
    """UTF-16 text is refused with a hint, not decoded as garbage."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Failure("not valid UTF-8 (UTF-16 byte-order mark); save the file as UTF-8")


def invalid_utf8(data: bytes, position: int) -> Failure:
    """The failure for the undecodable byte at ``position`` of ``data``."""
    return Failure(f"not valid UTF-8 (byte 0x{data[position]:02x} at position {position})")


def decode_text(data: bytes) -> str:
    """Strict UTF-8 (a leading byte-order mark is dropped); anything else is refused, never guessed."""
    refuse_utf16(data)
    if b"\x00" in data:
        raise Failure("binary file, not text")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_utf8(data, exc.start + bom) from None  # a position in the file as on disk, BOM included
    if not text.strip():
        raise Failure("empty file (only whitespace)")
    return text


def clean(value: str) -> str | None:
    """Whitespace runs collapsed to one space; None when nothing is left."""
    return " ".join(value.split()) or None

"""Finding and reading the files of a batch load: folders walked in sorted order, hidden entries and
sidecars skipped, each problem a ``LoadError`` (for the walk) or a ``Failure`` (for a read).

Example:
    >>> [str(p) for p, error in iter_files(["corpus/articles"]) if error is None]   # doctest: +SKIP
    ['corpus/articles/trump-china-north-korea-thinkprogress.txt', 'corpus/articles/trump-trade-china-north-korea.txt']
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, Iterator

from corpus.loaders.common import Failure, LoadError, os_reason
from corpus.loaders.sidecar import is_sidecar


def iter_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, LoadError | None]]:
    """Every file named or under a named folder, or the error that stopped the walk there."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, resolved(path))
        elif path.exists() or path.is_symlink():
            yield path, None
        else:
            yield path, LoadError(str(path), "not found")


def _walk(folder: Path, root: Path) -> Iterator[tuple[Path, LoadError | None]]:
    """Files under ``folder`` in sorted order, skipping hidden entries and sidecars.

    Symlinked folders are not followed, so a link loop cannot make the walk endless. A link to a file outside
    ``root`` (the real path of the folder given) is an error, not a file: ``ln -s /etc/passwd corpus/x.txt``
    must not put a file from elsewhere into the index. A link named on its own is the user's choice and loads.
    """
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield folder, LoadError(str(folder), f"cannot read folder ({os_reason(exc)})")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = folder / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(child, root)
        elif is_sidecar(child):
            continue
        elif entry.is_symlink() and not resolved(child).is_relative_to(root):
            yield child, LoadError(str(child), "a link to a file outside the folder")
        else:
            yield child, None


def resolved(path: Path) -> Path:
    """The real path, so one file named two ways is recognised; the absolute path if it cannot resolve."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


# The largest article file read, in bytes; ``$QA_MAX_ARTICLE_BYTES`` changes it. Why 50 MB: far above any
# article (the default corpus's are 3 and 6 KB), and chunking even a 50 MB file of text takes seconds; past it a
# file is more likely a mistake (a dump, a log) that would only fill the index and the memory.
MAX_ARTICLE_BYTES_ENV = "QA_MAX_ARTICLE_BYTES"
DEFAULT_MAX_ARTICLE_BYTES = 50 * 2**20


def max_article_bytes() -> int:
    """The size limit of an article file: ``$QA_MAX_ARTICLE_BYTES`` when set, else 50 MB."""
    raw = os.environ.get(MAX_ARTICLE_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_ARTICLE_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise Failure(f"{MAX_ARTICLE_BYTES_ENV} must be a whole number of bytes, at least 1 (it is {raw[:40]!r})")
    return int(raw)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing, unreadable, empty, too large or not regular file is a ``Failure``.

    The size is checked before reading, so a file over the limit is never read into memory; a pipe or a
    device (which has no size, and may never end) is refused rather than read."""
    limit = max_article_bytes()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise Failure("not a regular file (a pipe or a device)")
        if info.st_size > limit:
            raise _too_large(info.st_size, limit)
        data = path.read_bytes()
    except FileNotFoundError:
        raise Failure("not found (or a broken link)") from None
    except OSError as exc:
        raise Failure(f"cannot read ({os_reason(exc)})") from None
    if len(data) > limit:  # it grew between the check and the read
        raise _too_large(len(data), limit)
    if not data:
        raise Failure("empty file")
    return data


def _too_large(size: int, limit: int) -> Failure:
    return Failure(f"too large ({_mb(size)}; the limit is {_mb(limit)}, set {MAX_ARTICLE_BYTES_ENV})")


def _mb(n: int) -> str:
    """A size for people: "52.4 MB", "50 MB", or "900 bytes" (a small limit is shown exactly)."""
    return f"{n / 2**20:.1f}".removesuffix(".0") + " MB" if n >= 2**20 else f"{n:,} bytes"

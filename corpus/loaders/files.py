"""Finding and reading the files of a batch load: folders walked in sorted order, hidden entries and
sidecars skipped, each problem a ``LoadError`` (for the walk) or a ``Failure`` (for a read).

Example:
    >>> [str(p) for p, error in iter_files(["corpus/articles"]) if error is None]   # doctest: +SKIP
    ['corpus/articles/trump-china-north-korea-thinkprogress.txt', 'corpus/articles/trump-trade-china-north-korea.txt']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from corpus.loaders.common import Failure, LoadError, os_reason
from corpus.loaders.sidecar import is_sidecar


def iter_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, LoadError | None]]:
    """Every file named or under a named folder, or the error that stopped the walk there."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path)
        elif path.exists() or path.is_symlink():
            yield path, None
        else:
            yield path, LoadError(str(path), "not found")


def _walk(folder: Path) -> Iterator[tuple[Path, LoadError | None]]:
    """Files under ``folder`` in sorted order, skipping hidden entries and sidecars.

    Symlinked folders are not followed, so a link loop cannot make the walk endless.
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
            yield from _walk(child)
        elif not is_sidecar(child):
            yield child, None


def resolved(path: Path) -> Path:
    """The real path, so one file named two ways is recognised; the absolute path if it cannot resolve."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing, unreadable or empty file is a ``Failure``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Failure("not found (or a broken link)") from None
    except OSError as exc:
        raise Failure(f"cannot read ({os_reason(exc)})") from None
    if not data:
        raise Failure("empty file")
    return data

"""Uploaded articles: check size and type, give them a safe name, and store them in the uploads folder.

An upload is checked before it is kept: its size (``MAX_UPLOAD_BYTES``), its type (the loader's suffixes),
and that the loader can read it (staged in a hidden folder, which neither the loader nor the index's source
tracking looks into). Only then is it moved into the uploads folder under a sanitised name, so a file that
cannot be read never lands in the corpus. A name such as ``../../x.txt`` or ``C:\\x\\..\\y.md`` keeps only
its last component, made of letters, digits, ``.``, ``-`` and ``_``; the stored path is checked to lie inside
the uploads folder. A kept file that then cannot be indexed is taken out again (``withdraw``), so the corpus
folder only ever holds files the index has. Messages name the file as the user gave it, never a server path.

Example:
    >>> safe_filename("../../etc/passwd.txt")
    'passwd.txt'
    >>> safe_filename("Trump <script>.MD")
    'Trump_script.md'
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from corpus import Article
from corpus.loaders import SUPPORTED_SUFFIXES, ArticleLoadError, load_file

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_NAME_CHARS = 100
STAGING = ".staging"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRejected(ValueError):
    """An upload that is refused; the message says why in words a user understands."""


@dataclass(frozen=True)
class StoredUpload:
    path: Path | None  # None: not kept, every article in it is already in the corpus
    titles: tuple[str, ...]  # titles of the articles the file holds
    duplicate: bool = False
    articles: tuple[Article, ...] = ()  # as read from the kept file (its path), so it is not parsed again
    created: bool = False  # this upload put the file there (False: the same bytes were there already)


def safe_filename(name: str) -> str:
    """A file name that cannot leave its folder, hide, or carry markup; the suffix is kept, lower-cased."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")
    stem = re.sub(r"_+", "_", stem)
    suffix = _UNSAFE.sub("", suffix).lower()
    if not stem:
        stem = "upload"
    if stem.lower().endswith(".meta"):  # never a metadata sidecar
        stem = stem[: -len(".meta")] + "_meta"
    room = MAX_NAME_CHARS - (len(suffix) + 1 if suffix else 0)
    stem = stem[:room].rstrip("._-") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(name: str, size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The safe name for an upload, or ``UploadRejected`` for a wrong type, an empty or a too large file."""
    safe = safe_filename(name)
    suffix = Path(safe).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "no extension"
        raise UploadRejected(f"unsupported file type ({shown}); upload {', '.join(SUPPORTED_SUFFIXES)}")
    if size <= 0:
        raise UploadRejected("empty file")
    if size > max_bytes:
        raise UploadRejected(f"too large ({size / 1e6:.1f} MB); the limit is {max_bytes / 1e6:.0f} MB a file")
    return safe


def inside(folder: Path, path: Path) -> bool:
    folder, path = folder.resolve(), path.resolve()
    return path.parent == folder


def store_upload(
    source: Path,
    original_name: str,
    uploads_dir: Path,
    max_bytes: int = MAX_UPLOAD_BYTES,
    known_ids: set[str] | frozenset[str] = frozenset(),
) -> StoredUpload:
    """Check, stage, load and keep one uploaded file; ``UploadRejected`` says why one is refused.

    A file whose articles are all in ``known_ids`` already is not kept (``duplicate``): keeping it would put
    a file in the corpus folder that the index does not record.
    """
    source = Path(source)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise UploadRejected(f"cannot read the upload ({exc.strerror or exc.__class__.__name__})") from None
    safe = check_upload(original_name, size, max_bytes)
    uploads_dir = Path(uploads_dir)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    stage_dir = uploads_dir / STAGING / uuid.uuid4().hex
    stage_dir.mkdir(parents=True)
    try:
        staged = stage_dir / safe
        shutil.copyfile(source, staged)
        try:
            articles = load_file(staged)
        except ArticleLoadError as exc:
            where = f"line {exc.error.line}: " if exc.error.line is not None else ""
            more = f" (and {len(exc.errors) - 1} more problem(s))" if len(exc.errors) > 1 else ""
            reason = exc.error.reason  # a library's message may quote the path: the user sees the file name
            for shown_path in {str(staged.resolve()), str(staged)}:
                reason = reason.replace(shown_path, safe)
            raise UploadRejected(f"cannot be read: {where}{reason}{more}") from None
        if not articles:
            raise UploadRejected("no article found in the file")
        titles = tuple(a.title for a in articles)
        if all(a.id in known_ids for a in articles):
            return StoredUpload(None, titles, duplicate=True)
        digest = _sha256(staged)
        target = _free_name(uploads_dir, safe, digest)
        if not inside(uploads_dir, target):  # cannot happen with safe_filename; checked all the same
            raise UploadRejected("refused file name")
        created = not target.exists()
        if created:
            os.replace(staged, target)
        kept = tuple(replace(a, path=str(target)) for a in articles)
        return StoredUpload(target, titles, articles=kept, created=created)
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
        try:
            (uploads_dir / STAGING).rmdir()
        except OSError:
            pass


def withdraw(upload: StoredUpload) -> None:
    """Take a kept upload out of the uploads folder again (its indexing failed); a file that was there before
    the upload stays."""
    if upload.path is not None and upload.created:
        try:
            upload.path.unlink(missing_ok=True)
        except OSError:  # cannot happen in a folder we just wrote to; if it does, the index reports the change
            pass


def discard_temporary(path: Path) -> None:
    """Delete the temporary copy an upload arrived as (the web server's cache), whether it was kept or not:
    a kept upload was copied into the uploads folder, a refused one must not stay anywhere."""
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:  # e.g. a folder, or no permission: nothing of ours to clean
        pass


def _free_name(folder: Path, name: str, digest: str) -> Path:
    """``name`` in ``folder``, or ``name-2``, ``name-3`` ...; a file with the same bytes is reused."""
    stem, suffix = os.path.splitext(name)
    for i in range(1, 10_000):
        candidate = folder / (name if i == 1 else f"{stem}-{i}{suffix}")
        if not candidate.exists():
            return candidate
        if candidate.is_file() and _sha256(candidate) == digest:
            return candidate
    raise UploadRejected("too many files with this name")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

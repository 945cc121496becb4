"""Load articles from files and folders: .txt .md .html/.htm .jsonl .pdf.

A batch load never stops at a bad file: every failure becomes a ``LoadError`` naming the file (and the
line, for JSONL) and the reason, and every other file still loads. A file over ``$QA_MAX_ARTICLE_BYTES``
(default 50 MB) is refused unread. Loading the same text twice keeps it
once. A sidecar ``<stem>.meta.json`` beside a file (keys ``title``, ``source``, ``published``, ``url``)
sets or overrides that file's metadata (JSONL lines carry their own metadata and take no sidecar); a
Markdown file's front matter sets its own. In a folder, a link to a file outside that folder is skipped
with an error; a link named on its own loads.

Each format has its own module (text, markdown, html, jsonl, pdf); ``LOADERS`` maps a suffix to its loader.

Example:
    >>> report = load_paths(["corpus/articles", "extra/story.html"])   # doctest: +SKIP
    >>> [a.title for a in report.articles]                             # doctest: +SKIP
    >>> for error in report.errors:                                    # doctest: +SKIP
    ...     print(error)          # e.g. "bad.jsonl line 3: invalid JSON (Expecting value)"
    >>> articles = load_file("story.txt")   # one file; raises ArticleLoadError  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from corpus.article import Article
from corpus.loaders.common import (
    ArticleLoadError,
    Failure,
    Loaded,
    LoadError,
    LoadReport,
    exc_reason,
)
from corpus.loaders.files import iter_files, read_bytes, resolved
from corpus.loaders.html import html_to_text, load_html
from corpus.loaders.jsonl import JSONL_KEYS, load_jsonl
from corpus.loaders.markdown import load_markdown, markdown_title
from corpus.loaders.pdf import load_pdf
from corpus.loaders.sidecar import (
    SIDECAR_KEYS,
    SIDECAR_SUFFIX,
    apply_sidecar,
    is_sidecar,
    read_sidecar,
    sidecar_path,
)
from corpus.loaders.text import load_text
from corpus.loaders.titles import (
    DERIVED_TITLE_WORDS,
    HEADLINE_MAX_CHARS,
    HEADLINE_MAX_WORDS,
    derive_title,
    ends_like_sentence,
    headline_of,
    title_for,
)

__all__ = [
    "DERIVED_TITLE_WORDS", "HEADLINE_MAX_CHARS", "HEADLINE_MAX_WORDS", "JSONL_KEYS", "LOADERS", "SIDECAR_KEYS",
    "SIDECAR_SUFFIX", "SUPPORTED_SUFFIXES", "ArticleLoadError", "LoadError", "LoadReport", "derive_title",
    "ends_like_sentence", "headline_of", "html_to_text", "is_sidecar", "load_file", "load_paths",
    "markdown_title", "sidecar_path", "title_for",
]

FileLoader = Callable[[Path, bytes], tuple[Loaded, list[LoadError]]]


def _one_article(load: Callable[[Path, bytes], Article]) -> FileLoader:
    """A one-article format: the article, with its sidecar's metadata (read only once the file loads)."""

    def load_with_sidecar(path: Path, data: bytes) -> tuple[Loaded, list[LoadError]]:
        article = apply_sidecar(load(path, data), read_sidecar(path))
        return [(article, str(path))], []

    return load_with_sidecar


LOADERS: dict[str, FileLoader] = {  # the order is the one error messages list the supported types in
    ".txt": _one_article(load_text),
    ".md": _one_article(load_markdown),
    ".html": _one_article(load_html),
    ".htm": _one_article(load_html),
    ".jsonl": load_jsonl,  # many articles a file, each line with its own metadata
    ".pdf": _one_article(load_pdf),
}
SUPPORTED_SUFFIXES = tuple(LOADERS)


def load_paths(paths: Iterable[str | Path]) -> LoadReport:
    """Load every supported file under ``paths`` (files or folders); collect errors instead of raising."""
    if isinstance(paths, (str, Path)):  # a lone str would otherwise be iterated character by character
        paths = [paths]
    report = LoadReport()
    seen_files: set[Path] = set()
    seen_ids: set[str] = set()
    for file, walk_error in iter_files(paths):
        if walk_error is not None:
            report.errors.append(walk_error)
            continue
        key = resolved(file)
        if key in seen_files:  # the same file named twice (e.g. a file and its folder) is not a duplicate
            continue
        seen_files.add(key)
        loaded, errors = _load_one(file)
        report.errors.extend(errors)
        for article, origin in loaded:
            if article.id in seen_ids:
                report.duplicates.append(origin)
                continue
            seen_ids.add(article.id)
            report.articles.append(article)
            report.origins[article.id] = origin
    return report


def load_file(path: str | Path) -> list[Article]:
    """Load one file; raise ``ArticleLoadError`` if any of it (any JSONL line included) fails."""
    loaded, errors = _load_one(Path(path))
    if errors:
        raise ArticleLoadError(errors[0], errors)
    return [article for article, _ in loaded]


def _load_one(path: Path) -> tuple[Loaded, list[LoadError]]:
    """Load one file into (article, origin) pairs and the errors met; never raises for bad input."""
    suffix = path.suffix.lower()
    try:
        if is_sidecar(path):
            raise Failure("metadata sidecar, not an article (load the file it describes)")
        if path.is_dir():
            raise Failure("is a folder")
        if suffix not in LOADERS:
            shown = suffix or "(none)"
            raise Failure(f"unsupported file type {shown} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
        return LOADERS[suffix](path, read_bytes(path))
    except Failure as failure:
        return [], [LoadError(str(path), failure.reason)]
    except Exception as exc:  # one odd file must never stop a batch; the reason still names the cause
        return [], [LoadError(str(path), f"could not load ({exc_reason(exc)})")]

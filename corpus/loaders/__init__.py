"""Load articles from files and folders: .txt .md .html/.htm .jsonl .pdf.

A batch load never stops at a bad file: every failure becomes a ``LoadError`` naming the file (and the
line, for JSONL) and the reason, and every other file still loads. Loading the same text twice keeps it
once. A sidecar ``<stem>.meta.json`` beside a file (keys ``title``, ``source``, ``published``, ``url``)
sets or overrides that file's metadata (JSONL lines carry their own metadata and take no sidecar).

Example:
    >>> report = load_paths(["corpus/articles", "extra/story.html"])   # doctest: +SKIP
    >>> [a.title for a in report.articles]                             # doctest: +SKIP
    >>> for error in report.errors:                                    # doctest: +SKIP
    ...     print(error)          # e.g. "bad.jsonl line 3: invalid JSON (Expecting value)"
    >>> articles = load_file("story.txt")   # one file; raises ArticleLoadError  # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from corpus.article import Article

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl", ".pdf")
SIDECAR_SUFFIX = ".meta.json"
SIDECAR_KEYS = ("title", "source", "published", "url")
JSONL_KEYS = ("title", "text", "source", "published", "url")

HEADLINE_MAX_WORDS = 20
HEADLINE_MAX_CHARS = 200
DERIVED_TITLE_WORDS = 12
_LINE = re.compile(r"[^\r\n]*")
_CLOSING_QUOTES = "\"'”’»)]"
_SENTENCE_ENDS = (".", "?", "!", ":", ";", "…")


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
    """The outcome of a batch load: what loaded, what failed, and which paths repeated a loaded text."""

    articles: list[Article] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


class ArticleLoadError(Exception):
    """Raised by ``load_file``; ``error`` is the first failure, ``errors`` all of them."""

    def __init__(self, error: LoadError, errors: list[LoadError] | None = None):
        super().__init__(str(error))
        self.error = error
        self.errors = errors or [error]


class _Failure(Exception):
    """Internal: a whole-file failure, turned into a LoadError by the caller."""

    def __init__(self, reason: str, path: Path | None = None):
        super().__init__(reason)
        self.reason = reason
        self.path = path


# ----------------------------------------------------------------------------------------------------
# Public entry points


def load_paths(paths: Iterable[str | Path]) -> LoadReport:
    """Load every supported file under ``paths`` (files or folders); collect errors instead of raising."""
    if isinstance(paths, (str, Path)):  # a lone str would otherwise be iterated character by character
        paths = [paths]
    report = LoadReport()
    seen_files: set[Path] = set()
    seen_ids: set[str] = set()
    for file, walk_error in _iter_files(paths):
        if walk_error is not None:
            report.errors.append(walk_error)
            continue
        key = _resolved(file)
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
    return report


def load_file(path: str | Path) -> list[Article]:
    """Load one file; raise ``ArticleLoadError`` if any of it (any JSONL line included) fails."""
    loaded, errors = _load_one(Path(path))
    if errors:
        raise ArticleLoadError(errors[0], errors)
    return [article for article, _ in loaded]


def is_sidecar(path: str | Path) -> bool:
    """True for a ``<stem>.meta.json`` metadata file."""
    return Path(path).name.lower().endswith(SIDECAR_SUFFIX)


def sidecar_path(path: str | Path) -> Path:
    """The sidecar that belongs to an article file: ``story.txt`` -> ``story.meta.json``."""
    path = Path(path)
    return path.with_name(path.stem + SIDECAR_SUFFIX)


# ----------------------------------------------------------------------------------------------------
# Finding files


def _iter_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, LoadError | None]]:
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
        yield folder, LoadError(str(folder), f"cannot read folder ({_os_reason(exc)})")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = folder / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(child)
        elif not is_sidecar(child):
            yield child, None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


# ----------------------------------------------------------------------------------------------------
# One file


_Loaded = list[tuple[Article, str]]  # each article with where it came from ("a.txt", "b.jsonl line 4")


def _load_one(path: Path) -> tuple[_Loaded, list[LoadError]]:
    """Load one file into (article, origin) pairs and the errors met; never raises for bad input."""
    suffix = path.suffix.lower()
    try:
        if is_sidecar(path):
            raise _Failure("metadata sidecar, not an article (load the file it describes)")
        if path.is_dir():
            raise _Failure("is a folder")
        if suffix not in SUPPORTED_SUFFIXES:
            shown = suffix or "(none)"
            raise _Failure(f"unsupported file type {shown} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
        data = _read_bytes(path)
        if suffix == ".jsonl":
            return _load_jsonl(path, data)
        article = _SINGLE_LOADERS[suffix](path, data)
        meta = _read_sidecar(path)
        article = _apply_meta(article, meta)
        return [(article, str(path))], []
    except _Failure as failure:
        return [], [LoadError(str(failure.path or path), failure.reason)]
    except Exception as exc:  # one odd file must never stop a batch; the reason still names the cause
        return [], [LoadError(str(path), f"could not load ({_exc_reason(exc)})")]


def _exc_reason(exc: Exception) -> str:
    message = str(exc).strip()
    return f"{exc.__class__.__name__}: {message}" if message else exc.__class__.__name__


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _Failure("not found (or a broken link)") from None
    except OSError as exc:
        raise _Failure(f"cannot read ({_os_reason(exc)})") from None
    if not data:
        raise _Failure("empty file")
    return data


def _os_reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def _decode_text(data: bytes) -> str:
    """Strict UTF-8 (a leading byte-order mark is dropped); anything else is refused, never guessed."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Failure("not valid UTF-8 (UTF-16 byte-order mark); save the file as UTF-8")
    if b"\x00" in data:
        raise _Failure("binary file, not text")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        position = exc.start + bom  # a position in the file as it is on disk, BOM included
        raise _Failure(f"not valid UTF-8 (byte 0x{data[position]:02x} at position {position})") from None
    if not text.strip():
        raise _Failure("empty file (only whitespace)")
    return text


# ----------------------------------------------------------------------------------------------------
# Titles


def _first_line_and_rest(text: str) -> tuple[str, str]:
    """The first non-blank line (stripped) and everything after it."""
    start = len(text) - len(text.lstrip())
    match = _LINE.match(text, start)
    return match.group().strip(), text[match.end():]


def ends_like_sentence(line: str) -> bool:
    """True when ``line`` ends with . ? ! : ; … possibly followed by closing quotes or brackets."""
    return line.rstrip(_CLOSING_QUOTES).endswith(_SENTENCE_ENDS)


def headline_of(text: str) -> str | None:
    """The first line when it reads as a headline (short, no closing punctuation, text follows)."""
    line, rest = _first_line_and_rest(text)
    if not line or not rest.strip():
        return None
    if len(line) > HEADLINE_MAX_CHARS or len(line.split()) > HEADLINE_MAX_WORDS:
        return None
    return None if ends_like_sentence(line) else line


_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[A-Z0-9])")


def derive_title(text: str, max_words: int = DERIVED_TITLE_WORDS) -> str:
    """A title from the first sentence, cut to ``max_words`` words with "…"."""
    line, _ = _first_line_and_rest(text)
    match = _SENTENCE_END.search(line)
    sentence = line[: match.start() + 1] if match else line
    words = sentence.split()
    if len(words) > max_words:
        return " ".join(words[:max_words]).rstrip(",;:—–-") + "…"
    return " ".join(words).rstrip(".") or "Untitled"


def title_for(text: str) -> str:
    """The headline if the text opens with one, else a title derived from the first sentence."""
    return headline_of(text) or derive_title(text)


# ----------------------------------------------------------------------------------------------------
# Sidecars


def _read_sidecar(path: Path) -> dict[str, str | None]:
    """The metadata in ``<stem>.meta.json`` beside ``path``, or {} when there is none."""
    meta_path = sidecar_path(path)
    if not meta_path.exists():
        return {}
    try:
        data = meta_path.read_bytes()
        meta = json.loads(data.decode("utf-8-sig"))
    except OSError as exc:
        raise _Failure(f"cannot read metadata sidecar ({_os_reason(exc)})", meta_path) from None
    except UnicodeDecodeError:
        raise _Failure("metadata sidecar is not valid UTF-8", meta_path) from None
    except json.JSONDecodeError as exc:
        raise _Failure(f"metadata sidecar: invalid JSON ({exc.msg})", meta_path) from None
    if not isinstance(meta, dict):
        raise _Failure("metadata sidecar must be a JSON object", meta_path)
    unknown = sorted(set(meta) - set(SIDECAR_KEYS))
    if unknown:  # a typo such as "sorce" would otherwise be silently ignored
        raise _Failure(
            f"metadata sidecar: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(SIDECAR_KEYS)})",
            meta_path,
        )
    for key, value in meta.items():
        if value is not None and not isinstance(value, str):
            raise _Failure(f"metadata sidecar: {key} must be a string or null", meta_path)
    return meta


def _apply_meta(article: Article, meta: dict[str, str | None]) -> Article:
    if not meta:
        return article
    title = (meta.get("title") or "").strip() or article.title  # null/empty title keeps the derived one
    updates = {key: meta[key] for key in ("source", "published", "url") if key in meta}
    fields = article.to_dict() | updates | {"title": title}
    return Article(**fields)


# ----------------------------------------------------------------------------------------------------
# Plain text and Markdown


def _load_txt(path: Path, data: bytes) -> Article:
    text = _decode_text(data)
    return Article.from_text(text, title=title_for(text), path=str(path))


_MD_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_title(text: str) -> str | None:
    """The first ``# heading`` outside code fences, without its ``#`` marks."""
    in_fence = False
    for line in text.splitlines():
        if _MD_FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _MD_H1.match(line)):
            return match.group(1).strip()
    return None


def _load_md(path: Path, data: bytes) -> Article:
    text = _decode_text(data)
    title = markdown_title(text) or re.sub(r"^#+\s*", "", title_for(text))
    return Article.from_text(text, title=title, path=str(path))


# ----------------------------------------------------------------------------------------------------
# HTML


_DROP_TAGS = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe",
    "template", "button", "select", "head",
)
_BLOCK_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li blockquote pre div section article main ul ol dl dt dd table thead tbody "
    "tfoot tr td th caption figure figcaption address details summary hr br".split()
)


def html_to_text(html: str) -> tuple[str, dict[str, str | None]]:
    """The main text of an HTML page (paragraphs separated by a blank line) and its metadata."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    meta = _html_meta(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.find("body") or soup
    paragraphs: list[list[str]] = [[]]
    _collect_blocks(root, paragraphs)
    texts = [" ".join("".join(parts).split()) for parts in paragraphs]
    text = "\n\n".join(t for t in texts if t)
    if meta["title"] is None:
        h1 = root.find("h1") or soup.find("h1")
        meta["title"] = _clean(h1.get_text(" ")) if h1 else None
    page_title = meta.pop("page_title")
    meta["title"] = meta["title"] or page_title
    return text, meta


def _collect_blocks(root, paragraphs: list[list[str]]) -> None:
    """Append text to the current paragraph; every block element starts and ends a paragraph.

    Iterative, not recursive: a deeply nested page must not hit Python's recursion limit.
    """
    from bs4 import NavigableString, Tag

    stack = [(iter(root.children), False)]
    while stack:
        children, is_block = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if is_block:
                paragraphs.append([])
        elif type(child) is NavigableString:  # subclasses are comments, doctypes, CDATA: not prose
            paragraphs[-1].append(str(child))
        elif isinstance(child, Tag):
            block = child.name in _BLOCK_TAGS
            if block:
                paragraphs.append([])
            stack.append((iter(child.children), block))


def _html_meta(soup) -> dict[str, str | None]:
    def meta_content(*keys: str) -> str | None:
        for key in keys:
            tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
            if tag and _clean(tag.get("content", "")):
                return _clean(tag["content"])
        return None

    time_tag = soup.find("time", attrs={"datetime": True})
    canonical = soup.find("link", attrs={"rel": "canonical", "href": True})
    title_tag = soup.find("title")
    return {
        # og:title is the cleanest; <title> usually carries a " | Site name" suffix, so it comes last
        "title": meta_content("og:title", "twitter:title"),
        "page_title": _clean(title_tag.get_text(" ")) if title_tag else None,
        "source": meta_content("og:site_name"),
        "published": meta_content("article:published_time", "datePublished")
        or (_clean(time_tag["datetime"]) if time_tag else None),
        "url": meta_content("og:url") or (_clean(canonical["href"]) if canonical else None),
    }


def _clean(value: str) -> str | None:
    return " ".join(value.split()) or None


def _load_html(path: Path, data: bytes) -> Article:
    text, meta = html_to_text(_decode_text(data))
    if not text.strip():
        raise _Failure("no text found in the HTML (only markup, scripts or navigation)")
    title = meta.pop("title") or title_for(text)
    return Article.from_text(text, title=title, path=str(path), **meta)


# ----------------------------------------------------------------------------------------------------
# PDF


def _load_pdf(path: Path, data: bytes) -> Article:
    import io
    import logging

    from pypdf import PdfReader

    if b"%PDF-" not in data[:1024]:
        raise _Failure("broken PDF (no %PDF- header)")
    pypdf_log = logging.getLogger("pypdf")
    previous = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # pypdf warns on every small repair; the failure reason is enough
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Failure("encrypted PDF (needs a password)")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info_title = _pdf_title(reader)
    except _Failure:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files; any of them means "broken"
        raise _Failure(f"broken PDF ({_exc_reason(exc)})") from None
    finally:
        pypdf_log.setLevel(previous)
    text = "\n\n".join(page for page in pages if page)
    if not text.strip():
        raise _Failure("PDF has no extractable text (scanned images?)")
    return Article.from_text(text, title=info_title or title_for(text), path=str(path))


def _pdf_title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a damaged info dictionary should not lose the text
        return None
    return _clean(title) if isinstance(title, str) else None


# ----------------------------------------------------------------------------------------------------
# JSONL


def _load_jsonl(path: Path, data: bytes) -> tuple[_Loaded, list[LoadError]]:
    """One article a line; a bad line is an error naming its number and the other lines still load."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Failure("not valid UTF-8 (UTF-16 byte-order mark); save the file as UTF-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    loaded: _Loaded = []
    errors: list[LoadError] = []
    seen_lines = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        seen_lines += 1
        try:
            article = _jsonl_article(raw, path)
        except _Failure as failure:
            errors.append(LoadError(str(path), failure.reason, number))
            continue
        loaded.append((article, f"{path} line {number}"))
    if not seen_lines:
        raise _Failure("empty file (only whitespace)")
    return loaded, errors


def _jsonl_article(raw: bytes, path: Path) -> Article:
    if b"\x00" in raw:
        raise _Failure("binary data, not text")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Failure(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start})") from None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Failure(f"invalid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise _Failure(f"expected a JSON object, got {type(record).__name__}")
    for key in JSONL_KEYS:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise _Failure(f"{key} must be a string, got {type(record[key]).__name__}")
    text = record.get("text")
    if text is None:
        raise _Failure("missing text")
    if not text.strip():
        raise _Failure("empty text")
    title = (record.get("title") or "").strip() or title_for(text)
    meta = {key: record.get(key) for key in ("source", "published", "url")}
    return Article.from_text(text, title=title, path=str(path), **meta)


_SINGLE_LOADERS: dict[str, Callable[[Path, bytes], Article]] = {
    ".txt": _load_txt,
    ".md": _load_md,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
}

"""What the chat and the JSON API share: one answerer, asked under a lock, and article uploads.

The answerer (index, embedding model, reader) is loaded once, at start. Questions are serialised through one
lock, so every answer is computed exactly as a lone request would compute it. An upload extends the index in
memory (the articles read when the upload was checked; only their passages are embedded, with the embedder
already loaded), saves it, and then replaces the answerer with one around the new index; a question already
being answered keeps the answerer it started with. Uploads are serialised by a second lock, and each holds
the index's write lock (``index.write_lock``) from storing its files to saving the index, so a CLI `qa add`
on the same index waits for it, or it for the CLI (whose articles are then kept: ``extend_index`` extends the
version on disk when it is newer than the one in memory). A file is kept in the uploads folder only once it
is indexed; the temporary copy it arrived as is deleted either way. Messages name the file the user gave.

Example:
    >>> service = ChatService(load_answerer(Path(".qa-index")), Path(".qa-index"))   # doctest: +SKIP
    >>> service.ask("Who is the Chinese foreign ministry spokesman?").answer          # doctest: +SKIP
    'Geng Shuang'
    >>> service.sources()                                                              # doctest: +SKIP
    ['ThinkProgress']
    >>> service.ask("Who?", filters=ArticleFilter(sources=("ThinkProgress",)))        # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus.dates import lenient_date
from corpus.defaults import DEFAULT_GOLD
from corpus.web.batch import MAX_ITEMS, WebBatch, collect
from corpus.web.fetch import Fetcher, FetchPolicy
from corpus.web.seen import SeenItems
from corpus.web.store import FETCHED_FOLDER
from corpus.web.store import withdraw as withdraw_pages
from index.lifecycle import extend_index, write_lock
from index.sources import describe_sources
from index.store import CorpusIndex
from qa.answerer import Answerer
from qa.filters import ArticleFilter, source_names
from qa.retriever import Retriever
from qa.types import Answer
from ui.render import ArticleRow, UploadLine
from ui.uploads import (
    MAX_UPLOAD_BYTES,
    StoredUpload,
    UploadRejected,
    discard_temporary,
    store_upload,
    withdraw,
)

log = logging.getLogger(__name__)

UPLOADS_ENV = "QA_UPLOADS"
UPLOADS_FOLDER = "uploads"
EXAMPLE_IDS = ("q01", "q12", "q26", "q30", "q44")
MAX_URLS = 20  # URLs (pages and feeds together) added from the chat at once
ALLOW_PRIVATE_HINT = "start qa chat with --allow-private-urls to allow it"


@dataclass
class Reply:
    answer: Answer
    notice: str | None = None  # e.g. "answered from BM25 only: ..."


@dataclass
class UploadResult:
    lines: list[UploadLine] = field(default_factory=list)
    added: int = 0


def uploads_dir_for(index_sources: Sequence[dict], index_dir: Path, configured: str | Path | None = None) -> Path:
    """Where uploads are kept: ``configured`` (or ``$QA_UPLOADS``), else ``uploads/`` in the first corpus folder
    the index was built from, else ``uploads/`` beside the first source file, else inside the index folder."""
    chosen = configured or os.environ.get(UPLOADS_ENV)
    if chosen:
        return Path(chosen)
    roots = sorted({s.get("root", s.get("path")) for s in index_sources if s.get("root") or s.get("path")})
    folders = [Path(r) for r in roots if Path(r).is_dir()]
    if folders:
        return folders[0] / UPLOADS_FOLDER
    if roots:
        return Path(roots[0]).parent / UPLOADS_FOLDER
    return Path(index_dir) / UPLOADS_FOLDER


def example_questions(article_ids: Sequence[str] | set[str], gold: Path = DEFAULT_GOLD, n: int = 5) -> list[str]:
    """A few answerable gold questions about articles that are in the index (none for another corpus)."""
    try:
        rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError):
        return []
    ids = set(article_ids)
    usable = [r for r in rows if r.get("answerable", True) and r.get("article_id") in ids]
    preferred = [r for r in usable if r.get("id") in EXAMPLE_IDS]
    chosen = preferred + [r for r in usable if r not in preferred]
    return [r["question"] for r in chosen[:n]]


class ChatService:
    """One answerer for the chat and the JSON API; uploads build a new answerer around the extended index."""

    def __init__(self, answerer: Answerer, index_dir: Path, uploads_dir: Path | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES,
                 allow_private_urls: bool = False):
        self.answerer = answerer  # replaced whole (never changed) after an upload
        self.index_dir = Path(index_dir)
        self.uploads_dir = Path(uploads_dir) if uploads_dir else uploads_dir_for(self.index.sources, self.index_dir)
        self.fetched_dir = self.uploads_dir.parent / FETCHED_FOLDER  # as `qa add URL` keeps pages: beside uploads
        self.max_upload_bytes = max_upload_bytes
        # the server fetches for whoever uses the chat: loopback, private and link-local addresses (this machine,
        # its network, cloud metadata) are refused unless `qa chat --allow-private-urls` says otherwise
        self.allow_private_urls = allow_private_urls
        self.ask_lock = threading.Lock()
        self.upload_lock = threading.Lock()
        self.examples = example_questions(self.index.articles.keys())

    @property
    def index(self) -> CorpusIndex:
        return self.answerer.retriever.index

    def ask(self, question: str, k: int | None = None, mode: str | None = None, retrieval_query: str | None = None,
            filters: ArticleFilter | None = None) -> Reply:
        with self.ask_lock:
            answered = self.answerer.ask_detailed(question, k=k, mode=mode, retrieval_query=retrieval_query, filters=filters)
        return Reply(answered.answer, answered.retrieval.notice)

    def sources(self) -> list[str]:
        """The sources of the indexed articles, each once, sorted: the chat's source list."""
        return source_names(self.index.articles.values())

    def article_rows(self) -> list[ArticleRow]:
        index = self.index
        counts: dict[str, int] = {}
        for chunk in index.chunks:
            counts[chunk.article_id] = counts.get(chunk.article_id, 0) + 1
        rows = [
            ArticleRow(a.title, a.source, counts.get(a.id, 0), Path(a.path).name if a.path else None,
                       lenient_date(a.published))
            for a in index.articles.values()
        ]
        return sorted(rows, key=lambda r: r.title.lower())

    def upload(self, files: Sequence[tuple[Path, str]]) -> UploadResult:
        """Store and index uploaded files, given as (temporary path, name the user gave it). A file is kept only
        once it is indexed; each temporary file is deleted once handled, kept or refused."""
        result = UploadResult()
        try:
            with self.upload_lock:
                try:
                    with write_lock(self.index_dir):  # the uploads folder and the index change together
                        stored = self._store(files, result)
                        if stored:
                            self._index(stored, result)
                except OSError as exc:  # the index folder cannot be locked (e.g. read-only)
                    log.warning("cannot lock the index at %s for uploads: %s", self.index_dir, exc)
                    answered = {line.name for line in result.lines}
                    why = exc.strerror or exc.__class__.__name__
                    result.lines.extend(UploadLine(name, False, f"could not be added: the index cannot be written ({why})")
                                        for _, name in files if name not in answered)
        finally:
            for path, _ in files:
                discard_temporary(Path(path))
        return result

    def _store(self, files: Sequence[tuple[Path, str]], result: UploadResult) -> list[tuple[StoredUpload, str]]:
        """Check and keep each file; the refused and the duplicates get their line in ``result`` here."""
        stored: list[tuple[StoredUpload, str]] = []
        known = set(self.index.articles)
        for path, name in files:
            try:
                kept = store_upload(Path(path), name, self.uploads_dir, self.max_upload_bytes, known_ids=known)
            except UploadRejected as exc:
                result.lines.append(UploadLine(name, False, str(exc)))
                continue
            except OSError as exc:  # e.g. a read-only corpus folder; where it is goes to the log, not to the user
                log.warning("cannot store upload %r in %s: %s", name, self.uploads_dir, exc)
                why = exc.strerror or exc.__class__.__name__
                result.lines.append(UploadLine(name, False, f"cannot be stored: the uploads folder is not writable ({why}); set ${UPLOADS_ENV} to a writable folder"))
                continue
            if kept.path is None:
                shown = "; ".join(f"“{t}”" for t in kept.titles[:3])
                result.lines.append(UploadLine(name, True, f"already in the corpus: {shown}"))
                continue
            stored.append((kept, name))
        return stored

    def _extend(self, articles: list, sources: list[dict]):
        """Extend the live index with ``articles`` (the caller holds the write lock) and answer from the result:
        this upload's articles, or another writer's newer version. Questions already being answered keep the
        answerer they started with (it is replaced whole, never changed)."""
        old = self.answerer.retriever
        outcome = extend_index(old.index, articles, self.index_dir, sources, embedder=old.embedder, progress=False)
        if outcome.index is not old.index:
            self.answerer = replace(self.answerer, retriever=Retriever(outcome.index, old.config, embedder=old.embedder))
        return outcome

    def _index(self, stored: list[tuple[StoredUpload, str]], result: UploadResult) -> None:
        """Extend the index with the kept files' articles and answer from it; on failure take the files out."""
        before = set(self.index.articles)
        try:
            outcome = self._extend([a for kept, _ in stored for a in kept.articles],
                                   describe_sources([kept.path for kept, _ in stored]))
        except Exception as exc:  # the index could not be extended: keep nothing, keep answering from the old one
            log.exception("indexing uploads failed")
            for kept, name in stored:
                withdraw(kept)
                result.lines.append(UploadLine(name, False, f"could not be indexed ({exc.__class__.__name__}); it was not kept"))
            return
        new_index = outcome.index
        result.added = outcome.added
        by_path: dict[str, list[str]] = {}
        for article in new_index.articles.values():
            if article.path:
                by_path.setdefault(str(Path(article.path).resolve()), []).append(article.id)
        for kept, name in stored:
            ids = by_path.get(str(kept.path.resolve()), [])
            fresh = [i for i in ids if i not in before]
            titles = [new_index.articles[i].title for i in (fresh or ids)]
            shown = "; ".join(f"“{t}”" for t in titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
            if fresh:
                passages = sum(1 for c in new_index.chunks if c.article_id in set(fresh))
                result.lines.append(UploadLine(name, True, f"added {shown} ({passages} passages); you can ask about it now"))
            else:
                if not ids:  # its articles came in from another file meanwhile: the index does not record this one
                    withdraw(kept)
                result.lines.append(UploadLine(name, True, "already in the corpus" + (f": {shown}" if shown else "")))

    def add_urls(self, urls: Sequence[str], feeds: Sequence[str] = (), max_items: int = MAX_ITEMS) -> UploadResult:
        """Fetch the article pages at ``urls`` (and the new items of ``feeds``) and index them, as ``qa add URL``
        does but under the chat's rules: hosts that resolve to loopback, private or link-local addresses (each
        redirect's too) are refused unless ``allow_private_urls``. Pages are fetched with no lock held; then,
        under the upload lock and the index's write lock, only the pages of new articles are kept in
        ``fetched/`` and the index is extended; when indexing fails they are taken out again. Each URL gets a
        line naming it (never a server path)."""
        result = UploadResult()
        urls = [u.strip() for u in urls if u and u.strip()]
        feeds = [f.strip() for f in feeds if f and f.strip()]
        if len(urls) + len(feeds) > MAX_URLS:
            result.lines.append(UploadLine(f"{len(urls) + len(feeds)} URLs", False,
                                           f"too many at once (at most {MAX_URLS}); nothing was fetched"))
            return result
        if not urls and not feeds:
            return result
        fetcher = Fetcher(FetchPolicy(refuse_private=not self.allow_private_urls, refused_hint=ALLOW_PRIVATE_HINT))
        seen = SeenItems(self.fetched_dir)
        batch = collect(urls, feeds, fetcher, self.fetched_dir, seen, max_items)
        result.lines.extend(UploadLine(e.path, False, e.reason) for e in batch.errors)
        result.lines.extend(UploadLine(u, True, "the same text as another page added here") for u in batch.duplicates)
        for report in batch.feeds:
            parts = [f"{report.items} item(s)", f"{report.fetched} fetched"]
            parts += [f"{report.seen} seen before"] if report.seen else []
            parts += [f"{report.left} left for the next time"] if report.left else []
            result.lines.append(UploadLine(report.url, True, f"feed “{report.title or report.url}”: " + ", ".join(parts)))
        if batch.staged:
            try:
                with self.upload_lock, write_lock(self.index_dir):  # fetched/ and the index change together
                    self._index_pages(batch, result)
            except OSError as exc:  # the index folder cannot be locked, or fetched/ cannot be written
                log.warning("cannot add fetched pages to the index at %s: %s", self.index_dir, exc)
                batch.withdraw()
                why = exc.strerror or exc.__class__.__name__
                answered = {line.name for line in result.lines}
                result.lines.extend(UploadLine(p.fetched.url, False, f"could not be added: the corpus or the index cannot be written ({why})")
                                    for p in batch.staged if p.fetched.url not in answered)
                return result
        batch.remember(seen)  # once the index is saved: a feed read again skips these items
        return result

    def _index_pages(self, batch: WebBatch, result: UploadResult) -> None:
        """Keep the pages of the articles new to the index and extend it (called under the write lock)."""
        before = set(self.index.articles)
        new = [a for a in batch.articles if a.id not in before]
        articles, files = batch.keep(new) if new else ([], [])
        try:
            outcome = self._extend(articles, describe_sources(files)) if articles else None
        except Exception as exc:  # keep nothing, keep answering from the old index
            log.exception("indexing fetched pages failed")
            batch.withdraw()
            result.lines.extend(UploadLine(p.fetched.url, False, f"could not be indexed ({exc.__class__.__name__}); it was not kept")
                                for p in batch.staged)
            return
        new_index = outcome.index if outcome else self.index
        result.added = outcome.added if outcome else 0
        kept_ids = {k.article.id: k for k in batch.kept}
        for page in batch.staged:
            article_id = page.article.id
            title = (new_index.articles.get(article_id) or page.article).title
            if article_id in kept_ids and article_id not in before and article_id in new_index.articles:
                kept_path = str(kept_ids[article_id].path.resolve())
                if str(Path(new_index.articles[article_id].path or "").resolve()) != kept_path:
                    withdraw_pages([kept_ids[article_id]])  # another writer indexed the same text meanwhile
                    result.lines.append(UploadLine(page.fetched.url, True, f"already in the corpus: “{title}”"))
                    continue
                passages = sum(1 for c in new_index.chunks if c.article_id == article_id)
                result.lines.append(UploadLine(page.fetched.url, True,
                                               f"added “{title}” ({passages} passages); you can ask about it now"))
            else:
                result.lines.append(UploadLine(page.fetched.url, True, f"already in the corpus: “{title}”"))

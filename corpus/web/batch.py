"""What one ``qa add`` run fetches: the pages it names and the new items of the feeds it names, read and
waiting to be kept; then kept (under the index's write lock) and remembered.

``collect`` fetches and reads everything first, with no lock held: a URL that fails is an error naming it,
with the reason; a page whose text another page of the run has is named as a duplicate; a feed's items
already seen (``seen.py``) are skipped, and at most ``max_items`` new items a feed are fetched (the rest are
left for the next run). The index step then calls ``WebBatch.keep`` with the articles that are new to the
index: only their pages are written to ``fetched/`` (a page whose text is indexed already is not kept).
Once the index is saved, ``remember`` records every page handled, so a feed read again skips them.

Example:
    >>> batch = collect(["https://example.com/a.html"], [], Fetcher(), Path("corpus/articles/fetched"))  # doctest: +SKIP
    >>> [a.title for a in batch.articles], [str(e) for e in batch.errors]                               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.article import Article
from corpus.loaders.common import Failure, LoadError
from corpus.web.feeds import parse_feed
from corpus.web.fetch import (
    FEED_ACCEPT,
    FEED_TYPES,
    Fetcher,
    FetchFailed,
    checked_url,
    now_utc,
)
from corpus.web.seen import SeenItems, item_keys
from corpus.web.store import (
    FeedContext,
    KeptPage,
    StagedPage,
    keep_pages,
    stage_page,
    withdraw,
)

MAX_ITEMS = 50  # new items fetched from one feed in one run


@dataclass
class FeedReport:
    """What became of one feed's items in this run."""

    url: str
    title: str | None = None
    items: int = 0
    fetched: int = 0  # new items fetched (each then added, a duplicate, or an error)
    seen: int = 0  # items handled in an earlier run (or earlier in this one), not fetched again
    left: int = 0  # new items over --max-items, left for the next run
    without_link: int = 0


@dataclass
class WebBatch:
    folder: Path  # where pages are kept (``fetched/``)
    staged: list[StagedPage] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)  # each URL that failed, with the reason
    duplicates: list[str] = field(default_factory=list)  # URLs whose text another page of this run has
    feeds: list[FeedReport] = field(default_factory=list)  # each feed that was read
    kept: list[KeptPage] = field(default_factory=list)
    _handled: list[tuple[list[str], str, str | None]] = field(default_factory=list)  # keys, article id, feed

    @property
    def articles(self) -> list[Article]:
        """The articles of the pages read (their paths are not final until ``keep``)."""
        return [page.article for page in self.staged]

    def keep(self, new: list[Article]) -> tuple[list[Article], list[Path]]:
        """Keep the pages of the ``new`` articles in ``folder``: those articles (naming the kept files) and
        the files the index records for them. Called under the index's write lock."""
        ids = {a.id for a in new}
        self.kept = keep_pages([page for page in self.staged if page.article.id in ids], self.folder)
        return [k.article for k in self.kept], [f for k in self.kept for f in k.files]

    def withdraw(self) -> None:
        """Take the kept pages out again: the index could not be saved."""
        withdraw(self.kept)
        self.kept = []

    def not_kept(self) -> list[str]:
        """The URLs of pages read whose text was in the index already."""
        kept = {k.article.id for k in self.kept}
        return [page.fetched.url for page in self.staged if page.article.id not in kept]

    def remember(self, seen: SeenItems) -> None:
        """Record every page read this run (added, or in the index already) as seen."""
        if not self._handled:
            return
        files = {k.article.id: k.path.name for k in self.kept}
        when = now_utc()
        seen.remember({key: {"seen_at": when, "article_id": article_id, "file": files.get(article_id), "feed": feed}
                       for keys, article_id, feed in self._handled for key in keys})

    def add_page(self, fetcher: Fetcher, url: str, feed: FeedContext | None = None, keys: Iterable[str] = ()) -> None:
        try:
            page = fetcher.fetch(url)
            staged = stage_page(page, self.folder, feed)
        except FetchFailed as exc:
            self.errors.append(LoadError(url, exc.reason))
            return
        except Failure as failure:  # the loader's reason: no main text, not valid UTF-8 (a .txt) ...
            self.errors.append(LoadError(url, failure.reason))
            return
        all_keys = list(dict.fromkeys([*keys, *item_keys(checked_url(page.url)), *item_keys(page.final_url)]))
        self._handled.append((all_keys, staged.article.id, None if feed is None else feed.feed_url))
        if any(other.article.id == staged.article.id for other in self.staged):
            self.duplicates.append(url)
            return
        self.staged.append(staged)

    def add_feed(self, fetcher: Fetcher, url: str, seen: SeenItems, max_items: int = MAX_ITEMS) -> None:
        try:
            fetched = fetcher.fetch(url, FEED_TYPES, FEED_ACCEPT, "an RSS or Atom feed")
            header = fetched.content_type + (f"; charset={fetched.charset}" if fetched.charset else "")
            feed = parse_feed(fetched.body, fetched.final_url, header)
            feed_key = checked_url(url)
        except FetchFailed as exc:
            self.errors.append(LoadError(url, exc.reason))
            return
        except Failure as failure:
            self.errors.append(LoadError(url, failure.reason))
            return
        report = FeedReport(url, feed.title, len(feed.items))
        self.feeds.append(report)
        this_run = {key for keys, _, _ in self._handled for key in keys}
        fresh = []
        for item in feed.items:
            if not item.link:
                report.without_link += 1
                continue
            try:
                link = checked_url(item.link)
            except ValueError as exc:
                self.errors.append(LoadError(item.link[:300], str(exc)))
                continue
            keys = item_keys(link, item.guid, feed_key)
            if seen.is_seen(keys) or this_run.intersection(keys):
                report.seen += 1
            elif len(fresh) >= max_items:
                report.left += 1
            else:
                fresh.append((link, keys, item))
                this_run.update(keys)
        for link, keys, item in fresh:
            context = FeedContext(fetched.final_url, feed.title, item.guid, item.published, item.title)
            self.add_page(fetcher, link, context, keys)
            report.fetched += 1


def collect(urls: Iterable[str], feeds: Iterable[str], fetcher: Fetcher, folder: Path,
            seen: SeenItems | None = None, max_items: int = MAX_ITEMS) -> WebBatch:
    """Fetch and read the pages at ``urls`` and the new items of ``feeds``; nothing is kept yet."""
    batch = WebBatch(Path(folder))
    seen = seen if seen is not None else SeenItems(folder)
    for url in urls:
        batch.add_page(fetcher, url)
    for feed in feeds:
        batch.add_feed(fetcher, feed, seen, max_items)
    return batch

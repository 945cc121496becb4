"""``qa index``, ``qa add`` and ``qa search``: building, extending and searching an index.

Example:
    $ qa index                                   # the default corpus into .qa-index/
    $ qa add extra/story.html --index .qa-index
    $ qa add https://example.com/news/story.html  # fetched, kept in fetched/ beside the corpus, indexed
    $ qa add --feed https://example.com/news.rss  # the feed's new items (each run adds only what is new)
    $ qa search "Who is Geng Shuang?" --k 3 --json
    $ qa search "trade deficit" --source CNN --source Reuters --since 2017-04-01 --until 2017-04-30
    $ qa search --queries queries.jsonl --json
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from cli.load_messages import (
    EXIT_STATUS_HELP,
    exit_status,
    print_fetched,
    print_nothing_loaded,
    print_skipped,
)
from cli.options import add_filter_options, add_index_option, filters_of
from cli.terminal import byline, json_line, printable
from corpus.dates import lenient_date
from corpus.defaults import DEFAULT_ARTICLES_DIR
from corpus.web.batch import MAX_ITEMS, collect
from corpus.web.fetch import Fetcher, FetchPolicy, is_url
from corpus.web.seen import SeenItems
from corpus.web.store import FETCHED_FOLDER
from index.lifecycle import add_to_index, ensure_index, open_index
from index.store import IndexConfig, read_manifest
from qa.question import check_k, check_question
from qa.retriever import MODES, RetrievalConfig, RetrievalResult, Retriever
from ui.service import uploads_dir_for


@dataclass(frozen=True)
class IndexOptions:
    index_dir: Path
    paths: list[str]
    force: bool = False
    quiet: bool = False
    no_wait: bool = False


@dataclass(frozen=True)
class AddOptions:
    index_dir: Path
    paths: list[str]  # files, folders and http(s) URLs of article pages
    quiet: bool = False
    no_wait: bool = False
    feed: list[str] | None = None  # RSS or Atom feeds whose new items are added
    max_items: int = MAX_ITEMS  # new items fetched from one feed in one run


@dataclass(frozen=True)
class SearchOptions:
    index_dir: Path
    query: str | None
    queries: str | None
    k: int = 5
    mode: str = "hybrid"
    article: list[str] | None = None
    json: bool = False
    source: list[str] | None = None  # only these sources (any of them)
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None


def register(sub) -> None:
    sp = add_index_option(sub.add_parser("index", help="build an index (default corpus: corpus/articles)", epilog=EXIT_STATUS_HELP))
    sp.add_argument("paths", nargs="*", help="files or directories of articles")
    sp.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    add_no_wait_option(sp)
    sp.set_defaults(options=IndexOptions, run=run_index)

    sp = add_index_option(sub.add_parser("add", help="add articles without re-embedding the existing ones", epilog=EXIT_STATUS_HELP))
    sp.add_argument("paths", nargs="*", metavar="PATH_OR_URL",
                    help="article files, folders, or http(s) URLs of article pages (fetched, and kept in fetched/ "
                         "beside the uploads folder so `qa index` can rebuild offline)")
    sp.add_argument("--feed", action="append", metavar="URL", help="an RSS or Atom feed: add its new items (repeatable)")
    sp.add_argument("--max-items", type=int, default=MAX_ITEMS, metavar="N",
                    help=f"new items fetched from one feed in one run (default {MAX_ITEMS}); the rest wait for the next run")
    sp.add_argument("--quiet", action="store_true")
    add_no_wait_option(sp)
    sp.set_defaults(options=AddOptions, run=run_add)

    sp = add_index_option(sub.add_parser("search", help="retrieve passages"))
    sp.add_argument("query", nargs="?")
    sp.add_argument("--queries", help='JSONL file of {"id", "query"} lines (batch form)')
    sp.add_argument("--k", type=int, default=5)
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    sp.add_argument("--article", action="append", help="only search this article id (repeatable)")
    add_filter_options(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(options=SearchOptions, run=run_search)


def add_no_wait_option(parser) -> None:
    parser.add_argument("--no-wait", action="store_true",
                        help="fail at once (exit 1) when another process is writing the index, instead of waiting")


def run_index(options: IndexOptions) -> int:
    sources = [Path(p) for p in options.paths] or [DEFAULT_ARTICLES_DIR]
    outcome = ensure_index(sources, options.index_dir, IndexConfig(), force=options.force, progress=not options.quiet,
                           wait=not options.no_wait)
    print_skipped(outcome.errors, outcome.duplicates)
    if outcome.index is None:
        print_nothing_loaded(outcome.reason)
        return exit_status(outcome.errors, loaded_any=False)
    idx = outcome.index
    verb = f"built ({outcome.reason})" if outcome.rebuilt else "is up to date"
    dense = idx.dense.kind if idx.dense else f"none: {idx.dense_error}"
    print(printable(f"index {options.index_dir} {verb}: {len(idx.articles)} articles, {len(idx.chunks)} chunks, dense={dense}"))
    return exit_status(outcome.errors, loaded_any=True)


def run_add(options: AddOptions) -> int:
    urls = [p for p in options.paths if is_url(p)]
    if not options.paths and not options.feed:
        raise ValueError("give the articles to add: files, folders, URLs, or --feed URL")
    if urls or options.feed:
        return run_add_web(options, urls, [p for p in options.paths if not is_url(p)])
    outcome = add_to_index([Path(p) for p in options.paths], options.index_dir, IndexConfig(), progress=not options.quiet,
                           wait=not options.no_wait)
    print_skipped(outcome.errors, outcome.duplicates)
    loaded_any = bool(outcome.added or outcome.duplicates)
    if not loaded_any:
        print_nothing_loaded()
        return exit_status(outcome.errors, loaded_any)
    idx = outcome.index
    print(printable(f"index {options.index_dir}: {outcome.reason}; now {len(idx.articles)} articles, {len(idx.chunks)} chunks"))
    return exit_status(outcome.errors, loaded_any)


def run_add_web(options: AddOptions, urls: list[str], files: list[str]) -> int:
    """``qa add`` with URLs or feeds: fetch and read every page first, then keep the new ones in ``fetched/``
    and index them with the files given, under the index's write lock; a failed URL is named with its reason."""
    if options.max_items < 1:
        raise ValueError("--max-items must be at least 1")
    folder = fetched_dir(options.index_dir)
    seen = SeenItems(folder)
    # refuse_private=False: `qa add` runs on the user's own machine, for URLs the user types, so a page on the
    # user's own network may be fetched; a server fetching for others (the chat) keeps the default, True
    fetcher = Fetcher(FetchPolicy(refuse_private=False))
    batch = collect(urls, options.feed or [], fetcher, folder, seen, options.max_items)
    outcome = None
    if files or batch.staged:
        try:
            outcome = add_to_index([Path(p) for p in files], options.index_dir, IndexConfig(), progress=not options.quiet,
                                   wait=not options.no_wait, fetched=batch.articles, keep=batch.keep)
        except BaseException:
            batch.withdraw()  # the index was not saved: keep no page it does not have
            raise
    batch.remember(seen)  # after the index is saved: an item is remembered only once its article is in
    errors = (outcome.errors if outcome else []) + batch.errors
    duplicates = (outcome.duplicates if outcome else []) + batch.duplicates + batch.not_kept()
    print_fetched(batch, seen.problem)
    print_skipped(errors, duplicates)
    loaded_any = bool((outcome and outcome.added) or duplicates or batch.feeds)
    if not loaded_any:
        print_nothing_loaded()
        return exit_status(errors, loaded_any)
    if outcome is None:
        print(printable(f"index {options.index_dir}: nothing new to add; the index was not changed"))
    else:
        idx = outcome.index
        print(printable(f"index {options.index_dir}: {outcome.reason}; now {len(idx.articles)} articles, {len(idx.chunks)} chunks"))
    return exit_status(errors, loaded_any)


def fetched_dir(index_dir: Path) -> Path:
    """Where fetched pages are kept: ``fetched/`` beside the uploads folder (for the default corpus,
    ``corpus/articles/fetched/``), so that `qa index` on the corpus folder reads them again."""
    return uploads_dir_for(read_manifest(index_dir).get("sources", []), index_dir).parent / FETCHED_FOLDER


def run_search(options: SearchOptions) -> int:
    if bool(options.query) == bool(options.queries):
        raise ValueError("give either a query or --queries FILE.jsonl")
    check_k(options.k, "--k")
    filters = filters_of(options)  # before loading anything, as the query: a bad date fails at once
    if options.query:
        check_question(options.query)  # before loading anything: bytes that are not UTF-8, only punctuation, ...
    retriever = Retriever(open_index(options.index_dir, IndexConfig()), RetrievalConfig())
    article_ids = set(options.article) if options.article else None
    if options.queries:
        items = read_queries(Path(options.queries))
        results = retriever.search_batch([q for _, q in items], k=options.k, mode=options.mode, article_ids=article_ids,
                                         filters=filters)
        for (qid, _), result in zip(items, results):
            print(json_line(search_json(retriever, result, qid)))
        return 0
    result = retriever.search(options.query, k=options.k, mode=options.mode, article_ids=article_ids, filters=filters)
    if result.notice:
        print(f"qa: {result.notice}", file=sys.stderr)
    if options.json:
        print(json_line(search_json(retriever, result, None)))
        return 0
    if filters is not None:
        print(printable(f"(only articles matching: {filters.describe()})"))
    if not result.hits:
        print("no passages found")
    for hit in result.hits:
        art = retriever.index.articles[hit.chunk.article_id]
        by = byline(art.source, lenient_date(art.published))
        # article text and titles may hold escape sequences: printable() keeps them off the terminal
        print(printable(f"[{hit.rank}] {art.title}{f' — {by}' if by else ''}  "
                        f"(chars {hit.chunk.start}-{hit.chunk.end}, {hit.via} {hit.score:.4f})"))
        print(printable(f"    {hit.chunk.text.strip()}\n"))
    return 0


def search_json(retriever: Retriever, result: RetrievalResult, qid: str | None) -> dict:
    out = {"id": qid} if qid is not None else {}
    out["query"] = result.query
    out["mode"] = result.mode
    if result.notice:
        out["notice"] = result.notice
    out["hits"] = []
    for hit in result.hits:
        article = retriever.index.articles[hit.chunk.article_id]
        out["hits"].append(hit.to_json_dict(article.title, article.source, lenient_date(article.published)))
    return out


def read_queries(path: Path) -> list[tuple[str, str]]:
    items = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append((str(row["id"]), str(row["query"])))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path} line {n}: expected {{\"id\": ..., \"query\": ...}} ({exc})") from exc
            try:
                check_question(items[-1][1])
            except ValueError as exc:
                raise ValueError(f"{path} line {n}: {exc}") from exc
    return items

"""``qa index``, ``qa add`` and ``qa search``: building, extending and searching an index.

Example:
    $ qa index                                   # the default corpus into .qa-index/
    $ qa add extra/story.html --index .qa-index
    $ qa search "Who is Geng Shuang?" --k 3 --json
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
    print_nothing_loaded,
    print_skipped,
)
from cli.options import add_index_option
from cli.terminal import json_line, printable
from corpus.defaults import DEFAULT_ARTICLES_DIR
from index.lifecycle import add_to_index, ensure_index, open_index
from index.store import IndexConfig
from qa.question import check_k, check_question
from qa.retriever import MODES, RetrievalConfig, RetrievalResult, Retriever


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
    paths: list[str]
    quiet: bool = False
    no_wait: bool = False


@dataclass(frozen=True)
class SearchOptions:
    index_dir: Path
    query: str | None
    queries: str | None
    k: int = 5
    mode: str = "hybrid"
    article: list[str] | None = None
    json: bool = False


def register(sub) -> None:
    sp = add_index_option(sub.add_parser("index", help="build an index (default corpus: corpus/articles)", epilog=EXIT_STATUS_HELP))
    sp.add_argument("paths", nargs="*", help="files or directories of articles")
    sp.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    add_no_wait_option(sp)
    sp.set_defaults(options=IndexOptions, run=run_index)

    sp = add_index_option(sub.add_parser("add", help="add articles without re-embedding the existing ones", epilog=EXIT_STATUS_HELP))
    sp.add_argument("paths", nargs="+")
    sp.add_argument("--quiet", action="store_true")
    add_no_wait_option(sp)
    sp.set_defaults(options=AddOptions, run=run_add)

    sp = add_index_option(sub.add_parser("search", help="retrieve passages"))
    sp.add_argument("query", nargs="?")
    sp.add_argument("--queries", help='JSONL file of {"id", "query"} lines (batch form)')
    sp.add_argument("--k", type=int, default=5)
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    sp.add_argument("--article", action="append", help="only search this article id (repeatable)")
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


def run_search(options: SearchOptions) -> int:
    if bool(options.query) == bool(options.queries):
        raise ValueError("give either a query or --queries FILE.jsonl")
    check_k(options.k, "--k")
    if options.query:
        check_question(options.query)  # before loading anything: bytes that are not UTF-8, only punctuation, ...
    retriever = Retriever(open_index(options.index_dir, IndexConfig()), RetrievalConfig())
    article_ids = set(options.article) if options.article else None
    if options.queries:
        items = read_queries(Path(options.queries))
        results = retriever.search_batch([q for _, q in items], k=options.k, mode=options.mode, article_ids=article_ids)
        for (qid, _), result in zip(items, results):
            print(json_line(search_json(retriever, result, qid)))
        return 0
    result = retriever.search(options.query, k=options.k, mode=options.mode, article_ids=article_ids)
    if result.notice:
        print(f"qa: {result.notice}", file=sys.stderr)
    if options.json:
        print(json_line(search_json(retriever, result, None)))
        return 0
    if not result.hits:
        print("no passages found")
    for hit in result.hits:
        art = retriever.index.articles[hit.chunk.article_id]
        # article text and titles may hold escape sequences: printable() keeps them off the terminal
        print(printable(f"[{hit.rank}] {art.title}  (chars {hit.chunk.start}-{hit.chunk.end}, {hit.via} {hit.score:.4f})"))
        print(printable(f"    {hit.chunk.text.strip()}\n"))
    return 0


def search_json(retriever: Retriever, result: RetrievalResult, qid: str | None) -> dict:
    out = {"id": qid} if qid is not None else {}
    out["query"] = result.query
    out["mode"] = result.mode
    if result.notice:
        out["notice"] = result.notice
    out["hits"] = [h.to_json_dict(retriever.index.articles[h.chunk.article_id].title) for h in result.hits]
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

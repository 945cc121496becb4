"""The ``qa`` command line: index, add, search, ask, eval, chat.

Example:
    $ qa index                      # the default corpus into .qa-index/
    $ qa search "Who is Geng Shuang?" --k 3 --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from index.store import IndexConfig, IndexProblem
from qa.config import Paths
from qa.indexing import add_to_index, ensure_index, open_index
from qa.retriever import MODES, RetrievalConfig, Retriever


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except IndexProblem as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Extractive, cited answers from a collection of news articles.")
    sub = p.add_subparsers(dest="command")

    def with_index(sp):
        sp.add_argument("--index", help="index directory (default: $QA_INDEX or .qa-index)")
        return sp

    sp = with_index(sub.add_parser("index", help="build an index (default corpus: corpus/articles)"))
    sp.add_argument("paths", nargs="*", help="files or directories of articles")
    sp.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(func=cmd_index)

    sp = with_index(sub.add_parser("add", help="add articles without re-embedding the existing ones"))
    sp.add_argument("paths", nargs="+")
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=cmd_add)

    sp = with_index(sub.add_parser("search", help="retrieve passages"))
    sp.add_argument("query", nargs="?")
    sp.add_argument("--queries", help='JSONL file of {"id", "query"} lines (batch form)')
    sp.add_argument("--k", type=int, default=5)
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    sp.add_argument("--article", action="append", help="only search this article id (repeatable)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_search)

    _add_later_commands(sub, with_index)
    return p


def _add_later_commands(sub, with_index) -> None:
    """Commands whose modules import heavier parts (reader, evaluation, UI): imported on use only."""
    try:
        from qa import cli_answers
    except ImportError:
        return
    cli_answers.register(sub, with_index)


def _print_load_errors(errors) -> None:
    for err in errors:
        print(f"qa: skipped {err}", file=sys.stderr)


def cmd_index(args) -> int:
    paths = Paths.from_args(args.index)
    sources = [Path(p) for p in args.paths] or [paths.default_corpus]
    outcome = ensure_index(sources, paths.index_dir, IndexConfig(), force=args.force, progress=not args.quiet)
    _print_load_errors(outcome.errors)
    if outcome.index is None:
        print(f"qa: {outcome.reason}; the index was not changed", file=sys.stderr)
        return 2
    idx = outcome.index
    verb = f"built ({outcome.reason})" if outcome.rebuilt else "is up to date"
    dense = idx.dense.kind if idx.dense else f"none: {idx.dense_error}"
    print(f"index {paths.index_dir} {verb}: {len(idx.articles)} articles, {len(idx.chunks)} chunks, dense={dense}")
    return 0


def cmd_add(args) -> int:
    paths = Paths.from_args(args.index)
    outcome = add_to_index([Path(p) for p in args.paths], paths.index_dir, IndexConfig(), progress=not args.quiet)
    _print_load_errors(outcome.errors)
    idx = outcome.index
    print(f"index {paths.index_dir}: {outcome.reason}; now {len(idx.articles)} articles, {len(idx.chunks)} chunks")
    return 0 if not outcome.errors else 1


def cmd_search(args) -> int:
    if bool(args.query) == bool(args.queries):
        raise ValueError('give either a query or --queries FILE.jsonl')
    paths = Paths.from_args(args.index)
    retriever = Retriever(open_index(paths.index_dir, IndexConfig()), RetrievalConfig())
    article_ids = set(args.article) if args.article else None
    if args.queries:
        items = _read_queries(Path(args.queries))
        results = retriever.search_batch([q for _, q in items], k=args.k, mode=args.mode, article_ids=article_ids)
        for (qid, _), result in zip(items, results):
            print(json.dumps(_search_json(retriever, result, qid), ensure_ascii=False))
        return 0
    result = retriever.search(args.query, k=args.k, mode=args.mode, article_ids=article_ids)
    if result.notice:
        print(f"qa: {result.notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(_search_json(retriever, result, None), ensure_ascii=False))
        return 0
    if not result.hits:
        print("no passages found")
    for hit in result.hits:
        art = retriever.index.articles[hit.chunk.article_id]
        print(f"[{hit.rank}] {art.title}  (chars {hit.chunk.start}-{hit.chunk.end}, {hit.via} {hit.score:.4f})")
        print(f"    {hit.chunk.text.strip()}\n")
    return 0


def _search_json(retriever: Retriever, result, qid: str | None) -> dict:
    out = {"id": qid} if qid is not None else {}
    out["query"] = result.query
    out["mode"] = result.mode
    if result.notice:
        out["notice"] = result.notice
    out["hits"] = [h.to_json_dict(retriever.index.articles[h.chunk.article_id].title) for h in result.hits]
    return out


def _read_queries(path: Path) -> list[tuple[str, str]]:
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
    return items


if __name__ == "__main__":
    sys.exit(main())

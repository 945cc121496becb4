"""Chunking speed on one big article: a single line without sentence breaks, and prose, at 1, 10 and 50 MB.

The line is ``"word " * n`` (every chunk is cut out of one over-long "sentence"); the prose is the default
corpus's text (photo credits left out, so the whole text is one group, the case that was quadratic) repeated to
the size. Each is chunked once with the default ``ChunkerConfig`` (or with ``--paragraphs``); the time, the
chunks per second and the longest chunk are printed. Issue 15's bar: 50 MB of a line in under 10 s.

Example:
    $ .venv/bin/python -m bench.chunk_speed                 # 1, 10 and 50 MB
    $ .venv/bin/python -m bench.chunk_speed --sizes 5 --paragraphs
"""

from __future__ import annotations

import argparse
import sys
import time

from corpus import Article
from corpus.defaults import DEFAULT_ARTICLES_DIR
from corpus.loaders import load_paths
from index.chunker import ChunkerConfig, chunk_article

MB = 1_000_000


def line_text(size: int) -> str:
    return ("word " * (size // 5 + 1))[:size]


def prose_text(size: int) -> str:
    lines = [
        line
        for article in load_paths([DEFAULT_ARTICLES_DIR]).articles
        for line in article.text.splitlines()
        if not line.lstrip().upper().startswith(("CREDIT", "PHOTO"))
    ]
    block = "\n".join(lines) + "\n"
    return (block * (size // len(block) + 1))[:size]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.chunk_speed", description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=float, nargs="+", default=[1, 10, 50], help="text sizes in MB (10^6 characters)")
    p.add_argument("--paragraphs", action="store_true", help="chunk with respect_paragraphs=True")
    args = p.parse_args(argv)
    config = ChunkerConfig(respect_paragraphs=args.paragraphs)
    print(f"{'text':6} {'MB':>5} {'seconds':>8} {'chunks':>8} {'chunks/s':>9} {'MB/s':>6} {'longest':>8}")
    for size in args.sizes:
        for kind, make in (("line", line_text), ("prose", prose_text)):
            article = Article.from_text(make(int(size * MB)), title=kind)
            started = time.perf_counter()
            chunks = chunk_article(article, config)
            seconds = time.perf_counter() - started
            longest = max(len(c.text) for c in chunks)
            print(
                f"{kind:6} {size:5g} {seconds:8.2f} {len(chunks):8d} {len(chunks) / seconds:9.0f}"
                f" {size / seconds:6.1f} {longest:8d}",
                flush=True,
            )
            if longest > config.max_chunk_chars:
                print(f"error: a chunk of {longest} characters, over the bound {config.max_chunk_chars}")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

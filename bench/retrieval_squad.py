"""Retrieval on SQuAD v1.1 dev: its 48 articles are the corpus (chunks never cross a paragraph).

For every question a hit is a retrieved chunk inside the gold paragraph that contains a gold answer.
Prints recall@1/5/20 and MRR@10 for bm25, dense and hybrid in one run, the index build rate, and per-query
latency p50/p95 for each mode (single queries, query embedding included).

    python -m bench.retrieval_squad [--limit N] [--latency-sample 500] [--rebuild] [--data PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from bench.common import CACHE, first_hit_rank, percentiles_ms, ranking_metrics
from bench.data_options import add_dataset_option
from corpus.datasets import SQUAD_V11_DEV
from corpus.squad import load_squad
from index.chunker import ChunkerConfig
from index.lifecycle import cached_index
from index.store import IndexConfig
from qa.retriever import MODES, RetrievalConfig, Retriever


def main() -> None:
    ap = argparse.ArgumentParser()
    add_dataset_option(ap, SQUAD_V11_DEV, "--data")
    ap.add_argument("--limit", type=int, default=0, help="seeded sample of questions (0: all)")
    ap.add_argument("--latency-sample", type=int, default=500)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the index to time the build")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--no-title", action="store_true", help="index chunks without their article title")
    args = ap.parse_args()
    squad = load_squad(args.data)
    questions = squad.questions
    if args.limit:
        questions = random.Random(7).sample(questions, args.limit)
    cached = cached_index("squad-dev", squad.articles, IndexConfig(chunker=ChunkerConfig(respect_paragraphs=True), title_in_passages=not args.no_title), CACHE, rebuild=args.rebuild)
    index, stats = cached.index, cached.build_stats
    print(f"corpus: {stats['articles']} articles, {squad.paragraph_count} paragraphs -> {stats['chunks']} chunks; "
          f"build {stats['build_s']} s = {stats['chunks_per_s']} chunks/s; {len(questions)} questions")
    retriever = Retriever(index, RetrievalConfig())
    c = retriever.config
    print(f"hybrid fusion: {c.fusion}, dense_weight={c.dense_weight}, bm25_weight={c.bm25_weight}, candidates={c.candidates}")
    texts = [q.question for q in questions]
    sample = random.Random(11).sample(texts, min(args.latency_sample, len(texts)))
    figures = {"build": stats, "questions": len(questions)}
    print(f"{'mode':8s} {'R@1':>6s} {'R@5':>6s} {'R@10':>6s} {'R@20':>6s} {'MRR@10':>7s} {'p50 ms':>7s} {'p95 ms':>7s}")
    for mode in MODES:
        results = retriever.search_batch(texts, k=20, mode=mode)
        ranks = [first_hit_rank([h.chunk for h in r.hits], q) for r, q in zip(results, questions)]
        m = ranking_metrics(ranks)
        times = []
        for t in sample:
            t0 = time.perf_counter()
            retriever.search(t, k=20, mode=mode)
            times.append(time.perf_counter() - t0)
        m.update(percentiles_ms(times))
        figures[mode] = m
        print(f"{mode:8s} {m['R@1']:6.2f} {m['R@5']:6.2f} {m['R@10']:6.2f} {m['R@20']:6.2f} {m['MRR@10']:7.4f} "
              f"{m['p50_ms']:7.2f} {m['p95_ms']:7.2f}")
    h, b = figures["hybrid"], figures["bm25"]
    print(f"hybrid vs bm25: R@1 {h['R@1'] - b['R@1']:+.2f}, R@5 {h['R@5'] - b['R@5']:+.2f}, MRR@10 {h['MRR@10'] - b['MRR@10']:+.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

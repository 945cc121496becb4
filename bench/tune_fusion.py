"""Choose the hybrid fusion rule and its weights on SQuAD v1.1 TRAIN questions (never dev).

A corpus of train articles about the size of the dev corpus is indexed; for a seeded sample of their questions
the dense and BM25 top-100 lists are computed once, then every candidate rule is scored offline.

    python -m bench.tune_fusion --articles 50 --questions 4000 [--no-title] [--squad11-train PATH]
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.common import CACHE, first_hit_rank, ranking_metrics, train_sample
from bench.data_options import add_dataset_option
from corpus.datasets import SQUAD_V11_TRAIN
from corpus.squad import load_squad
from index.chunker import ChunkerConfig
from index.lifecycle import cached_index
from index.store import IndexConfig
from qa.fusion import convex_fuse, rrf_fuse
from qa.retriever import RetrievalConfig, Retriever


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=50)
    ap.add_argument("--questions", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--no-title", action="store_true", help="index chunks without their article title")
    add_dataset_option(ap, SQUAD_V11_TRAIN)
    args = ap.parse_args()
    squad = load_squad(args.squad11_train)
    articles, questions = train_sample(squad, args.articles, args.questions, args.seed)
    config = IndexConfig(chunker=ChunkerConfig(respect_paragraphs=True), title_in_passages=not args.no_title)
    cached = cached_index("squad-train-tune", articles, config, CACHE)
    index, stats = cached.index, cached.build_stats
    print(f"train tuning corpus: {stats['articles']} articles, {stats['chunks']} chunks; {len(questions)} questions; "
          f"title in passages: {config.title_in_passages}")
    retriever = Retriever(index, RetrievalConfig(candidates=100))
    texts = [q.question for q in questions]
    dense = retriever.search_batch(texts, k=100, mode="dense")
    bm25 = retriever.search_batch(texts, k=100, mode="bm25")
    dense_lists = [[(h.chunk.id, h.score) for h in r.hits] for r in dense]
    bm25_lists = [[(h.chunk.id, h.score) for h in r.hits] for r in bm25]
    by_id = {c.id: c for c in index.chunks}

    def evaluate(fused_lists) -> dict:
        ranks = [first_hit_rank([by_id[cid] for cid, _ in fused[:20]], q) for fused, q in zip(fused_lists, questions)]
        return ranking_metrics(ranks)

    rows = [("bm25", evaluate(bm25_lists)), ("dense", evaluate(dense_lists))]
    for w in np.round(np.arange(0.1, 1.0, 0.1), 2):
        for k in (10, 60):
            fused = [rrf_fuse([[c for c, _ in d], [c for c, _ in b]], (w, 1 - w), k) for d, b in zip(dense_lists, bm25_lists)]
            rows.append((f"rrf k={k} dense_w={w}", evaluate(fused)))
    for w in np.round(np.arange(0.05, 1.0, 0.05), 2):
        fused = [convex_fuse([d, b], (w, 1 - w)) for d, b in zip(dense_lists, bm25_lists)]
        rows.append((f"convex dense_w={w}", evaluate(fused)))
    rows.sort(key=lambda r: -(r[1]["MRR@10"]))
    print(f"{'rule':28s} {'R@1':>6s} {'R@5':>6s} {'R@20':>6s} {'MRR@10':>7s}")
    for name, m in rows:
        print(f"{name:28s} {m['R@1']:6.2f} {m['R@5']:6.2f} {m['R@20']:6.2f} {m['MRR@10']:7.4f}")


if __name__ == "__main__":
    main()

"""BEIR SciFact test: nDCG@10 for bm25, dense and hybrid (document level).

Each document is one article whose text is its title, a blank line, and its abstract (as BEIR indexes
title + text). Chunks are ranked, then each document takes the rank of its best chunk.

    python -m bench.scifact [--data PATH]
"""

from __future__ import annotations

import argparse
import math

from bench.beir import load_beir
from bench.common import CACHE
from bench.data_options import add_dataset_option
from corpus.article import Article
from corpus.datasets import BEIR_SCIFACT
from index.lifecycle import cached_index
from index.store import IndexConfig
from qa.retriever import MODES, RetrievalConfig, Retriever


def ndcg_at_10(ranked_docs: list[str], relevant: dict[str, int]) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked_docs[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    add_dataset_option(ap, BEIR_SCIFACT, "--data")
    args = ap.parse_args()
    beir = load_beir(args.data)
    docs_of = beir.article_to_docs
    articles, doc_of_article = [], {}
    for art in beir.articles:
        joined = Article.from_text(f"{art.title}\n\n{art.text}", title=art.title)
        articles.append(joined)
        doc_of_article[joined.id] = docs_of[art.id]
    cached = cached_index("scifact", articles, IndexConfig(), CACHE)
    index, stats = cached.index, cached.build_stats
    print(f"SciFact: {stats['articles']} documents -> {stats['chunks']} chunks (build {stats['chunks_per_s']} chunks/s); "
          f"{len(beir.queries)} test queries")
    retriever = Retriever(index, RetrievalConfig())
    qids = sorted(beir.queries)
    texts = [beir.queries[q] for q in qids]
    print(f"{'mode':8s} {'nDCG@10':>8s}")
    for mode in MODES:
        results = retriever.search_batch(texts, k=100, mode=mode)
        scores = []
        for qid, result in zip(qids, results):
            ranked: list[str] = []
            for hit in result.hits:
                for doc in doc_of_article[hit.chunk.article_id]:
                    if doc not in ranked:
                        ranked.append(doc)
            scores.append(ndcg_at_10(ranked, beir.qrels[qid]))
        print(f"{mode:8s} {sum(scores) / len(scores):8.4f}")


if __name__ == "__main__":
    main()

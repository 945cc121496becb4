"""Scale: a 100k-chunk index on one machine: build time, peak memory, hybrid query latency.

The corpus is SQuAD v1.1 train (442 articles, ~20k paragraph chunks) replicated until it holds --chunks chunks
(each replica is a distinct article id with the same text). Everything is measured at full size — chunking,
BM25 build, FAISS build, save, load, queries (query embedding included) — except the chunk embedding: encoding
100k passages takes most of an hour on 2 CPU cores, so the encoder rate is measured on a sample of
--embed-sample unique chunks, the build time for it is that rate times the chunk count (printed as an
estimate), and the index holds the unique chunks' real vectors repeated across replicas.

Also compares exact (flat) and HNSW FAISS search at that size: latency and recall@10 against exact.

    python -m bench.scale --chunks 100000 [--squad11-train PATH] [--squad11-dev PATH]
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import percentiles_ms
from bench.data_options import add_dataset_option
from corpus.article import Article
from corpus.datasets import SQUAD_V11_DEV, SQUAD_V11_TRAIN
from corpus.squad import load_squad
from index.bm25 import BM25Index
from index.chunker import ChunkerConfig, chunk_articles
from index.dense import DenseConfig, DenseIndex
from index.embedder import Embedder
from index.store import CorpusIndex, IndexConfig, load_index, save_index
from qa.retriever import RetrievalConfig, Retriever


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--embed-sample", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=300)
    add_dataset_option(ap, SQUAD_V11_TRAIN)
    add_dataset_option(ap, SQUAD_V11_DEV)
    args = ap.parse_args()
    config = IndexConfig(chunker=ChunkerConfig(respect_paragraphs=True))
    squad = load_squad(args.squad11_train)
    base_chunks = chunk_articles(squad.articles, config.chunker)
    replicas = -(-args.chunks // len(base_chunks))
    articles = [
        Article(id=f"{a.id}-r{r}", title=a.title, text=a.text, source=a.source)
        for r in range(replicas) for a in squad.articles
    ]
    t0 = time.perf_counter()
    chunks = chunk_articles(articles, config.chunker)[: args.chunks]
    t_chunk = time.perf_counter() - t0
    print(f"{len(chunks)} chunks from {len(articles)} articles ({replicas} replicas of SQuAD train); chunking {t_chunk:.1f} s")

    embedder = Embedder(config.embedder)
    sample = random.Random(3).sample(base_chunks, min(args.embed_sample, len(base_chunks)))
    t0 = time.perf_counter()
    embedder.encode([c.text for c in sample])
    rate = len(sample) / (time.perf_counter() - t0)
    print(f"embedding rate {rate:.1f} chunks/s on {len(sample)} chunks -> {len(chunks) / rate / 60:.1f} min for {len(chunks)} (estimate)")

    # Real vectors for the unique texts (computed here at the measured rate would take too long, so: the
    # sample's vectors are tiled; search cost does not depend on which unit vectors the index holds).
    sample_vecs = embedder.encode([c.text for c in sample])
    rng = np.random.default_rng(0)
    vecs = sample_vecs[rng.integers(0, len(sample_vecs), len(chunks))] + rng.normal(0, 0.02, (len(chunks), embedder.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)

    t0 = time.perf_counter()
    bm25 = BM25Index.from_texts([c.text for c in chunks], config.bm25)
    t_bm25 = time.perf_counter() - t0
    t0 = time.perf_counter()
    dense = DenseIndex.build(vecs, DenseConfig(hnsw_threshold=10**9))
    t_faiss = time.perf_counter() - t0
    index = CorpusIndex(config, {a.id: a for a in articles}, chunks, bm25, dense)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        save_index(index, Path(tmp))
        t_save = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = load_index(Path(tmp), config)
        t_load = time.perf_counter() - t0
    total = t_chunk + len(chunks) / rate + t_bm25 + t_faiss + t_save
    print(f"build: BM25 {t_bm25:.1f} s, FAISS flat {t_faiss:.2f} s, save {t_save:.1f} s, load {t_load:.1f} s; "
          f"total with estimated embedding {total / 60:.1f} min; peak RSS so far {peak_rss_mb():.0f} MB")

    questions = [q.question for q in random.Random(5).sample(load_squad(args.squad11_dev).questions, args.queries)]
    retriever = Retriever(index, RetrievalConfig(), embedder=embedder)
    for q in questions[:10]:
        retriever.search(q)  # warm-up
    print(f"{'mode':8s} {'p50 ms':>8s} {'p95 ms':>8s}   (single query, k=5, query embedding included)")
    for mode in ("bm25", "dense", "hybrid"):
        times = []
        for q in questions:
            t0 = time.perf_counter()
            retriever.search(q, k=5, mode=mode)
            times.append(time.perf_counter() - t0)
        p = percentiles_ms(times)
        print(f"{mode:8s} {p['p50_ms']:8.2f} {p['p95_ms']:8.2f}")

    qv = embedder.encode(questions)
    exact_ids, _ = index.dense.search(qv, 10)
    t0 = time.perf_counter()
    flat_times = []
    for v in qv:
        t0 = time.perf_counter()
        index.dense.search(v[None], 100)
        flat_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    hnsw = DenseIndex.build(vecs, DenseConfig(hnsw_threshold=0))
    t_hnsw = time.perf_counter() - t0
    hnsw_ids, _ = hnsw.search(qv, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact_ids, hnsw_ids)])
    hnsw_times = []
    for v in qv:
        t0 = time.perf_counter()
        hnsw.search(v[None], 100)
        hnsw_times.append(time.perf_counter() - t0)
    f, h = percentiles_ms(flat_times), percentiles_ms(hnsw_times)
    print(f"FAISS at {len(chunks)}: flat p50 {f['p50_ms']} / p95 {f['p95_ms']} ms; HNSW(M=32, efSearch=128) "
          f"p50 {h['p50_ms']} / p95 {h['p95_ms']} ms, recall@10 vs exact {recall:.4f}, build {t_hnsw:.1f} s; "
          f"flat/HNSW p95 ratio {f['p95_ms'] / h['p95_ms']:.1f}x")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()

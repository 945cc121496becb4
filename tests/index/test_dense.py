"""The FAISS index: exact inner-product search, row filters, save/load, and the real embeddings it holds."""

from __future__ import annotations

import numpy as np
import pytest

from index.dense import DenseConfig, DenseIndex


def unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, queries: np.ndarray, k: int, allowed=None):
    scores = queries @ vectors.T
    if allowed is not None:
        keep = np.zeros(len(vectors), dtype=bool)
        keep[allowed] = True
        scores = np.where(keep, scores, -np.inf)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def test_flat_search_equals_brute_force_inner_product():
    vectors, queries = unit_rows(500, 48, 0), unit_rows(20, 48, 1)
    index = DenseIndex.build(vectors)
    assert index.kind == "flat" and index.size == 500 and index.dim == 48
    ids, scores = index.search(queries, k=10)
    want_ids, want_scores = brute_force(vectors, queries, 10)
    assert ids.shape == (20, 10)
    assert np.allclose(scores, want_scores, atol=1e-5)
    assert np.array_equal(ids, want_ids)


def test_allowed_rows_restrict_the_search():
    vectors, queries = unit_rows(300, 32, 2), unit_rows(8, 32, 3)
    index = DenseIndex.build(vectors)
    allowed = np.arange(7, 300, 13)
    ids, scores = index.search(queries, k=5, allowed=allowed)
    assert set(ids.ravel().tolist()) <= set(allowed.tolist())
    want_ids, want_scores = brute_force(vectors, queries, 5, allowed)
    assert np.array_equal(ids, want_ids)
    assert np.allclose(scores, want_scores, atol=1e-5)
    # fewer allowed rows than k: the rest is padding (-1)
    ids, _ = index.search(queries[:1], k=5, allowed=np.array([4, 9]))
    assert sorted(i for i in ids[0].tolist() if i >= 0) == [4, 9]


def test_k_larger_than_the_index_and_an_empty_index():
    vectors = unit_rows(3, 8, 4)
    ids, scores = DenseIndex.build(vectors).search(vectors[:1], k=10)
    assert ids.shape == (1, 3) and ids[0, 0] == 0 and scores[0, 0] == pytest.approx(1.0, abs=1e-6)
    empty = DenseIndex.build(np.zeros((0, 8), dtype=np.float32))
    ids, scores = empty.search(vectors, k=5)
    assert ids.shape == (3, 0) and scores.shape == (3, 0)


def test_save_load_round_trip(tmp_path):
    vectors, queries = unit_rows(200, 16, 5), unit_rows(5, 16, 6)
    index = DenseIndex.build(vectors)
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.size == 200 and loaded.kind == "flat"
    assert np.array_equal(loaded.vectors(), vectors)
    for a, b in zip(index.search(queries, 7), loaded.search(queries, 7)):
        assert np.array_equal(a, b)


def test_add_appends_rows_in_order():
    a, b = unit_rows(10, 8, 7), unit_rows(4, 8, 8)
    index = DenseIndex.build(a)
    index.add(b)
    assert index.size == 14
    assert np.array_equal(index.vectors(), np.vstack([a, b]))
    ids, _ = index.search(b[2:3], k=1)
    assert ids[0, 0] == 12


def test_hnsw_above_the_threshold_finds_the_exact_neighbours_here(tmp_path):
    vectors, queries = unit_rows(400, 16, 9), unit_rows(10, 16, 10)
    config = DenseConfig(hnsw_threshold=100)
    index = DenseIndex.build(vectors, config)
    assert index.kind == "hnsw"
    ids, _ = index.search(queries, k=5)
    want, _ = brute_force(vectors, queries, 5)
    recall = np.mean([len(set(i) & set(w)) / 5 for i, w in zip(ids.tolist(), want.tolist())])
    assert recall >= 0.95
    allowed = np.arange(0, 400, 3)
    ids, _ = index.search(queries, k=5, allowed=allowed)
    assert set(ids.ravel().tolist()) - {-1} <= set(allowed.tolist())
    index.save(tmp_path / "h.faiss")
    assert DenseIndex.load(tmp_path / "h.faiss", config).kind == "hnsw"


def test_real_embeddings_are_unit_length_and_search_like_numpy(default_index, embedder):
    dense = default_index.dense
    assert dense is not None and dense.dim == 384 and dense.size == len(default_index.chunks)
    vectors = dense.vectors()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    queries = embedder.encode(["Who is the Chinese foreign ministry spokesman?", "trade deficits with China"])
    ids, scores = dense.search(queries, k=5)
    want_ids, want_scores = brute_force(vectors, queries, 5)
    assert np.array_equal(ids, want_ids)
    assert np.allclose(scores, want_scores, atol=1e-5)
    # the embedding of a chunk's own text finds that chunk first
    own = embedder.encode([default_index.chunks[3].text])
    assert dense.search(own, k=1)[0][0, 0] == 3

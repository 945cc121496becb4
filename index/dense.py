"""FAISS inner-product index over L2-normalised vectors (cosine similarity).

Exact (``IndexFlatIP``) up to ``hnsw_threshold`` vectors, HNSW above it (threshold set by measurement:
bench/scale.py).

Example:
    >>> import numpy as np
    >>> idx = DenseIndex.build(np.eye(3, dtype=np.float32))
    >>> idx.search(np.array([[0, 1, 0]], dtype=np.float32), k=1)[0].tolist()
    [[1]]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np


@dataclass(frozen=True)
class DenseConfig:
    hnsw_threshold: int = 250_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 128


class DenseIndex:
    def __init__(self, index: faiss.Index, config: DenseConfig = DenseConfig()):
        self._index = index
        self.config = config
        if isinstance(index, faiss.IndexHNSWFlat):
            index.hnsw.efSearch = config.hnsw_ef_search

    @classmethod
    def build(cls, vectors: np.ndarray, config: DenseConfig = DenseConfig()) -> "DenseIndex":
        dim = vectors.shape[1]
        if len(vectors) > config.hnsw_threshold:
            index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, config)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSWFlat) else "flat"

    def add(self, vectors: np.ndarray) -> None:
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def vectors(self) -> np.ndarray:
        return self._index.reconstruct_n(0, self.size)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of shape (n_queries, k'); ``allowed`` restricts the search to those row ids."""
        k = min(k, self.size)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if k == 0:
            return np.zeros((len(queries), 0), dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = (
                faiss.SearchParametersHNSW(sel=selector, efSearch=self.config.hnsw_ef_search)
                if self.kind == "hnsw"
                else faiss.SearchParameters(sel=selector)
            )
        scores, ids = self._index.search(queries, k, params=params)
        return ids, scores

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, config: DenseConfig = DenseConfig()) -> "DenseIndex":
        return cls(faiss.read_index(str(path)), config)

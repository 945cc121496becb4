"""BM25 over chunk tokens: bm25s as the engine, Okapi BM25 scoring identical to rank_bm25.BM25Okapi.

bm25s's "robertson" IDF clamps ``log((N-df+0.5)/(df+0.5))`` at zero, so in a small news corpus the names every
article repeats ("China", "North Korea") would weigh nothing. We keep Okapi's rule instead: a negative IDF
becomes ``epsilon * mean(IDF)``, exactly as rank_bm25's reference ``BM25Okapi`` does — and where that mean is
itself negative (a degenerate corpus), ``epsilon``, so IDF is never negative.

Example:
    >>> bm = BM25Index.build([["north", "korea"], ["china", "trade"], ["us", "trade"]])
    >>> docs, scores = bm.search(["china"], k=1)
    >>> docs.tolist()
    [1]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.scoring import _build_scores_and_indices_for_matrix, _calculate_doc_freqs
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN) | {"s", "t", "d", "ll", "re", "ve", "m"}


@dataclass(frozen=True)
class BM25Config:
    k1: float = 1.2
    b: float = 0.75
    epsilon: float = 0.25
    stem: bool = True
    stopwords: bool = True


class Tokenizer:
    """Lower-case word tokens, English stopwords removed, Snowball-stemmed."""

    def __init__(self, config: BM25Config = BM25Config()):
        self._stopwords = _STOPWORDS if config.stopwords else frozenset()
        self._stemmer = Stemmer.Stemmer("english") if config.stem else None

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in self._stopwords]
        return self._stemmer.stemWords(words) if self._stemmer else words


def okapi_idf(doc_freqs: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """Okapi IDF with rank_bm25's floor: negative values become ``epsilon`` times the mean IDF."""
    idf = np.log(n_docs - doc_freqs + 0.5) - np.log(doc_freqs + 0.5)
    seen = doc_freqs > 0  # the mean runs over terms of the corpus only, as in BM25Okapi
    floor = epsilon * float(idf[seen].mean()) if seen.any() else 0.0
    # In a degenerate corpus (most terms in most documents) BM25Okapi's floor is itself negative; ours never
    # is: there we depart from the reference and use epsilon.
    floor = floor if floor > 0 else epsilon
    return np.where(idf < 0, floor, idf)


class _OkapiBM25(bm25s.BM25):
    """bm25s with the Okapi IDF floor (see module docstring); retrieval is bm25s's own."""

    def __init__(self, epsilon: float = 0.25, **kwargs):
        kwargs.update(method="robertson", idf_method="robertson")  # also when bm25s.load passes them back
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False):
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        self.nonoccurrence_array = None  # only BM25L/BM25+ use it
        doc_frequencies = _calculate_doc_freqs(corpus_token_ids, unique_token_ids, show_progress=False)
        dfs = np.array([doc_frequencies[t] for t in range(n_vocab)], dtype=np.float64)
        # bm25s's robertson term weight leaves out Okapi's constant (k1 + 1); fold it into the IDF so the
        # scores equal BM25Okapi's, not just rank the same.
        idf = (okapi_idf(dfs, n_docs, self.epsilon) * (self.k1 + 1)).astype(self.dtype)
        scores, doc_idx, vocab_idx = _build_scores_and_indices_for_matrix(
            corpus_token_ids=corpus_token_ids,
            idf_array=idf,
            avg_doc_len=np.mean([len(d) for d in corpus_token_ids]),
            doc_frequencies=doc_frequencies,
            k1=self.k1,
            b=self.b,
            delta=self.delta,
            nonoccurrence_array=None,
            method="robertson",
            dtype=self.dtype,
            int_dtype=self.int_dtype,
            show_progress=False,
        )
        data, indices, indptr = self._np_csc(data=scores, rows=doc_idx, cols=vocab_idx, shape=(n_docs, n_vocab))
        return {"data": data.astype(self.dtype), "indices": indices, "indptr": indptr, "num_docs": n_docs}


class BM25Index:
    def __init__(self, engine: _OkapiBM25, config: BM25Config):
        self._engine = engine
        self.config = config
        self.tokenize = Tokenizer(config)

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], config: BM25Config = BM25Config()) -> "BM25Index":
        engine = _OkapiBM25(epsilon=config.epsilon, k1=config.k1, b=config.b)
        # Empty documents stay empty (length 0, no term), as in BM25Okapi; only a corpus of nothing but empty
        # documents gets a token no query can produce, because bm25s needs a non-empty vocabulary.
        safe = corpus_tokens if any(corpus_tokens) else [["\x00empty"] for _ in corpus_tokens]
        engine.index(safe, create_empty_token=False, show_progress=False)
        return cls(engine, config)

    @classmethod
    def from_texts(cls, texts: list[str], config: BM25Config = BM25Config()) -> "BM25Index":
        tokenize = Tokenizer(config)
        return cls.build([tokenize(t) for t in texts], config)

    @property
    def num_docs(self) -> int:
        return int(self._engine.scores["num_docs"])

    def idf(self, token: str) -> float:
        """The IDF of one (already tokenised) term of the corpus, recomputed from document frequencies."""
        tid = self._engine.vocab_dict[token]
        doc_freqs = np.diff(self._engine.scores["indptr"]).astype(np.float64)  # CSC: one column a term
        return float(okapi_idf(doc_freqs, self.num_docs, self.config.epsilon)[tid])

    def scores_for_tokens(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for a tokenised query (0 for unknown terms)."""
        vocab = self._engine.vocab_dict
        ids = [vocab[t] for t in query_tokens if t in vocab]
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        return self._engine.get_scores_from_ids(ids)

    def search(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k document indexes and scores (documents with score 0 are left out)."""
        scores = self.scores_for_tokens(query_tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top, scores[top].astype(np.float32)

    def save(self, directory: Path) -> None:
        self._engine.save(str(directory))

    @classmethod
    def load(cls, directory: Path, config: BM25Config = BM25Config()) -> "BM25Index":
        engine = _OkapiBM25.load(str(directory), mmap=False)
        engine.epsilon = config.epsilon
        return cls(engine, config)

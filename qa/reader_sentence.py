"""Sentence reader: answers with the retrieved sentence that best matches the question (a verbatim span).

Every sentence of the top-k chunks is a candidate, scored by three features:
  - ``dense``: cosine similarity of question and sentence embeddings (the index's sentence-transformers model);
  - ``lexical``: the share of the question's (stemmed, non-stopword) terms found in the sentence, each term
    weighted by its IDF among the candidate sentences, so words every passage repeats count little;
  - ``rank``: 1 / retrieval rank of the best chunk holding the sentence.
The confidence is ``sigmoid(w . features + b)``: the probability that the sentence holds the answer, with the
weights fitted by logistic regression on SQuAD v1.1 train questions (never dev). Without an embedding model
the reader uses a second weight set fitted without the dense feature.

Example:
    >>> reader = SentenceReader(Embedder())                                     # doctest: +SKIP
    >>> r = reader.read("Who criticised the theory?", hits, index.articles)     # doctest: +SKIP
    >>> r.answer, round(r.confidence, 2)                                        # doctest: +SKIP
    ('Chinese foreign ministry spokesman Geng Shuang criticised ...', 0.71)
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from corpus import Article
from index.bm25 import Tokenizer
from index.embedder import Embedder
from index.sentences import sentence_spans
from qa.reader import ReaderResult
from qa.types import Hit


@dataclass(frozen=True)
class SentenceWeights:
    dense: float
    lexical: float
    rank: float
    bias: float

    def vector(self) -> np.ndarray:
        return np.array([self.dense, self.lexical, self.rank], dtype=np.float64)


# Fitted by `.venv/bin/python -m bench.answers fit-sentence --articles 60 --questions 4000` (logistic regression
# on SQuAD v1.1 TRAIN, never dev: 60 seeded articles indexed, 4,000 seeded questions, hybrid retrieval, k=5;
# 88,225 candidate sentences, label = the sentence holds the gold answer). On that sample the top-scored
# sentence holds the answer for 72.5% of the questions (95.6% have it among the candidates).
FITTED_WEIGHTS = SentenceWeights(dense=6.751, lexical=8.100, rank=3.531, bias=-10.520)
# The same fit without the dense feature, for when no embedding model can be loaded (top-1: 71.0%).
LEXICAL_WEIGHTS = SentenceWeights(dense=0.0, lexical=10.164, rank=4.516, bias=-8.197)
# Calibrated by `.venv/bin/python -m bench.answers calibrate --reader sentence`: end to end over the 35 articles
# of SQuAD v2.0 dev (hybrid, k=5), all 11,873 questions, the threshold maximising the mean credit (answerable:
# 1 when the gold answer is inside the returned sentence; unanswerable: 1 when abstained; qa.metrics.best_threshold).
# At it: mean credit 56.7% (always abstaining: 50.1%), abstention precision 56.4%, recall 72.1%.
ABSTAIN_THRESHOLD = 0.7430956

FEATURES = ("dense", "lexical", "rank")


@dataclass(frozen=True)
class Candidate:
    article_id: str
    start: int
    end: int
    hit_rank: int


class SentenceReader:
    """Reads the sentences of the retrieved chunks; sentence embeddings are cached (LRU) across questions."""

    name = "sentence"

    def __init__(
        self,
        embedder: Embedder | None,
        weights: SentenceWeights | None = None,
        abstain_threshold: float | None = ABSTAIN_THRESHOLD,
        cache_size: int = 200_000,
    ):
        self.embedder = embedder
        self.weights = weights or (FITTED_WEIGHTS if embedder is not None else LEXICAL_WEIGHTS)
        self.abstain_threshold = abstain_threshold
        self._tokenize = Tokenizer()
        self._cache: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def read(self, question: str, hits: list[Hit], articles: Mapping[str, Article]) -> ReaderResult:
        candidates, features = self.features(question, hits, articles)
        if not candidates:
            return ReaderResult.nothing()
        scores = features @ self.weights.vector() + self.weights.bias
        best = int(np.argmax(scores))
        c = candidates[best]
        text = articles[c.article_id].text[c.start : c.end]
        return ReaderResult(text, c.article_id, c.start, c.end, _sigmoid(float(scores[best])), c.hit_rank)

    def candidates(self, hits: list[Hit], articles: Mapping[str, Article]) -> list[Candidate]:
        """The sentences of the hits' chunks, once each (overlapping chunks share sentences), best rank kept."""
        seen: dict[tuple[str, int, int], Candidate] = {}
        for hit in hits:
            article = articles[hit.chunk.article_id]
            for start, end in sentence_spans(article.text, hit.chunk.start, hit.chunk.end):
                key = (article.id, start, end)
                if key not in seen or hit.rank < seen[key].hit_rank:
                    seen[key] = Candidate(article.id, start, end, hit.rank)
        return list(seen.values())

    def features(
        self, question: str, hits: list[Hit], articles: Mapping[str, Article]
    ) -> tuple[list[Candidate], np.ndarray]:
        """Candidates and their (n, 3) feature matrix, columns in ``FEATURES`` order."""
        candidates = self.candidates(hits, articles)
        if not candidates:
            return [], np.zeros((0, len(FEATURES)))
        texts = [articles[c.article_id].text[c.start : c.end] for c in candidates]
        dense = self._dense(question, candidates, texts)
        lexical = self._lexical(question, texts)
        rank = np.array([1.0 / c.hit_rank for c in candidates])
        return candidates, np.column_stack([dense, lexical, rank])

    def _dense(self, question: str, candidates: list[Candidate], texts: list[str]) -> np.ndarray:
        if self.embedder is None:
            return np.zeros(len(candidates))
        keys = [(c.article_id, c.start, c.end) for c in candidates]
        with self._lock:  # the chat app answers from several threads
            known = {key: self._cache.get(key) for key in keys}
        missing = [i for i, key in enumerate(keys) if known[key] is None]
        # One encoder call a question: the question and the sentences never seen before, together.
        vectors = self.embedder.encode([question] + [texts[i] for i in missing])
        with self._lock:
            for j, i in enumerate(missing, start=1):
                known[keys[i]] = vectors[j]
                self._remember(keys[i], vectors[j])
            for key in keys:
                if key in self._cache:
                    self._cache.move_to_end(key)
        matrix = np.stack([known[key] for key in keys])
        return matrix @ vectors[0]

    def _remember(self, key: tuple[str, int, int], vector: np.ndarray) -> None:
        self._cache[key] = vector
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _lexical(self, question: str, texts: list[str]) -> np.ndarray:
        terms = set(self._tokenize(question))
        if not terms:
            return np.zeros(len(texts))
        bags = [set(self._tokenize(t)) for t in texts]
        n = len(bags)
        idf = {w: math.log((n + 1) / (sum(w in bag for bag in bags) + 0.5)) for w in terms}
        total = sum(idf.values())
        return np.array([sum(idf[w] for w in terms & bag) / total for bag in bags])


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

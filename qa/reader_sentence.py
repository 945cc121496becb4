"""Sentence reader: answers with the retrieved sentence that best matches the question (a verbatim span).

Every sentence of the top-k chunks is a candidate, scored by three features:
  - ``dense``: cosine similarity of question and sentence embeddings (the index's sentence-transformers model);
  - ``lexical``: the share of the question's (stemmed, non-stopword) terms found in the sentence, each term
    weighted by its IDF among the candidate sentences, so words every passage repeats count little;
  - ``rank``: 1 / retrieval rank of the best chunk holding the sentence.
The confidence is ``sigmoid(w . features + b)``: the probability that the sentence holds the answer, with the
weights fitted by logistic regression on SQuAD v1.1 train questions (never dev). Without an embedding model
the reader uses a second weight set fitted without the dense feature.

Reading is bounded whatever the chunk (``ReadLimits``): only its first ``max_chunk_chars`` characters are read,
a sentence longer than ``max_sentence_chars`` (a line without sentence breaks) is read, and answered, in pieces
cut at spaces, and at most ``max_sentences_per_chunk`` candidates come from one chunk. Sentences are embedded in
slices of ``ENCODE_SLICE``; past ``read``'s ``deadline`` no further slice is embedded (the first always is) and
the answer comes from the sentences embedded.

Example:
    >>> reader = SentenceReader(Embedder())                                     # doctest: +SKIP
    >>> r = reader.read("Who criticised the theory?", hits, index.articles)     # doctest: +SKIP
    >>> r.answer, round(r.confidence, 2)                                        # doctest: +SKIP
    ('Chinese foreign ministry spokesman Geng Shuang criticised ...', 0.71)
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from corpus import Article
from index.bm25 import Tokenizer
from index.embedder import Embedder
from index.sentences import bounded_spans, sentence_spans
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
ENCODE_SLICE = 256  # sentences a question embeds at once (the default k reads about 30 new ones: one call)


@dataclass(frozen=True)
class ReadLimits:
    """How much of one chunk is read. 5 of the 16,567 sentences of SQuAD v1.1 and v2.0 dev are longer than 1,000
    characters, and chunks of the index hold a few sentences (index.chunker bounds them): these cut abnormal text."""

    max_chunk_chars: int = 16_000
    max_sentence_chars: int = 1_000
    max_sentences_per_chunk: int = 64


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
        limits: ReadLimits = ReadLimits(),
    ):
        self.limits = limits
        self.embedder = embedder
        self.weights = weights or (FITTED_WEIGHTS if embedder is not None else LEXICAL_WEIGHTS)
        self.abstain_threshold = abstain_threshold
        self._tokenize = Tokenizer()
        self._cache: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def read(self, question: str, hits: list[Hit], articles: Mapping[str, Article],
             deadline: float | None = None) -> ReaderResult:
        candidates, features, unread = self._scored(question, hits, articles, deadline)
        if not candidates:
            return replace(ReaderResult.nothing(), unread=unread)
        scores = features @ self.weights.vector() + self.weights.bias
        best = int(np.argmax(scores))
        c = candidates[best]
        text = articles[c.article_id].text[c.start : c.end]
        return ReaderResult(text, c.article_id, c.start, c.end, _sigmoid(float(scores[best])), c.hit_rank, unread=unread)

    def candidates(self, hits: list[Hit], articles: Mapping[str, Article]) -> list[Candidate]:
        """The sentences of the hits' chunks (within ``limits``), once each (overlapping chunks share sentences),
        best rank kept; in the order of the hits."""
        seen: dict[tuple[str, int, int], Candidate] = {}
        limits = self.limits
        for hit in hits:
            article = articles[hit.chunk.article_id]
            stop = min(hit.chunk.end, hit.chunk.start + limits.max_chunk_chars)
            # pieces bounded by characters only (a piece of n characters never has more than n words)
            spans = bounded_spans(article.text, sentence_spans(article.text, hit.chunk.start, stop),
                                  limits.max_sentence_chars, max_words=limits.max_sentence_chars)
            for start, end in spans[: limits.max_sentences_per_chunk]:
                key = (article.id, start, end)
                if key not in seen or hit.rank < seen[key].hit_rank:
                    seen[key] = Candidate(article.id, start, end, hit.rank)
        return list(seen.values())

    def features(
        self, question: str, hits: list[Hit], articles: Mapping[str, Article]
    ) -> tuple[list[Candidate], np.ndarray]:
        """Candidates and their (n, 3) feature matrix, columns in ``FEATURES`` order."""
        candidates, matrix, _ = self._scored(question, hits, articles, None)
        return candidates, matrix

    def _scored(
        self, question: str, hits: list[Hit], articles: Mapping[str, Article], deadline: float | None
    ) -> tuple[list[Candidate], np.ndarray, int]:
        """``features`` of the candidates embedded before ``deadline``, and how many hits were not read in full."""
        candidates = self.candidates(hits, articles)
        if not candidates:
            return [], np.zeros((0, len(FEATURES))), 0
        texts = [articles[c.article_id].text[c.start : c.end] for c in candidates]
        dense = self._dense(question, candidates, texts, deadline)
        unread = len({c.hit_rank for c in candidates[len(dense):]})
        candidates, texts = candidates[: len(dense)], texts[: len(dense)]
        lexical = self._lexical(question, texts)
        rank = np.array([1.0 / c.hit_rank for c in candidates])
        return candidates, np.column_stack([dense, lexical, rank]), unread

    def _dense(self, question: str, candidates: list[Candidate], texts: list[str],
               deadline: float | None = None) -> np.ndarray:
        """Cosine similarity of the question and each candidate: all of them, or past ``deadline`` the first
        ones whose vectors are known (candidates come in hit order, so these are the best-ranked hits)."""
        if self.embedder is None:
            return np.zeros(len(candidates))
        keys = [(c.article_id, c.start, c.end) for c in candidates]
        with self._lock:  # the chat app answers from several threads
            known = {key: self._cache.get(key) for key in keys}
        missing = [i for i, key in enumerate(keys) if known[key] is None]
        # The question and the sentences never seen before, together: one encoder call for the usual question.
        question_vector, done = None, 0
        while question_vector is None or done < len(missing):
            if question_vector is not None and deadline is not None and time.perf_counter() > deadline:
                break
            part = missing[done : done + ENCODE_SLICE]
            vectors = self.embedder.encode(([question] if question_vector is None else []) + [texts[i] for i in part])
            if question_vector is None:
                question_vector, vectors = vectors[0], vectors[1:]
            with self._lock:
                for i, vector in zip(part, vectors):
                    known[keys[i]] = vector
                    self._remember(keys[i], vector)
            done += len(part)
        read = next((i for i, key in enumerate(keys) if known[key] is None), len(keys))
        with self._lock:
            for key in keys[:read]:
                if key in self._cache:
                    self._cache.move_to_end(key)
        matrix = np.stack([known[key] for key in keys[:read]])
        return matrix @ question_vector

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

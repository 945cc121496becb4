"""Question -> retrieval -> reader -> ``Answer`` with numbered citations, abstaining below a threshold.

``retrieval_query`` (follow-up questions rewritten by the chat UI) is what retrieval searches for; the reader
always reads ``question`` itself, because it must answer what was asked, and the retrieved chunks already
carry the context that the rewrite brought in. ``Answer.question`` is ``question``.

When the reader's confidence is below the threshold the answer is abstained (``answer`` None) and the closest
passages are still cited. The threshold is the reader's own calibrated one unless ``AnswerConfig`` says
otherwise: the sentence reader's is calibrated on SQuAD v2.0 dev (see ``qa.reader_sentence``), a span model's
is stored next to it by the calibration command; an uncalibrated span model never abstains.

Example:
    >>> answerer = load_answerer(Path(".qa-index"))                            # doctest: +SKIP
    >>> a = answerer.ask("Who is the Chinese foreign ministry spokesman?")     # doctest: +SKIP
    >>> a.answer, a.citations[0].n, a.mode                                     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from index.embedder import Embedder, EmbedderUnavailable
from index.lifecycle import open_index
from index.store import CorpusIndex, IndexConfig
from qa.reader import Reader, ReaderResult, containing_sentence
from qa.reader_sentence import ABSTAIN_THRESHOLD as SENTENCE_ABSTAIN_THRESHOLD
from qa.reader_sentence import SentenceReader
from qa.retriever import MODES, RetrievalConfig, RetrievalResult, Retriever
from qa.types import Answer, Citation, Hit

log = logging.getLogger(__name__)

# A span model shipped with the project lives here (a save_pretrained directory with config.json).
SHIPPED_READER_DIR = Path(__file__).parent / "models" / "reader"
READERS = ("auto", "sentence", "span")


@dataclass(frozen=True)
class AnswerConfig:
    k: int = 5  # chunks read (and cited)
    mode: str = "hybrid"
    # The sentence reader's calibrated threshold; an Answerer built without a config takes its reader's own.
    abstain_threshold: float = SENTENCE_ABSTAIN_THRESHOLD


@dataclass(frozen=True)
class Answered:
    """An answer with what produced it: the reader's candidate (before abstention) and the retrieval."""

    answer: Answer
    candidate: ReaderResult
    candidate_sentence: str | None  # the sentence holding the candidate, also when abstained
    retrieval: RetrievalResult


@dataclass(frozen=True)
class Answerer:
    """Retriever + reader + configuration, fixed when built: to change any of them, build a new Answerer
    (``dataclasses.replace``). The chat app swaps the whole object after an upload, so a question being answered
    keeps the retriever it started with. Without ``config`` the reader's own calibrated threshold applies."""

    retriever: Retriever
    reader: Reader
    config: AnswerConfig | None = None

    def __post_init__(self) -> None:
        if self.config is None:
            object.__setattr__(self, "config", AnswerConfig(abstain_threshold=reader_threshold(self.reader)))

    def ask(self, question: str, k: int | None = None, mode: str | None = None, retrieval_query: str | None = None) -> Answer:
        return self.ask_detailed(question, k, mode, retrieval_query).answer

    def warm_up(self) -> None:
        """Answer one throw-away question: the first encoder calls are much slower than the next ones, and a
        user (or a latency measurement) should not wait for them."""
        if self.retriever.index.chunks:
            self.ask("What happened?")

    def ask_detailed(
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        retrieval_query: str | None = None,
        retrieve_k: int | None = None,
    ) -> Answered:
        """``ask`` with its by-products; ``retrieve_k`` retrieves more than the ``k`` read (for recall@20)."""
        started = time.perf_counter()
        if not question or not question.strip():
            raise ValueError("the question is empty")
        k = k or self.config.k
        mode = mode or self.config.mode
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        query = retrieval_query.strip() if retrieval_query and retrieval_query.strip() else question
        retrieval = self.retriever.search(query, k=max(k, retrieve_k or 0), mode=mode)
        return self.answer_hits(question, retrieval, k, started)

    def answer_hits(self, question: str, retrieval: RetrievalResult, k: int, started: float | None = None) -> Answered:
        """Read the first ``k`` hits of ``retrieval`` and build the Answer (also used by reader-only eval)."""
        started = time.perf_counter() if started is None else started
        hits = retrieval.hits[:k]
        articles = self.retriever.index.articles
        candidate = self.reader.read(question, hits, articles)
        citations = [_citation(n, hit, articles) for n, hit in enumerate(hits, start=1)]
        sentence = None
        if candidate.answer is not None:
            article = articles[candidate.article_id]
            hit = next((h for h in hits if h.rank == candidate.hit_rank), hits[0])
            s, e = containing_sentence(article, hit, candidate.start, candidate.end)
            sentence = article.text[s:e]
        answer = Answer(question=question, answer=None, abstained=True, confidence=0.0, sentence=None, answer_span=None, citations=citations, mode=retrieval.mode)
        answer = decide(answer, candidate, sentence, self.config.abstain_threshold)
        answer = replace(answer, latency_ms=(time.perf_counter() - started) * 1000.0)
        return Answered(answer, candidate, sentence, retrieval)


def _citation(n: int, hit: Hit, articles) -> Citation:
    article = articles[hit.chunk.article_id]
    return Citation(n, article.id, article.title, article.source, hit.chunk.start, hit.chunk.end, hit.chunk.text, hit.score)


def decide(answer: Answer, candidate: ReaderResult, sentence: str | None, threshold: float) -> Answer:
    """``answer`` with the candidate filled in, or abstained when its confidence is below ``threshold``."""
    answered = candidate.answer is not None and candidate.confidence >= threshold
    return replace(
        answer,
        answer=candidate.answer if answered else None,
        abstained=not answered,
        confidence=float(min(1.0, max(0.0, candidate.confidence))),
        sentence=sentence if answered else None,
        answer_span=(candidate.article_id, candidate.start, candidate.end) if answered else None,
    )


def reader_threshold(reader: Reader) -> float:
    """The reader's calibrated threshold; 0 (never abstain) for a reader that was never calibrated."""
    threshold = getattr(reader, "abstain_threshold", None)
    return float(threshold) if threshold is not None else 0.0


def make_reader(
    reader: str = "auto", embedder: Embedder | None = None, model: str | Path | None = None, int8: bool | None = None
) -> Reader:
    """``sentence``, ``span`` (``model`` or the shipped one) or ``auto``: the shipped span model when there is
    one that loads, else the sentence reader. ``int8``: the span model with int8 linear layers (True), in float32
    (False), or as its calibration was fitted (None)."""
    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}: choose one of {', '.join(READERS)}")
    if reader == "sentence":
        return SentenceReader(embedder)
    from qa.reader_span import (  # transformers' QA models: on use
        ReaderUnavailable,
        SpanReader,
        SpanReaderConfig,
    )

    config = SpanReaderConfig(int8=int8)
    path = Path(model) if model else SHIPPED_READER_DIR
    if reader == "span":
        if not model and not (path / "config.json").exists():
            raise ValueError(f"no span model shipped at {path}: pass --model PATH")
        return SpanReader(model or path, config)
    if model or (path / "config.json").exists():
        try:
            return SpanReader(path, config)
        except ReaderUnavailable as exc:
            log.warning("%s; using the sentence reader", exc)
    return SentenceReader(embedder)


def build_answerer(
    index: CorpusIndex,
    reader: str = "auto",
    model: str | Path | None = None,
    int8: bool | None = None,
    threshold: float | None = None,
    embedder: Embedder | None = None,
) -> Answerer:
    """Retriever and reader around an index already in memory. ``threshold`` overrides the reader's calibrated
    one. One embedder (``embedder``, or loaded here when the index has vectors) is shared by the retriever and
    the sentence reader; without a loadable model the retriever answers from BM25 and the sentence reader uses
    its lexical weights."""
    if embedder is None and index.dense is not None:
        try:
            embedder = Embedder(index.config.embedder)
        except EmbedderUnavailable as exc:
            log.warning("%s", exc)
    retriever = Retriever(index, RetrievalConfig(), embedder=embedder)
    chosen = make_reader(reader, retriever.embedder, model, int8)
    config = None if threshold is None else AnswerConfig(abstain_threshold=threshold)
    return Answerer(retriever, chosen, config)


def load_answerer(index_dir: Path, reader: str = "auto", model: str | Path | None = None,
                  int8: bool | None = None, threshold: float | None = None) -> Answerer:
    """Open the index at ``index_dir`` (refusing a stale one) and build the answerer around it."""
    return build_answerer(open_index(Path(index_dir), IndexConfig()), reader, model, int8, threshold)

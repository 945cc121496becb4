"""Question -> retrieval -> reader -> ``Answer`` with numbered citations, abstaining below a threshold.

``retrieval_query`` (follow-up questions rewritten by the chat UI) is what retrieval searches for; the reader
always reads ``question`` itself, because it must answer what was asked, and the retrieved chunks already
carry the context that the rewrite brought in. ``Answer.question`` is ``question``. ``filters``
(``qa.filters.ArticleFilter``: sources, a date range) are applied inside retrieval, so the k passages read are
the best k of the matching articles; none matching is ``NoMatchingArticles`` (a ``ValueError``).

When the reader's confidence is below the threshold the answer is abstained (``answer`` None), the closest
passages are still cited, and the reader's candidate is kept as ``Answer.guess`` (shown as a low-confidence
guess, never as the answer). When two or more of the articles read answer confidently, ``Answer.alternatives``
holds each one's answer with its source and day (``qa.sources``), so a reply shows where sources differ. The threshold is the reader's own calibrated one unless ``AnswerConfig`` says
otherwise: the sentence reader's is calibrated on SQuAD v2.0 dev (see ``qa.reader_sentence``), a span model's
is stored next to it by the calibration command; an uncalibrated span model never abstains.

Every question is checked first (``qa.question.check_question``, ``check_k``: a ``ValueError`` says why it cannot be
asked). A question has a time budget (``AnswerConfig.time_budget_s``, counted from the moment it is asked):
past it the reader stops and answers from what it has read, and ``Answer.notice`` says so. A reply is bounded
too: each citation carries at most ``MAX_CITATION_CHARS`` of its passage, around the answer, and the answer's
sentence at most ``MAX_SENTENCE_CHARS`` (a text without sentence breaks is one long "sentence").

Example:
    >>> answerer = load_answerer(Path(".qa-index"))                            # doctest: +SKIP
    >>> a = answerer.ask("Who is the Chinese foreign ministry spokesman?")     # doctest: +SKIP
    >>> a.answer, a.citations[0].n, a.mode                                     # doctest: +SKIP
    >>> answerer.ask("Who?", filters=ArticleFilter.parse(["CNN"], since="2017-04-01")).citations[0].source  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from corpus.dates import lenient_date
from index.embedder import Embedder, EmbedderUnavailable
from index.lifecycle import open_index
from index.store import CorpusIndex, IndexConfig
from qa.excerpt import excerpt_bounds
from qa.filters import ArticleFilter
from qa.question import check_k, check_question
from qa.reader import Reader, ReaderResult, containing_sentence
from qa.reader_sentence import ABSTAIN_THRESHOLD as SENTENCE_ABSTAIN_THRESHOLD
from qa.reader_sentence import SentenceReader
from qa.retriever import MODES, RetrievalConfig, RetrievalResult, Retriever
from qa.sources import source_answers
from qa.types import MAX_CITATION_CHARS, Answer, Citation, Guess, Hit, first_holding

log = logging.getLogger(__name__)

# A span model shipped with the project lives here (a save_pretrained directory with config.json).
SHIPPED_READER_DIR = Path(__file__).parent / "models" / "reader"
READERS = ("auto", "sentence", "span")
# The time a question may take, retrieval and reading together. Measured here (2 shared cores, the shipped span
# reader): the 55 default gold questions took p95 0.25 s at k=5 and 0.63 s at k=50 (all 15 passages of the
# default corpus); 50 chunks at the span reader's size bound (600 windows) took 34 s, 5.2 s with this budget.
DEFAULT_TIME_BUDGET_S = 5.0
MAX_SENTENCE_CHARS = 1000  # the answer's sentence in a reply: a window of that size around the answer


@dataclass(frozen=True)
class AnswerConfig:
    k: int = 5  # chunks read (and cited)
    mode: str = "hybrid"
    # The sentence reader's calibrated threshold; an Answerer built without a config takes its reader's own.
    abstain_threshold: float = SENTENCE_ABSTAIN_THRESHOLD
    time_budget_s: float | None = DEFAULT_TIME_BUDGET_S  # None: read every passage whatever it takes


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

    def ask(self, question: str, k: int | None = None, mode: str | None = None, retrieval_query: str | None = None,
            filters: ArticleFilter | None = None) -> Answer:
        return self.ask_detailed(question, k, mode, retrieval_query, filters=filters).answer

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
        filters: ArticleFilter | None = None,
    ) -> Answered:
        """``ask`` with its by-products; ``retrieve_k`` retrieves more than the ``k`` read (for recall@20).
        ``ValueError`` for a question, ``k`` or mode that cannot be asked, or filters no article passes (the
        message says why)."""
        started = time.perf_counter()
        check_question(question)
        k = self.config.k if k is None else check_k(k)
        mode = mode or self.config.mode
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        query = retrieval_query.strip() if retrieval_query and retrieval_query.strip() else question
        retrieval = self.retriever.search(query, k=max(k, retrieve_k or 0), mode=mode, filters=filters)
        return self.answer_hits(question, retrieval, k, started)

    def answer_hits(self, question: str, retrieval: RetrievalResult, k: int, started: float | None = None) -> Answered:
        """Read the first ``k`` hits of ``retrieval`` and build the Answer (also used by reader-only eval); the
        time budget counts from ``started``."""
        started = time.perf_counter() if started is None else started
        budget = self.config.time_budget_s
        hits = retrieval.hits[:k]
        articles = self.retriever.index.articles
        candidate = self.reader.read(question, hits, articles, deadline=None if budget is None else started + budget)
        citations = [_citation(n, hit, articles) for n, hit in enumerate(hits, start=1)]
        sentence = None
        if candidate.answer is not None:
            article = articles[candidate.article_id]
            hit = next((h for h in hits if h.rank == candidate.hit_rank), hits[0])
            s, e = containing_sentence(article, hit, candidate.start, candidate.end)
            s, e = excerpt_bounds(article.text, s, e, (candidate.start, candidate.end), MAX_SENTENCE_CHARS)
            sentence = article.text[s:e]
        answer = Answer(question=question, answer=None, abstained=True, confidence=0.0, sentence=None, answer_span=None, citations=citations, mode=retrieval.mode)
        answer = decide(answer, candidate, sentence, self.config.abstain_threshold)
        answer = replace(answer, alternatives=source_answers(candidate, self.config.abstain_threshold, citations,
                                                             articles))
        answer = replace(answer, citations=[c.excerpt(MAX_CITATION_CHARS, _span(answer, c)) for c in citations],
                         latency_ms=(time.perf_counter() - started) * 1000.0, notice=_budget_notice(candidate, len(hits), budget))
        return Answered(answer, candidate, sentence, retrieval)


def _span(answer: Answer, citation: Citation) -> tuple[int, int] | None:
    """The answer's (start, end) in the article when ``citation`` holds it (its excerpt is centred on it); when
    abstained, the guess's, so the passage a guess points to shows it."""
    span = answer.answer_span or (answer.guess.span if answer.guess else None)
    return span[1:] if citation.holds(span) else None


def _budget_notice(candidate: ReaderResult, read: int, budget: float | None) -> str | None:
    if not candidate.unread:
        return None
    return (f"The time budget of {budget:g} s ran out: {candidate.unread} of the {read} passages were not read "
            "in full, and this answer comes from the rest.")


def _citation(n: int, hit: Hit, articles) -> Citation:
    article = articles[hit.chunk.article_id]
    return Citation(n, article.id, article.title, article.source, hit.chunk.start, hit.chunk.end, hit.chunk.text,
                    hit.score, published=lenient_date(article.published), url=article.url)


def decide(answer: Answer, candidate: ReaderResult, sentence: str | None, threshold: float) -> Answer:
    """``answer`` with the candidate filled in, or abstained when its confidence is below ``threshold``: then the
    candidate (if any) is kept as ``Answer.guess``, pointing to the first of ``answer.citations`` that holds it."""
    answered = candidate.answer is not None and candidate.confidence >= threshold
    confidence = float(min(1.0, max(0.0, candidate.confidence)))
    span = (candidate.article_id, candidate.start, candidate.end)
    guess = None
    if not answered and candidate.answer is not None:
        cited = first_holding(answer.citations, span)
        guess = Guess(candidate.answer, confidence, *span, sentence, cited.n if cited else None)
    return replace(
        answer,
        answer=candidate.answer if answered else None,
        abstained=not answered,
        confidence=confidence,
        sentence=sentence if answered else None,
        answer_span=span if answered else None,
        guess=guess,
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

"""The Answerer: retrieval + reader -> Answer with citations; abstention; follow-up retrieval; index swaps."""

from __future__ import annotations

import json
import os
from dataclasses import FrozenInstanceError, replace

import pytest

from corpus import Article
from index.chunk import Chunk
from index.sentences import sentence_spans
from index.store import build_index
from qa.answerer import (
    MAX_SENTENCE_CHARS,
    SHIPPED_READER_DIR,
    AnswerConfig,
    Answerer,
    decide,
    load_answerer,
)
from qa.question import MAX_K
from qa.reader import ReaderResult
from qa.reader_sentence import ABSTAIN_THRESHOLD, SentenceReader
from qa.reader_span import CALIBRATION_FILE, SpanReader, SpanReaderConfig
from qa.retriever import RetrievalResult, Retriever
from qa.types import MAX_CITATION_CHARS, Answer, Citation, Hit

QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the China responsibility theory?"


@pytest.fixture(scope="module")
def answerer(default_retriever, embedder) -> Answerer:
    return Answerer(default_retriever, SentenceReader(embedder))


class FixedReader:
    """A reader that answers with one word of the first hit's chunk, at a fixed confidence."""

    name = "fixed"
    abstain_threshold = 0.5

    def __init__(self, word: str, confidence: float):
        self.word, self.confidence = word, confidence

    def read(self, question, hits, articles, deadline=None):
        chunk = hits[0].chunk
        start = chunk.start + chunk.text.index(self.word)
        text = articles[chunk.article_id].text[start : start + len(self.word)]
        return ReaderResult(text, chunk.article_id, start, start + len(self.word), self.confidence, hits[0].rank)


def test_answer_cites_the_retrieved_passages_in_rank_order(answerer, default_retriever):
    a = answerer.ask(QUESTION)
    hits = default_retriever.search(QUESTION, k=5).hits
    assert [c.n for c in a.citations] == [1, 2, 3, 4, 5]
    articles = default_retriever.index.articles
    for c, h in zip(a.citations, hits):
        assert (c.article_id, c.start, c.end, c.text) == (h.chunk.article_id, h.chunk.start, h.chunk.end, h.chunk.text)
        assert c.title == articles[c.article_id].title and c.source == articles[c.article_id].source
        assert c.score == pytest.approx(h.score)
    assert a.mode == "hybrid" and a.latency_ms > 0 and a.question == QUESTION


def test_answer_is_a_verbatim_span_inside_its_sentence(answerer, default_retriever):
    a = answerer.ask(QUESTION)
    assert not a.abstained and "Geng Shuang" in a.sentence
    article_id, start, end = a.answer_span
    text = default_retriever.index.articles[article_id].text
    assert text[start:end] == a.answer
    assert a.answer in a.sentence and a.sentence in text
    assert 0.0 <= a.confidence <= 1.0


def test_sentence_is_the_article_sentence_holding_a_short_answer(default_retriever):
    answerer = Answerer(default_retriever, FixedReader("Tuesday", 0.9))
    a = answerer.ask("When did the spokesman speak?")
    article_id, start, end = a.answer_span
    text = default_retriever.index.articles[article_id].text
    sentences = [(s, e) for s, e in sentence_spans(text) if s <= start and end <= e]
    assert a.answer == "Tuesday" and a.sentence == text[sentences[0][0] : sentences[0][1]]


def test_below_the_threshold_it_abstains_and_still_cites(default_retriever):
    low = Answerer(default_retriever, FixedReader("Trump", 0.3))  # the reader's own threshold: 0.5
    a = low.ask("Who tweeted about China?")
    assert a.abstained and a.answer is None and a.sentence is None and a.answer_span is None
    assert a.confidence == pytest.approx(0.3) and len(a.citations) == 5
    assert a.to_json_dict()["answer"] is None
    high = Answerer(default_retriever, FixedReader("Trump", 0.3), AnswerConfig(abstain_threshold=0.2))
    assert high.ask("Who tweeted about China?").answer == "Trump"


def test_an_abstained_answer_keeps_the_readers_candidate_as_a_guess(default_retriever):
    a = Answerer(default_retriever, FixedReader("Trump", 0.3)).ask("Who tweeted about China?")
    guess = a.guess
    assert a.abstained and guess is not None and guess.text == "Trump" and guess.confidence == pytest.approx(0.3)
    assert default_retriever.index.articles[guess.article_id].text[guess.start : guess.end] == "Trump"
    assert guess.citation == 1 and a.citations[0].holds(guess.span)  # FixedReader reads the first hit
    assert "Trump" in guess.sentence and a.sentence is None and a.answer_span is None
    as_json = a.to_json_dict()
    assert as_json["guess"] == {"text": "Trump", "confidence": 0.3, "article_id": guess.article_id, "start": guess.start,
                                "end": guess.end, "sentence": guess.sentence, "citation": 1}
    assert set(as_json) - {"guess"} == {"question", "answer", "abstained", "confidence", "sentence", "answer_span",
                                        "citations", "mode", "latency_ms"}
    with pytest.raises(FrozenInstanceError):
        guess.text = "Biden"


def test_an_answered_question_has_no_guess_and_the_json_is_unchanged(default_retriever):
    a = Answerer(default_retriever, FixedReader("Trump", 0.9)).ask("Who tweeted about China?")
    assert not a.abstained and a.guess is None and "guess" not in a.to_json_dict()


def test_decide_keeps_a_guess_only_while_abstained_and_points_to_the_citation_holding_it():
    cites = [Citation(1, "a", "T", None, 0, 50, "x" * 50, 0.9), Citation(2, "b", "U", None, 100, 200, "y" * 100, 0.5)]
    empty = Answer("q?", None, True, 0.0, None, None, cites)
    candidate = ReaderResult("yyy", "b", 120, 123, 0.4, 2)
    low = decide(empty, candidate, "a yyy sentence", threshold=0.5)
    assert low.abstained and (low.guess.text, low.guess.citation, low.guess.sentence) == ("yyy", 2, "a yyy sentence")
    assert low.guess.span == ("b", 120, 123)
    high = decide(low, candidate, "a yyy sentence", threshold=0.3)  # re-deciding (apply_threshold) drops it
    assert not high.abstained and high.answer == "yyy" and high.guess is None
    uncited = decide(empty, ReaderResult("zz", "c", 0, 2, 0.1, 1), None, threshold=0.5)
    assert uncited.guess.citation is None and uncited.guess.sentence is None
    nothing = decide(empty, ReaderResult.nothing(), None, threshold=0.5)
    assert nothing.abstained and nothing.guess is None and "guess" not in nothing.to_json_dict()
    # a guess given to an answered Answer (a hand-built one) never reaches the JSON
    assert "guess" not in replace(high, guess=low.guess).to_json_dict()


def test_the_excerpt_of_a_long_passage_is_centred_on_the_guess_when_abstained(embedder):
    text = "word " * 2000 + "The giraffe Zelda lives in Quibbletown. " + "word " * 2000
    retriever, retrieval = huge_passage(embedder, text)
    start = text.index("Quibbletown")

    class Fixed:
        name, abstain_threshold = "fixed", 0.9

        def read(self, question, hits, articles, deadline=None):
            return ReaderResult("Quibbletown", hits[0].chunk.article_id, start, start + 11, 0.2, 1)

    a = Answerer(retriever, Fixed()).answer_hits("Where does Zelda live?", retrieval, 1).answer
    [c] = a.citations
    assert a.abstained and a.guess.citation == 1
    assert c.text_start <= start and start + 11 <= c.text_start + len(c.text)


def test_default_threshold_is_the_readers_calibrated_one(answerer):
    assert answerer.config.abstain_threshold == ABSTAIN_THRESHOLD == AnswerConfig().abstain_threshold


def test_k_and_mode_are_honoured(answerer):
    a = answerer.ask(QUESTION, k=2, mode="bm25")
    assert len(a.citations) == 2 and a.mode == "bm25"
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        answerer.ask(QUESTION, mode="magic")
    with pytest.raises(ValueError, match="empty"):
        answerer.ask("   ")


def test_retrieval_query_drives_retrieval_and_the_question_is_kept(answerer, default_retriever):
    rewritten = "Geng Shuang China responsibility theory Korean peninsula"
    a = answerer.ask("What did he say about it?", retrieval_query=rewritten)
    expected = default_retriever.search(rewritten, k=5).hits
    assert [(c.article_id, c.start) for c in a.citations] == [(h.chunk.article_id, h.chunk.start) for h in expected]
    assert a.question == "What did he say about it?"


def test_an_answerer_with_another_retriever_answers_from_the_new_index(answerer, embedder):
    old = answerer.retriever
    article = Article.from_text("The Zorblax festival takes place every June in Quibbletown. It lasts nine days.", title="Zorblax")
    swapped = replace(answerer, retriever=Retriever(build_index([article], embedder=embedder, progress=False), old.config, embedder=old.embedder))
    a = swapped.ask("Where does the Zorblax festival take place?")
    assert {c.article_id for c in a.citations} == {article.id}
    assert a.answer is None or "Quibbletown" in a.answer
    assert swapped.reader is answerer.reader and swapped.config == answerer.config
    assert answerer.retriever is old  # the original is unchanged
    with pytest.raises(FrozenInstanceError):
        answerer.retriever = swapped.retriever


def test_load_answerer_opens_the_index_and_picks_the_reader(default_index_dir, tiny_span_model):
    auto = load_answerer(default_index_dir)
    assert auto.reader.name == ("span" if (SHIPPED_READER_DIR / "config.json").exists() else "sentence")
    if auto.reader.name == "sentence":
        assert auto.retriever.embedder is auto.reader.embedder  # one embedder, shared
    span = load_answerer(default_index_dir, reader="span", model=tiny_span_model)
    assert span.reader.name == "span" and span.config.abstain_threshold == 0.0  # uncalibrated: never abstains
    a = span.ask(QUESTION)
    assert not a.abstained and span.retriever.index.articles[a.answer_span[0]].text[a.answer_span[1] : a.answer_span[2]] == a.answer


def test_a_calibrated_span_model_brings_its_threshold(default_index_dir, tmp_path):
    from tiny_span import build_tiny_span_model

    model = build_tiny_span_model(tmp_path / "m")
    (model / CALIBRATION_FILE).write_text(json.dumps({"abstain_threshold": 0.99}))
    answerer = load_answerer(default_index_dir, reader="span", model=model)
    assert answerer.config.abstain_threshold == 0.99
    assert answerer.ask(QUESTION).abstained  # a random model is never that sure


def test_a_shipped_model_that_cannot_load_falls_back_to_the_sentence_reader(tmp_path, embedder, monkeypatch, caplog):
    import qa.answerer as answerer_module
    from qa.answerer import make_reader
    from qa.reader_span import ReaderUnavailable

    broken = tmp_path / "reader"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(answerer_module, "SHIPPED_READER_DIR", broken)
    with caplog.at_level("WARNING"):
        reader = make_reader("auto", embedder)
    assert reader.name == "sentence"
    assert "cannot load reader model" in caplog.text and str(broken) in caplog.text
    with pytest.raises(ReaderUnavailable, match="cannot load reader model"):
        make_reader("span", embedder)  # asked for by name: an error, not a silent fallback


@pytest.mark.parametrize(
    "question, reason",
    [
        ("\ud800 who is it?", "lone surrogate"),  # a JSON "\ud800" escape: the API answered 500
        (os.fsdecode(b"\xff\xfe who"), "not valid text"),  # `qa ask $'\xff\xfe who'`: a traceback
        ("?!? ... !!", "only punctuation"),  # was answered
        ("   ", "empty"),
        ("who " * 600, "too long"),
    ],
)
def test_a_question_that_cannot_be_asked_is_refused_with_the_reason(answerer, question, reason):
    with pytest.raises(ValueError, match=reason):
        answerer.ask(question)


@pytest.mark.parametrize("k", [0, -1, MAX_K + 1, 10**5000, 2.5, True], ids=["0", "-1", "max+1", "huge", "2.5", "True"])
def test_k_outside_1_to_max_k_is_refused(answerer, k):
    with pytest.raises(ValueError, match="k must be"):
        answerer.ask(QUESTION, k=k)


def test_over_its_time_budget_a_question_answers_from_what_was_read_and_says_so(default_retriever, tiny_span_model):
    reader = SpanReader(tiny_span_model, SpanReaderConfig(batch_size=1))  # one window a batch
    timely = Answerer(default_retriever, reader, AnswerConfig(abstain_threshold=0.0))
    a = timely.ask(QUESTION)
    assert a.notice is None and "notice" not in a.to_json_dict()
    hurried = Answerer(default_retriever, reader, AnswerConfig(abstain_threshold=0.0, time_budget_s=0.0))
    a = hurried.ask(QUESTION)
    assert a.notice and "time budget of 0 s ran out" in a.notice and "4 of the 5 passages" in a.notice
    assert a.to_json_dict()["notice"] == a.notice
    assert not a.abstained and hurried.retriever.index.articles[a.answer_span[0]].text[a.answer_span[1] : a.answer_span[2]] == a.answer
    assert len(a.citations) == 5  # every passage retrieved is still cited


def huge_passage(embedder, text: str):
    """An index whose one article is ``text``, and a retrieval result whose one hit is the whole article as a
    single passage (what a text without sentence breaks used to become, whatever the chunker now does)."""
    article = Article.from_text(text, title="Huge")
    index = build_index([article], embedder=embedder, progress=False)
    hit = Hit(Chunk(f"{article.id}:0", article.id, 0, len(text), text), 1.0, 1, "hybrid")
    return Retriever(index, embedder=embedder), RetrievalResult("q", [hit], "hybrid")


@pytest.mark.parametrize("reader_name", ["sentence", "span"])
def test_a_reply_from_a_huge_passage_is_bounded(embedder, tiny_span_model, reader_name):
    """Issue 15: a 200,000-character passage came back whole in every citation (a 1 MB reply for 1 MB)."""
    text = "word " * 20_000 + "The giraffe Zelda lives in Quibbletown. " + "word " * 20_000
    retriever, retrieval = huge_passage(embedder, text)
    reader = SentenceReader(embedder) if reader_name == "sentence" else SpanReader(tiny_span_model)
    answered = Answerer(retriever, reader, AnswerConfig(abstain_threshold=0.0)).answer_hits("Where does Zelda live?", retrieval, 1)
    a = answered.answer
    [c] = a.citations
    assert (c.start, c.end) == (0, len(text))  # the whole passage, to open it
    assert len(c.text) <= MAX_CITATION_CHARS and text[c.text_start : c.text_start + len(c.text)] == c.text
    assert c.to_json_dict()["text_start"] == c.text_start and c.to_json_dict()["text_end"] == c.text_start + len(c.text)
    assert len(json.dumps(a.to_json_dict())) < 2 * MAX_CITATION_CHARS + 2 * MAX_SENTENCE_CHARS + 2000
    assert a.answer and len(a.answer) <= MAX_SENTENCE_CHARS and text[a.answer_span[1] : a.answer_span[2]] == a.answer
    assert a.sentence is not None and len(a.sentence) <= MAX_SENTENCE_CHARS and a.answer in a.sentence
    if c.holds(a.answer_span):  # the excerpt is around the answer
        assert c.text_start <= a.answer_span[1] and a.answer_span[2] <= c.text_start + len(c.text)
    # the reader read a bounded part of it: the sentence reader cut the unbroken run into bounded pieces
    if reader_name == "sentence":
        assert len(reader.candidates(retrieval.hits, retriever.index.articles)) <= reader.limits.max_sentences_per_chunk


def test_a_short_passage_is_cited_whole_with_the_contract_keys(answerer):
    a = answerer.ask(QUESTION)
    for c in a.citations:
        assert c.text_start is None and c.text_offset == c.start
        assert set(c.to_json_dict()) == {"n", "article_id", "title", "source", "published", "url", "start", "end", "text", "score"}


def test_past_its_deadline_the_sentence_reader_answers_from_the_sentences_it_embedded(embedder):
    """Ten passages of 40 sentences each: 400 candidates, embedded 256 at a time; with the deadline already
    past, only the first slice is embedded, and the passages it did not reach are counted as unread."""
    hits, articles = [], {}
    for rank in range(1, 11):
        text = " ".join(f"Sentence {i} of passage {rank} mentions the harbour number {rank * 100 + i}." for i in range(40))
        article = Article.from_text(text, title=f"P{rank}")
        articles[article.id] = article
        hits.append(Hit(Chunk(f"{article.id}:0", article.id, 0, len(text), text), 1.0 / rank, rank, "hybrid"))
    reader = SentenceReader(embedder, cache_size=0)
    assert len(reader.candidates(hits, articles)) == 400
    full = reader.read("Which harbour number?", hits, articles)
    cut = reader.read("Which harbour number?", hits, articles, deadline=0.0)
    assert full.unread == 0 and cut.unread == 4  # slice of 256: passages 1-6 whole, 7 in part, 8-10 not at all
    assert cut.hit_rank <= 7 and articles[cut.article_id].text[cut.start : cut.end] == cut.answer

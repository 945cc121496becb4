"""The Answerer: retrieval + reader -> Answer with citations; abstention; follow-up retrieval; index swaps."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pytest

from corpus import Article
from index.sentences import sentence_spans
from index.store import build_index
from qa.answerer import SHIPPED_READER_DIR, AnswerConfig, Answerer, load_answerer
from qa.reader import ReaderResult
from qa.reader_sentence import ABSTAIN_THRESHOLD, SentenceReader
from qa.reader_span import CALIBRATION_FILE
from qa.retriever import Retriever

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

    def read(self, question, hits, articles):
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

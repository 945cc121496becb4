"""Answers across sources (qa.sources, Answer.alternatives): when several articles read answer confidently, each
one's answer with its source, day and citation, and whether it says what the answer says."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from corpus import Article
from qa.answerer import Answerer, AnswerConfig
from qa.reader import ReaderResult
from qa.sources import same_answer, source_answers
from qa.types import Answer, Citation, SourceAnswer

POST = Article.from_text("Rovers signed Jonas Ekberg for a fee of £4.5 million on Tuesday. He is 24.",
                         title="Rovers sign Ekberg", source="Castlebridge Evening Post", published="2024-01-30")
SPORT = Article.from_text("The move was worth £6 million, Coastline Sport understands. Ekberg is 24.",
                          title="Ekberg move confirmed", source="Coastline Sport", published="2024-02-01")
CLUB = Article.from_text("Statement: the club paid 4.5 million pounds, a fee of £4.5 million, for Ekberg.",
                         title="Club statement", published="Tue, 30 Jan 2024 10:00:00 GMT")  # no source
BLOG = Article.from_text("Fans guessed the fee was £9 million.", title="Fan blog", source="Rovers Fans")
ARTICLES = {a.id: a for a in (POST, SPORT, CLUB, BLOG)}
THRESHOLD = 0.2


def span(article: Article, text: str, confidence: float, rank: int = 1) -> ReaderResult:
    start = article.text.index(text)
    return ReaderResult(text, article.id, start, start + len(text), confidence, rank)


def cite(n: int, article: Article, start: int = 0, end: int | None = None) -> Citation:
    end = len(article.text) if end is None else end
    return Citation(n, article.id, article.title, article.source, start, end, article.text[start:end], 0.5)


CITATIONS = [cite(1, POST), cite(2, SPORT), cite(3, CLUB), cite(4, BLOG)]


@pytest.mark.parametrize("a, b, same", [
    ("Geng Shuang", "the spokesman Geng Shuang", True),  # a run of the other's words
    ("The River Lunn", "river lunn.", True),  # case, articles and punctuation aside
    ("Sean Gallagher", "Sean Gallagher", True),
    ("30 people", "32 people", False),
    ("£4.5 million", "£6 million", False),
    ("Gallagher Sean", "Sean Gallagher", False),  # words in another order are another answer
    ("Priya", "Priyanka Castellane", False),  # whole words, not characters
    ("", "", True),
    ("", "Friday", False),
])
def test_same_answer(a, b, same):
    assert same_answer(a, b) is same and same_answer(b, a) is same


def test_the_answer_first_then_each_confident_article_best_first():
    candidate = replace(span(POST, "£4.5 million", 0.7), alternatives=(
        span(SPORT, "£6 million", 0.5, 2), span(CLUB, "£4.5 million", 0.3, 3), span(BLOG, "£9 million", 0.1, 4)))
    entries = source_answers(candidate, THRESHOLD, CITATIONS, ARTICLES)
    assert [(e.source, e.text, e.agrees) for e in entries] == [
        ("Castlebridge Evening Post", "£4.5 million", True),
        ("Coastline Sport", "£6 million", False),
        (None, "£4.5 million", True),
    ]  # the fan blog's 0.1 is below the threshold: left out
    assert [e.citation for e in entries] == [1, 2, 3]
    assert [e.published for e in entries] == ["2024-01-30", "2024-02-01", "2024-01-30"]  # read as a day
    assert [e.title for e in entries] == ["Rovers sign Ekberg", "Ekberg move confirmed", "Club statement"]
    assert [e.confidence for e in entries] == [0.7, 0.5, 0.3]
    for e in entries:
        assert ARTICLES[e.article_id].text[e.start:e.end] == e.text
    assert [e.label() for e in entries] == ["Castlebridge Evening Post, 2024-01-30", "Coastline Sport, 2024-02-01",
                                            "Club statement, 2024-01-30"]  # no source: the title


@pytest.mark.parametrize("answer_conf, other_conf, expected", [
    (0.7, 0.2, 2),  # at the threshold counts
    (0.7, 0.1999, 0),  # just below: only one article answers, nothing to compare
    (0.1999, 0.9, 0),  # the answer itself abstained: no alternatives, however sure another article is
    (0.2, 0.2, 2),
])
def test_an_article_counts_when_its_confidence_clears_the_threshold(answer_conf, other_conf, expected):
    candidate = replace(span(POST, "£4.5 million", answer_conf), alternatives=(span(SPORT, "£6 million", other_conf, 2),))
    assert len(source_answers(candidate, THRESHOLD, CITATIONS, ARTICLES)) == expected


def test_nothing_to_compare_without_other_answers():
    assert source_answers(span(POST, "£4.5 million", 0.9), THRESHOLD, CITATIONS, ARTICLES) == ()
    nothing = replace(ReaderResult.nothing(), alternatives=(span(SPORT, "£6 million", 0.9),))
    assert source_answers(nothing, THRESHOLD, CITATIONS, ARTICLES) == ()
    empty_other = replace(span(POST, "£4.5 million", 0.9), alternatives=(replace(ReaderResult.nothing(), confidence=0.9),))
    assert source_answers(empty_other, THRESHOLD, CITATIONS, ARTICLES) == ()


def test_the_citation_is_the_first_passage_holding_the_span():
    fee = SPORT.text.index("£6 million")
    citations = [cite(1, POST), cite(2, SPORT, 0, fee), cite(3, SPORT, fee - 5), cite(4, SPORT)]
    candidate = replace(span(POST, "£4.5 million", 0.7), alternatives=(span(SPORT, "£6 million", 0.5, 3),))
    entries = source_answers(candidate, THRESHOLD, citations, ARTICLES)
    assert [e.citation for e in entries] == [1, 3]  # passage 2 ends before the fee
    assert [e.citation for e in source_answers(candidate, THRESHOLD, citations[:2], ARTICLES)] == [1, None]


def _answer(alternatives: tuple[SourceAnswer, ...]) -> Answer:
    return Answer("How much?", "£4.5 million", False, 0.7, None, (POST.id, 0, 1), CITATIONS, alternatives=alternatives)


def entries(*pairs: tuple[Article, str, float]) -> tuple[SourceAnswer, ...]:
    first, *others = pairs
    candidate = replace(span(*first), alternatives=tuple(span(a, t, c) for a, t, c in others))
    return source_answers(candidate, THRESHOLD, CITATIONS, ARTICLES)


def test_sources_differ_and_how_many_agree():
    differ = _answer(entries((POST, "£4.5 million", 0.7), (SPORT, "£6 million", 0.5), (CLUB, "£4.5 million", 0.3)))
    assert differ.sources_differ and differ.sources_agreeing == 2
    agree = _answer(entries((POST, "24", 0.7), (SPORT, "24", 0.5)))
    assert not agree.sources_differ and agree.sources_agreeing == 2
    single = _answer(())
    assert not single.sources_differ and single.sources_agreeing == 0


def test_json_has_alternatives_only_when_there_are_some():
    answer = _answer(entries((POST, "£4.5 million", 0.7), (SPORT, "£6 million", 0.53219)))
    data = json.loads(json.dumps(answer.to_json_dict(), ensure_ascii=False))
    assert list(data)[-1] == "alternatives"
    assert data["alternatives"] == [
        {"text": "£4.5 million", "confidence": 0.7, "article_id": POST.id, "title": "Rovers sign Ekberg",
         "source": "Castlebridge Evening Post", "published": "2024-01-30", "start": POST.text.index("£4.5"),
         "end": POST.text.index("£4.5") + len("£4.5 million"), "citation": 1, "agrees": True},
        {"text": "£6 million", "confidence": 0.5322, "article_id": SPORT.id, "title": "Ekberg move confirmed",
         "source": "Coastline Sport", "published": "2024-02-01", "start": SPORT.text.index("£6"),
         "end": SPORT.text.index("£6") + len("£6 million"), "citation": 2, "agrees": False},
    ]
    assert "alternatives" not in _answer(()).to_json_dict()


class TwoArticleReader:
    """Answers with a word of the first hit's article and, as its alternative, a word of the first hit from
    another article, at fixed confidences."""

    name = "two-articles"
    abstain_threshold = 0.5

    def __init__(self, confidence: float, other_confidence: float):
        self.confidence, self.other_confidence = confidence, other_confidence

    def read(self, question, hits, articles, deadline=None):
        first = hits[0]
        other = next(h for h in hits if h.chunk.article_id != first.chunk.article_id)
        return replace(self._word(first, self.confidence), alternatives=(self._word(other, self.other_confidence),))

    @staticmethod
    def _word(hit, confidence):
        start = hit.chunk.start + hit.chunk.text.index("China")
        return ReaderResult("China", hit.chunk.article_id, start, start + 5, confidence, hit.rank)


@pytest.mark.parametrize("other_confidence, shown", [(0.6, True), (0.4, False)])
def test_the_answerer_puts_confident_articles_in_the_answer(default_retriever, other_confidence, shown):
    answerer = Answerer(default_retriever, TwoArticleReader(0.9, other_confidence))
    answer = answerer.ask("How much of North Korea's trade goes through China?")
    assert len({c.article_id for c in answer.citations}) == 2  # the default corpus' two articles are both read
    if not shown:
        assert answer.alternatives == () and "alternatives" not in answer.to_json_dict()
        return
    assert [a.text for a in answer.alternatives] == ["China", "China"] and answer.sources_agreeing == 2
    first, other = answer.alternatives
    assert (first.article_id, first.start, first.end) == answer.answer_span
    assert other.article_id != first.article_id
    for a in answer.alternatives:  # the citation numbers point to passages holding each answer
        c = answer.citations[a.citation - 1]
        assert c.article_id == a.article_id and c.start <= a.start < a.end <= c.end
    # an abstained answer carries no alternatives
    strict = replace(answerer, config=AnswerConfig(abstain_threshold=0.95))
    abstained = strict.ask("How much of North Korea's trade goes through China?")
    assert abstained.abstained and abstained.alternatives == ()

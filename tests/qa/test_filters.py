"""Filters by source and date: ``ArticleFilter`` itself, and applied inside retrieval and answering.

The news index here is built so that post-filtering cannot pass: the best passages for the question all come
from one source (the Zorblatt Herald, 2016), and the other source's articles (the Coast Post, August 2017)
mention the harbour only in passing. Unfiltered, the top k holds no Coast Post passage; filtered, all k hits
are Coast Post passages, so the filter must act before the top k is taken, in every mode.
"""

from __future__ import annotations

import datetime as dt

import pytest

from corpus.article import Article
from index.store import build_index
from qa.answerer import Answerer
from qa.filters import ArticleFilter, NoMatchingArticles, parse_day, source_names
from qa.reader_sentence import SentenceReader
from qa.retriever import MODES, Retriever

QUESTION = "When did the new Zorblatt harbour open to the fishing boats?"
HERALD, POST = "Zorblatt Herald", "Coast Post"
HERALD_TEXTS = [
    "The new Zorblatt harbour opened to the fishing boats on Monday, the mayor said at the harbour gate.",
    "Fishing boats filled the new Zorblatt harbour when it opened on Monday morning after ten years of work.",
    "The Zorblatt harbour opened to fishing boats this week; the harbour master welcomed the first trawlers.",
    "When the new harbour at Zorblatt opened, two hundred fishing boats sailed in before noon.",
    "Zorblatt's new harbour is open: fishing boats moored there on its first day, the town council said.",
    "The opening of the new Zorblatt harbour brought the fishing boats back to the town on Monday.",
]
POST_TEXTS = [
    "The Coast Post weather desk expects mild winds, though a harbour pilot warned of fog near the cliffs.",
    "Rail fares in the region rise again next month; commuters from the harbour district protested.",
    "A new bakery opened on the high street; its owner once worked for a fishing company.",
    "The regional football final ends in a draw; fans travelled from as far as the harbour towns.",
    "School holidays start earlier this year, and ferries from the harbour will run an extra service.",
    "The museum shows old maps of the coast, with the harbour drawn as it stood a century ago.",
]
POST_DAYS = ["2017-07-31", "2017-08-01", "2017-08-02", "Tue, 15 Aug 2017 10:00:00 GMT", "2017-08-31", "2017-09-01"]


@pytest.fixture(scope="module")
def news():
    articles = [Article.from_text(text, f"Herald {i}", source=HERALD, published=f"2016-05-0{i + 1}")
                for i, text in enumerate(HERALD_TEXTS)]
    # the fourth keeps the text an index built before dates were parsed holds: filtered by its day all the same
    articles += [Article.from_text(text, f"Post {i}", source=POST, published=day, url=f"https://post.example/{i}")
                 for i, (text, day) in enumerate(zip(POST_TEXTS, POST_DAYS))]
    articles.append(Article.from_text("An undated note from the harbour office of the Coast Post.", "Note", source="coast post"))
    articles.append(Article.from_text("A harbour story whose source nobody recorded, with fishing boats.", "Orphan"))
    return articles


@pytest.fixture(scope="module")
def retriever(news, embedder):
    return Retriever(build_index(news, embedder=embedder, progress=False), embedder=embedder)


def sources_of(retriever, hits) -> list[str | None]:
    return [retriever.index.articles[h.chunk.article_id].source for h in hits]


@pytest.mark.parametrize("mode", MODES)
def test_the_k_hits_all_come_from_the_source_when_the_unfiltered_top_k_has_none_of_it(retriever, mode):
    unfiltered = retriever.search(QUESTION, k=5, mode=mode)
    assert sources_of(retriever, unfiltered.hits) == [HERALD] * 5  # post-filtering these would leave nothing
    result = retriever.search(QUESTION, k=5, mode=mode, filters=ArticleFilter(sources=(POST,)))
    assert len(result.hits) == 5 and {s.casefold() for s in sources_of(retriever, result.hits)} == {POST.casefold()}
    assert [h.rank for h in result.hits] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("mode", MODES)
def test_a_date_range_keeps_only_dated_articles_in_it_bounds_included(retriever, mode):
    chosen = ArticleFilter.parse(since="2017-08-01", until="2017-08-31")
    result = retriever.search(QUESTION, k=10, mode=mode, filters=chosen)
    titles = {retriever.index.articles[h.chunk.article_id].title for h in result.hits}
    assert titles <= {"Post 1", "Post 2", "Post 3", "Post 4"}  # 07-31 and 09-01 out, the undated out
    if mode != "bm25":  # BM25 leaves out passages without a word of the question; dense ranks every passage
        assert titles == {"Post 1", "Post 2", "Post 3", "Post 4"}


def test_sources_match_case_and_spaces_aside_and_any_of_several(retriever):
    result = retriever.search(QUESTION, k=20, mode="dense", filters=ArticleFilter.parse(["  coast   POST "]))
    assert {retriever.index.articles[h.chunk.article_id].title for h in result.hits} == \
        {f"Post {i}" for i in range(6)} | {"Note"}
    both = retriever.search(QUESTION, k=20, mode="dense", filters=ArticleFilter.parse([HERALD, POST]))
    assert "Orphan" not in {retriever.index.articles[h.chunk.article_id].title for h in both.hits}
    assert len(both.hits) == 13


def test_a_filter_and_article_ids_together_keep_what_both_allow(retriever):
    post0 = next(a.id for a in retriever.index.articles.values() if a.title == "Post 0")
    herald0 = next(a.id for a in retriever.index.articles.values() if a.title == "Herald 0")
    result = retriever.search(QUESTION, k=5, mode="dense", article_ids={post0, herald0}, filters=ArticleFilter((POST,)))
    assert [h.chunk.article_id for h in result.hits] == [post0]


def test_a_filter_no_article_matches_says_so_and_what_the_index_holds(retriever):
    with pytest.raises(NoMatchingArticles) as info:
        retriever.search(QUESTION, filters=ArticleFilter.parse(["Reuters"]))
    assert str(info.value) == ("no article matches the filters: source Reuters "
                               "(sources in the index: Coast Post, Zorblatt Herald)")
    with pytest.raises(NoMatchingArticles) as info:
        retriever.search(QUESTION, filters=ArticleFilter.parse(since="2020-01-01"))
    assert str(info.value) == ("no article matches the filters: published on or after 2020-01-01 "
                               "(articles published from 2016-05-01 to 2017-09-01, 2 without a date)")
    assert isinstance(info.value, ValueError)


def test_answers_cite_only_matching_articles_with_their_source_day_and_url(retriever, embedder):
    answerer = Answerer(retriever, SentenceReader(embedder))
    answered = answerer.ask_detailed(QUESTION, k=3, filters=ArticleFilter.parse(["coast post"], since="2017-08-01"))
    citations = answered.answer.citations
    assert len(citations) == 3 and all(c.source == POST for c in citations)
    assert all("2017-08-01" <= c.published <= "2017-09-01" for c in citations)
    assert all(c.url.startswith("https://post.example/") for c in citations)
    json_citation = answered.answer.to_json_dict()["citations"][0]
    assert json_citation["published"] == citations[0].published and json_citation["url"] == citations[0].url
    unfiltered = answerer.ask(QUESTION, k=3)
    assert all(c.source == HERALD and c.published.startswith("2016-05-0") for c in unfiltered.citations)


# ------------------------------------------------------------------------------------------ the filter itself


@pytest.mark.parametrize(
    ("article", "passes"),
    [
        (Article("a", "T", "x", source="CNN", published="2017-08-01"), True),
        (Article("a", "T", "x", source="cnn", published="August 15, 2017"), True),
        (Article("a", "T", "x", source="CNN", published="2017-08-31T23:00:00-05:00"), True),  # its own day
        (Article("a", "T", "x", source="CNN", published="2017-09-01"), False),
        (Article("a", "T", "x", source="CNN", published="2017-07-31"), False),
        (Article("a", "T", "x", source="CNN", published=None), False),  # no date: out when a range is given
        (Article("a", "T", "x", source="CNN", published="sometime"), False),  # an old index's free text
        (Article("a", "T", "x", source="CNN International", published="2017-08-01"), False),  # exact names
        (Article("a", "T", "x", source=None, published="2017-08-01"), False),
    ],
)
def test_matches(article, passes):
    assert ArticleFilter.parse(["CNN"], "2017-08-01", "2017-08-31").matches(article) is passes


def test_without_a_date_bound_undated_articles_pass():
    assert ArticleFilter(sources=("CNN",)).matches(Article("a", "T", "x", source="CNN"))
    assert not ArticleFilter().active and ArticleFilter().matches(Article("a", "T", "x"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "2017-8-1"}, "since must be a date as YYYY-MM-DD (got '2017-8-1')"),
        ({"since": "August 1, 2017"}, "since must be a date as YYYY-MM-DD (got 'August 1, 2017')"),
        ({"until": "2017-02-30"}, "until must be a date as YYYY-MM-DD (got '2017-02-30': day is out of range for month)"),
        ({"since": "2017-09-01", "until": "2017-08-01"}, "since 2017-09-01 is after until 2017-08-01"),
        ({"sources": ["CNN", "  "]}, "source: '  ' is not a source name"),
        ({"sources": ["x" * 201]}, "source must be at most 200 characters"),
        ({"sources": ["CNN\udcff"]}, "source: not valid text (a lone surrogate"),
        ({"sources": [f"s{i}" for i in range(101)]}, "at most 100 sources at a time"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_field(kwargs, message):
    with pytest.raises(ValueError) as info:
        ArticleFilter.parse(**kwargs)
    assert message in str(info.value)


def test_parse_names_the_fields_as_the_caller_calls_them_and_empty_means_not_given():
    with pytest.raises(ValueError, match="^--until must be a date"):
        ArticleFilter.parse(until="soon", names=("--source", "--since", "--until"))
    assert ArticleFilter.parse([], "", "  ") == ArticleFilter()
    assert ArticleFilter.parse(["CNN", "CNN"]).sources == ("CNN",)
    assert parse_day("2017-08-01", "x") == dt.date(2017, 8, 1) and parse_day(None, "x") is None


def test_source_names_are_each_source_once_case_and_spaces_aside():
    articles = [Article("a", "T", "x", source="CNN"), Article("b", "T", "x", source=" cnn "),
                Article("c", "T", "x", source="ThinkProgress"), Article("d", "T", "x"), Article("e", "T", "x", source="  ")]
    assert source_names(articles) == ["CNN", "ThinkProgress"]


def test_describe():
    assert ArticleFilter.parse(["CNN", "Reuters"], "2017-08-01", "2017-08-31").describe() == \
        "source CNN or Reuters; published from 2017-08-01 to 2017-08-31"
    assert ArticleFilter.parse(until="2017-08-31").describe() == "published on or before 2017-08-31"

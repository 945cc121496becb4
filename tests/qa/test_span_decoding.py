"""Span decoding (qa.span_decoding): the best span overall and the best span of each group of windows (each
article read), on hand-made logits; and the span reader filling ``ReaderResult.alternatives`` with them."""

from __future__ import annotations

import math

import pytest
import torch
from test_reader_span import make_hits, peak_logits

from corpus import Article
from index.chunk import Chunk
from qa.reader_span import SpanReader
from qa.span_decoding import best_span_per_group, pick_span, span_scores
from qa.types import Hit

MAX_TOKENS = 4


def peaks(length: int, at: dict[int, float]) -> torch.Tensor:
    row = torch.zeros(length)
    for i, value in at.items():
        row[i] = value
    return row


def windows(*rows: tuple[dict[int, float], dict[int, float]], length: int = 8):
    """(start logits, end logits, context mask) of windows given as ({start token: logit}, {end token: logit});
    token 0 is the question (never context), as in a real window."""
    start = torch.stack([peaks(length, s) for s, _ in rows])
    end = torch.stack([peaks(length, e) for _, e in rows])
    mask = torch.ones(len(rows), length, dtype=torch.bool)
    mask[:, 0] = False
    return start, end, mask


def test_best_span_of_each_group_best_first():
    start, end, mask = windows(({2: 5.0}, {3: 5.0}), ({1: 7.0}, {2: 7.0}), ({4: 6.0}, {4: 6.0}))
    scores = span_scores(start, end, mask, MAX_TOKENS)
    choices = best_span_per_group(scores, ["article a", "article b", "article a"])
    # group a holds windows 0 and 2: its best is window 2 (6 > 5); group b's window 1 is best of all
    assert [(c.window, c.start_token, c.end_token) for c in choices] == [(1, 1, 2), (2, 4, 4)]
    assert choices[0].probability > choices[1].probability


def test_the_first_choice_is_the_best_span_of_all():
    generator = torch.Generator().manual_seed(7)
    for _ in range(20):
        start, end = torch.randn(5, 12, generator=generator) * 3, torch.randn(5, 12, generator=generator) * 3
        mask = torch.rand(5, 12, generator=generator) > 0.2
        mask[:, 0] = False
        groups = [w % 3 for w in range(5)]  # windows of three articles, interleaved
        scores = span_scores(start, end, mask, MAX_TOKENS)
        choices = best_span_per_group(scores, groups)
        assert choices[0] == pick_span(scores)
        assert sorted(c.window % 3 for c in choices) == [0, 1, 2]  # one a group
        for c in choices:  # the best among its own group's windows
            assert c == pick_span(scores, [w for w in range(5) if groups[w] == groups[c.window]])
        assert [c.probability for c in choices] == sorted((c.probability for c in choices), reverse=True)


def test_probabilities_stay_those_of_one_softmax_over_every_window():
    """Two windows with the same logits in two groups: each group's best span gets the same probability, about a
    quarter (half the start mass and half the end mass), not what decoding its window alone would give."""
    start, end, mask = windows(({2: 8.0}, {3: 8.0}), ({2: 8.0}, {3: 8.0}))
    choices = best_span_per_group(span_scores(start, end, mask, MAX_TOKENS), ["a", "b"])
    alone = pick_span(span_scores(start[:1], end[:1], mask[:1], MAX_TOKENS))
    assert len(choices) == 2
    assert choices[0].probability == pytest.approx(choices[1].probability)
    assert choices[0].probability == pytest.approx(alone.probability / 4, rel=1e-4)
    scores = span_scores(start, end, mask, MAX_TOKENS)
    for c in choices:  # each is read straight off the joint score matrix
        assert c.probability == pytest.approx(math.exp(float(scores[c.window, c.start_token, c.end_token - c.start_token])))


def test_a_group_with_no_context_token_has_no_span():
    start, end, mask = windows(({2: 5.0}, {3: 5.0}), ({2: 5.0}, {3: 5.0}))
    mask[1] = False  # window 1 was never read (e.g. past the time budget)
    scores = span_scores(start, end, mask, MAX_TOKENS)
    choices = best_span_per_group(scores, ["a", "b"])
    assert [c.window for c in choices] == [0]
    assert pick_span(scores, [1]) is None and pick_span(scores, []) is None


# The span reader: ReaderResult.alternatives, on a tiny random model whose logits a hook sets.


@pytest.fixture(scope="module")
def reader(tiny_span_model) -> SpanReader:
    return SpanReader(tiny_span_model)


def test_the_reader_gives_the_best_span_of_each_other_article(reader):
    hits, articles = make_hits(
        "The club paid alpha for the striker on Tuesday.",
        "Nothing of note happened at the ground.",
        "The striker cost omega, the paper said.",
    )
    with peak_logits(reader, starts={"alpha": 8.0, "omega": 7.0}, ends={"alpha": 8.0, "omega": 7.0}):
        r = reader.read("How much was paid?", hits, articles)
    assert r.answer == "alpha" and r.article_id == hits[0].chunk.article_id
    by_article = {a.article_id: a for a in r.alternatives}
    assert set(by_article) == {hits[1].chunk.article_id, hits[2].chunk.article_id}  # every other article read
    assert r.alternatives[0].answer == "omega" and r.alternatives[0].hit_rank == 3
    assert [a.confidence for a in r.alternatives] == sorted((a.confidence for a in r.alternatives), reverse=True)
    for a in r.alternatives:  # verbatim spans of their own articles, on the answer's confidence scale
        assert articles[a.article_id].text[a.start:a.end] == a.answer and 0.0 <= a.confidence < r.confidence
        assert a.alternatives == ()
    # A nearly-as-sure answer elsewhere: its confidence is well above the empty article's
    assert by_article[hits[2].chunk.article_id].confidence > 10 * by_article[hits[1].chunk.article_id].confidence


def test_chunks_of_one_article_give_it_one_answer_and_one_article_none(reader):
    text = "The council met on Monday. The alpha plan was approved. Later the omega plan was shelved."
    article = Article.from_text(text, title="Council")
    cut = text.index("Later")
    chunks = [Chunk(f"{article.id}:{i}", article.id, s, e, text[s:e]) for i, (s, e) in enumerate([(0, cut), (cut, len(text))])]
    hits = [Hit(c, 1.0, rank, "hybrid") for rank, c in enumerate(chunks, start=1)]
    with peak_logits(reader, starts={"alpha": 8.0, "omega": 7.0}, ends={"alpha": 8.0, "omega": 7.0}):
        alone = reader.read("Which plan?", hits, {article.id: article})
        other, more = make_hits("The omega plan was approved, a resident said.")
        both = reader.read("Which plan?", hits + [Hit(other[0].chunk, 1.0, 3, "hybrid")], {article.id: article} | more)
    assert alone.answer == "alpha" and alone.alternatives == ()  # two chunks, one article: nothing to compare
    assert both.answer == "alpha" and [a.article_id for a in both.alternatives] == [other[0].chunk.article_id]
    assert both.alternatives[0].answer == "omega"

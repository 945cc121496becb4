"""The sentence reader: answers with one retrieved sentence, verbatim, with a confidence in [0, 1]."""

from __future__ import annotations

import pytest

from corpus import Article
from index.chunk import Chunk
from index.sentences import sentence_spans
from qa.metrics import answer_found
from qa.reader import Reader
from qa.reader_sentence import FITTED_WEIGHTS, LEXICAL_WEIGHTS, SentenceReader
from qa.types import Hit

TEXT = (
    "Bananas are a yellow fruit grown in warm places. "
    "The capital of France is Paris, on the river Seine. "
    "Many people like to eat apples in the autumn.\n\n"
    "The Eiffel Tower was finished in 1889 for a world fair. "
    "It is made of wrought iron."
)


def chunks_of(article: Article, cuts: list[tuple[int, int]]) -> list[Hit]:
    """Hits over the given sentence ranges (first, last inclusive) of the article, ranked in order."""
    spans = sentence_spans(article.text)
    hits = []
    for rank, (first, last) in enumerate(cuts, start=1):
        start, end = spans[first][0], spans[last][1]
        hits.append(Hit(Chunk(f"{article.id}:{rank}", article.id, start, end, article.text[start:end]), 1.0 / rank, rank, "hybrid"))
    return hits


@pytest.fixture(scope="module")
def reader(embedder) -> SentenceReader:
    return SentenceReader(embedder)


@pytest.fixture(scope="module")
def article() -> Article:
    return Article.from_text(TEXT, title="Facts")


def test_it_is_a_reader(reader):
    assert isinstance(reader, Reader) and reader.name == "sentence"
    assert reader.abstain_threshold is not None and 0 < reader.abstain_threshold < 1


def test_answers_with_the_sentence_that_matches_the_question(reader, article):
    hits = chunks_of(article, [(0, 2), (3, 4)])
    r = reader.read("What is the capital of France?", hits, {article.id: article})
    assert r.answer == "The capital of France is Paris, on the river Seine."
    assert article.text[r.start : r.end] == r.answer and r.hit_rank == 1
    r = reader.read("When was the Eiffel Tower finished?", hits, {article.id: article})
    assert r.answer == "The Eiffel Tower was finished in 1889 for a world fair." and r.hit_rank == 2


def test_confidence_is_higher_for_a_matching_sentence_than_for_an_unrelated_question(reader, article):
    hits = chunks_of(article, [(0, 2), (3, 4)])
    good = reader.read("What is the capital of France?", hits, {article.id: article})
    bad = reader.read("Who won the chess championship in 1972?", hits, {article.id: article})
    assert 0.0 <= bad.confidence < good.confidence <= 1.0


def test_overlapping_chunks_give_each_sentence_once_with_its_best_rank(reader, article):
    hits = chunks_of(article, [(0, 1), (1, 2)])  # sentence 1 is in both chunks
    candidates = reader.candidates(hits, {article.id: article})
    assert len(candidates) == 3
    shared = [c for c in candidates if article.text[c.start : c.end].startswith("The capital")]
    assert [c.hit_rank for c in shared] == [1]


def test_sentence_embeddings_are_cached_across_questions(reader, article):
    hits = chunks_of(article, [(0, 4)])
    articles = {article.id: article}
    reader.read("What is the capital of France?", hits, articles)
    before = reader.embedder.texts_encoded
    reader.read("What fruit is yellow?", hits, articles)
    assert reader.embedder.texts_encoded - before == 1  # the question only


def test_no_hits_means_no_answer(reader):
    r = reader.read("Anything?", [], {})
    assert r.answer is None and r.confidence == 0.0


def test_without_an_embedding_model_it_still_answers_from_words(article):
    reader = SentenceReader(None)
    assert reader.weights == LEXICAL_WEIGHTS != FITTED_WEIGHTS
    hits = chunks_of(article, [(0, 2), (3, 4)])
    r = reader.read("What is the capital of France?", hits, {article.id: article})
    assert r.answer.startswith("The capital of France")


def test_default_gold_factoids_mostly_answered_from_retrieved_passages(reader, default_retriever, gold_questions):
    articles = default_retriever.index.articles
    factoids = [q for q in gold_questions if q.answerable][:20]
    found = 0
    for q in factoids:
        r = reader.read(q.question, default_retriever.search(q.question, k=5).hits, articles)
        assert articles[r.article_id].text[r.start : r.end] == r.answer
        assert 0.0 <= r.confidence <= 1.0
        found += answer_found(r.answer, None, q.answers)
    assert found >= 16  # measured: 19 of these 20

"""BM25: our bm25s-based scores equal rank_bm25's BM25Okapi on the same tokens; IDF never goes negative."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from index.bm25 import BM25Config, BM25Index, Tokenizer
from index.store import passage_texts

K1, B, EPSILON = 1.2, 0.75, 0.25


def reference(corpus_tokens: list[list[str]]) -> BM25Okapi:
    return BM25Okapi(corpus_tokens, k1=K1, b=B, epsilon=EPSILON)


def assert_same_scores(ours: BM25Index, ref: BM25Okapi, query: list[str]) -> None:
    expected = ref.get_scores(query)
    got = ours.scores_for_tokens(query)
    assert got.shape == expected.shape
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6), (query, got, expected)


@pytest.fixture(scope="module")
def default_tokens(default_index) -> list[list[str]]:
    """The tokens of exactly what the index holds for each chunk (its article's title, then its text)."""
    tokenize = Tokenizer(BM25Config())
    return [tokenize(t) for t in passage_texts(default_index.chunks, default_index.articles, default_index.config)]


def test_tokenizer_lowercases_stems_and_drops_stopwords():
    tokenize = Tokenizer(BM25Config())
    assert tokenize("The Chinese spokesmen criticized the sanctions") == ["chines", "spokesmen", "critic", "sanction"]
    assert tokenize("China's") == tokenize("china") == ["china"]  # the possessive "s" is a stopword
    assert Tokenizer(BM25Config(stem=False, stopwords=False))("The Koreas") == ["the", "koreas"]
    assert tokenize("🙂 🙃") == []


def test_default_corpus_scores_equal_bm25okapi_for_every_gold_question(default_index, default_tokens, gold_questions):
    ref = reference(default_tokens)
    ours = default_index.bm25  # built by build_index from the passage texts
    assert ours.num_docs == len(default_tokens)
    tokenize = ours.tokenize
    nonzero = 0
    for q in gold_questions:
        query = tokenize(q.question)
        assert_same_scores(ours, ref, query)
        nonzero += bool(ref.get_scores(query).any())
    assert nonzero >= len(gold_questions) - 2  # the questions do hit the corpus: the comparison is not 0 == 0
    # and single terms, including ones in most chunks
    for term in ["korea", "china", "trump", "geng", "shuang", "missil", "trade", "deficit", "absent-term"]:
        assert_same_scores(ours, ref, [term])


def test_default_corpus_idf_is_positive_and_equals_bm25okapi(default_index, default_tokens):
    ref = reference(default_tokens)
    ours = default_index.bm25
    df = {}
    for doc in default_tokens:
        for t in set(doc):
            df[t] = df.get(t, 0) + 1
    common = [t for t, n in df.items() if n > len(default_tokens) / 2]
    assert "korea" in common and "china" in common  # the news names every chunk repeats
    for term in df:
        assert ours.idf(term) == pytest.approx(ref.idf[term], rel=1e-6)
        assert ours.idf(term) > 0  # no term of the real corpus weighs nothing or less
    for term in common:
        assert ours.idf(term) > 0
        assert ours.scores_for_tokens([term]).max() > 0


def test_a_term_in_every_document_still_counts():
    """Okapi's raw IDF is negative for a term in every document; it must be floored to a positive value."""
    docs = [
        "North Korea tested a missile on Tuesday",
        "China says North Korea must stop its tests",
        "Korea and China discussed trade in Beijing",
        "Trump wants China to pressure Korea",
    ]
    tokenize = Tokenizer(BM25Config())
    tokens = [tokenize(d) for d in docs]
    assert all("korea" in t for t in tokens)
    ours = BM25Index.build(tokens)
    ref = reference(tokens)
    assert ours.idf("korea") > 0
    assert ours.idf("korea") == pytest.approx(ref.idf["korea"], rel=1e-6)
    scores = ours.scores_for_tokens(["korea"])
    assert (scores > 0).all()
    assert_same_scores(ours, ref, ["korea"])
    # a document that says "korea" and also the rarer word ranks first
    docs_idx, _ = ours.search(tokenize("Korea missile"), k=4)
    assert docs_idx[0] == 0


def test_empty_documents_score_zero_and_do_not_change_the_others():
    tokens = [["a", "b"], [], ["a", "d"], ["e", "f", "a"]]
    ours, ref = BM25Index.build(tokens), reference(tokens)
    for q in (["a"], ["a", "b"], ["d"], ["e", "z"]):
        assert_same_scores(ours, ref, q)
    assert BM25Index.build([[], []]).scores_for_tokens(["a"]).tolist() == [0.0, 0.0]


def test_search_returns_top_k_nonzero_in_score_order_and_respects_a_mask(default_index):
    bm = default_index.bm25
    query = bm.tokenize("Geng Shuang China responsibility theory")
    scores = bm.scores_for_tokens(query)
    docs, top = bm.search(query, k=5)
    assert len(docs) == 5
    assert np.all(np.diff(top) <= 0)
    assert np.allclose(top, scores[docs])
    assert set(docs) == set(np.argsort(-scores)[:5])
    mask = np.zeros(bm.num_docs, dtype=bool)
    allowed = [i for i, c in enumerate(default_index.chunks) if c.article_id == default_index.chunks[-1].article_id]
    mask[allowed] = True
    docs, _ = bm.search(query, k=50, mask=mask)
    assert len(docs) > 0 and set(docs.tolist()) <= set(allowed)
    empty, _ = bm.search(["zzzunknown"], k=5)
    assert len(empty) == 0


def test_save_load_round_trip_gives_identical_scores(default_index, default_tokens, gold_questions, tmp_path):
    default_index.bm25.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    for q in gold_questions:
        query = default_index.bm25.tokenize(q.question)
        assert np.array_equal(loaded.scores_for_tokens(query), default_index.bm25.scores_for_tokens(query))
    for term in ("korea", "geng"):
        assert loaded.idf(term) == default_index.bm25.idf(term)


# ------------------------------------------------------------------------------------------- random corpora

_TERM = st.sampled_from([f"t{i}" for i in range(25)])
_CORPUS = st.lists(st.lists(_TERM, min_size=0, max_size=20), min_size=1, max_size=30).filter(lambda c: any(c))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=_CORPUS, queries=st.lists(st.lists(_TERM, min_size=1, max_size=6), min_size=1, max_size=5))
def test_random_corpora_score_like_bm25okapi(corpus, queries):
    ours, ref = BM25Index.build(corpus), reference(corpus)
    for term in ref.idf:
        assert ours.idf(term) >= 0
    if ref.average_idf <= 0:  # degenerate corpus: BM25Okapi's floor is negative, ours is not (see okapi_idf)
        return
    for query in queries:
        assert_same_scores(ours, ref, query)
    for term in ref.idf:
        assert ours.idf(term) == pytest.approx(ref.idf[term], rel=1e-5, abs=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    others=st.lists(st.lists(_TERM, min_size=0, max_size=12), min_size=1, max_size=20),
    query=st.lists(_TERM, min_size=0, max_size=4),
)
def test_random_corpora_with_a_term_in_every_document(others, query):
    corpus = [doc + ["korea"] for doc in others]
    ours, ref = BM25Index.build(corpus), reference(corpus)
    # A term found in every document always counts, whatever the corpus.
    assert ours.idf("korea") > 0
    assert (ours.scores_for_tokens(["korea"]) > 0).all()
    # Okapi's floor is epsilon * (mean raw IDF): where that is positive (any real news corpus) our scores
    # equal BM25Okapi's; in a degenerate corpus, where most terms are in most documents, BM25Okapi's floor
    # is negative and ours is epsilon instead.
    if ref.average_idf > 0:
        assert_same_scores(ours, ref, query + ["korea"])
        assert ours.idf("korea") == pytest.approx(ref.idf["korea"], rel=1e-5, abs=1e-9)
    else:
        assert ours.idf("korea") == pytest.approx(BM25Config().epsilon)

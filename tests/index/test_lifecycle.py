"""The index life cycle (index.lifecycle): open (refusing a stale index), build when missing or stale, extend,
and the cache of evaluation and benchmark indexes; on copies of the real default corpus."""

from __future__ import annotations

import os

import pytest

from index.chunker import ChunkerConfig
from index.lifecycle import (
    add_to_index,
    cached_index,
    ensure_index,
    extend_index,
    open_index,
    open_or_build,
    staleness,
)
from index.store import CURRENT, IndexConfig, IndexProblem, read_manifest
from qa.retriever import Retriever


def test_incremental_add_embeds_only_the_new_chunks(index_copy, new_article_file, embedder, default_index):
    config = IndexConfig()
    before = embedder.texts_encoded
    outcome = add_to_index([new_article_file], index_copy, config, embedder=embedder, progress=False)
    assert outcome.added == 1 and not outcome.errors
    new_chunks = [c for c in outcome.index.chunks if c.article_id not in default_index.articles]
    assert new_chunks
    assert embedder.texts_encoded - before == len(new_chunks)  # the old chunks were not re-embedded
    # searchable at once, from memory and from disk
    from_disk = open_index(index_copy, config)
    assert len(from_disk.chunks) == len(default_index.chunks) + len(new_chunks)
    for index in (outcome.index, from_disk):
        hit = Retriever(index, embedder=embedder).search("Which team won Super Bowl 50?", k=1).hits[0]
        assert hit.chunk in new_chunks
    # the same file again: nothing added, nothing encoded, nothing written
    live = (index_copy / CURRENT).read_text()
    before = embedder.texts_encoded
    again = add_to_index([new_article_file], index_copy, config, embedder=embedder, progress=False)
    assert again.added == 0 and len(again.index.chunks) == len(from_disk.chunks)
    assert embedder.texts_encoded == before and (index_copy / CURRENT).read_text() == live


def test_staleness_notices_a_changed_file_and_ensure_index_rebuilds(corpus_copy, copy_index):
    config = IndexConfig()
    assert staleness(copy_index, config) is None
    assert staleness(copy_index, config, [corpus_copy]) is None
    outcome = ensure_index([corpus_copy], copy_index, config, progress=False)
    assert outcome.rebuilt is False and outcome.reason == "index is up to date"
    # touching a file (same text, new modification time) is enough to be noticed
    story = sorted(corpus_copy.glob("*.txt"))[0]
    stat = story.stat()
    os.utime(story, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    reason = staleness(copy_index, config)
    assert reason and "corpus changed" in reason and story.name in reason
    with pytest.raises(IndexProblem) as err:
        open_index(copy_index, config)
    assert story.name in str(err.value) and "qa index" in str(err.value)
    outcome = ensure_index([corpus_copy], copy_index, config, progress=False)
    assert outcome.rebuilt is True and story.name in outcome.reason
    assert ensure_index([corpus_copy], copy_index, config, progress=False).reason == "index is up to date"
    # changing its text
    story.write_text(story.read_text(encoding="utf-8").replace("North Korea", "Pyongyang", 1), encoding="utf-8")
    assert "changed" in staleness(copy_index, config)
    outcome = ensure_index([corpus_copy], copy_index, config, progress=False)
    assert outcome.rebuilt and any("Pyongyang" in c.text for c in outcome.index.chunks)
    assert any("Pyongyang" in c.text for c in open_index(copy_index, config).chunks)


def test_staleness_notices_added_and_removed_files(corpus_copy, copy_index, tmp_path):
    config = IndexConfig()
    extra = corpus_copy / "extra.txt"
    extra.write_text("Extra story\n\nA new article about trade.\n", encoding="utf-8")
    assert "extra.txt was added" in staleness(copy_index, config)
    extra.unlink()
    assert staleness(copy_index, config) is None
    gone = sorted(corpus_copy.glob("*.txt"))[0]
    gone.unlink()
    assert f"{gone.name} was removed" in staleness(copy_index, config)
    # another corpus than the one indexed
    other = tmp_path / "other"
    other.mkdir()
    assert "not built from" in staleness(copy_index, config, [other])


def test_other_settings_are_refused_by_open_index_and_rebuilt_by_ensure_index(copy_index, corpus_copy):
    other = IndexConfig(chunker=ChunkerConfig(target_words=60))
    reason = staleness(copy_index, other)
    assert "other settings" in reason and "target_words" in reason
    with pytest.raises(IndexProblem, match="other settings"):
        open_index(copy_index, other)
    outcome = ensure_index([corpus_copy], copy_index, other, progress=False)
    assert outcome.rebuilt and "other settings" in outcome.reason
    assert read_manifest(copy_index)["chunker"]["target_words"] == 60
    assert open_index(copy_index, other).config.chunker.target_words == 60
    with pytest.raises(IndexProblem):
        open_index(copy_index, IndexConfig())


def test_open_index_reads_the_manifest_once(copy_index, monkeypatch):
    import index.lifecycle as lifecycle
    import index.store as store

    reads = []
    real = store.read_manifest

    def counting(directory):
        reads.append(directory)
        return real(directory)

    monkeypatch.setattr(store, "read_manifest", counting)
    monkeypatch.setattr(lifecycle, "read_manifest", counting)
    index = lifecycle.open_index(copy_index, IndexConfig())
    assert len(reads) == 1 and index.chunks
    reads.clear()
    assert lifecycle.ensure_index([], copy_index, IndexConfig(), progress=False).reason == "index is up to date"
    assert len(reads) == 1


def test_open_or_build_builds_only_when_there_is_no_index(corpus_copy, tmp_path, monkeypatch, embedder):
    monkeypatch.setattr("index.store.Embedder", lambda config: embedder)
    directory = tmp_path / "fresh"
    built = open_or_build([corpus_copy], directory, IndexConfig(), progress=False)
    assert built.rebuilt and built.index is not None and (directory / CURRENT).exists()
    opened = open_or_build([corpus_copy], directory, IndexConfig(), progress=False)
    assert not opened.rebuilt and set(opened.index.articles) == set(built.index.articles)
    (corpus_copy / "extra.txt").write_text("Extra story\n\nA new article about trade.\n", encoding="utf-8")
    with pytest.raises(IndexProblem, match="extra.txt was added"):  # stale: refused, never silently rebuilt
        open_or_build([corpus_copy], directory, IndexConfig(), progress=False)


def test_extend_index_works_in_memory_and_saves(index_copy, default_index, embedder, monkeypatch):
    from corpus import Article

    def no_disk_read(*args, **kwargs):
        raise AssertionError("extend_index must not load the index from disk")

    monkeypatch.setattr("index.lifecycle.load_index", no_disk_read)
    article = Article.from_text("Quibbletown fair\n\nThe Quibbletown fair opens in June.", title="Quibbletown fair")
    outcome = extend_index(default_index, [article], index_copy, [], embedder=embedder, progress=False)
    assert outcome.added == 1 and article.id in outcome.index.articles
    assert article.id not in default_index.articles  # the index it extended is unchanged
    monkeypatch.undo()
    assert set(open_index(index_copy, IndexConfig()).articles) == set(outcome.index.articles)
    again = extend_index(outcome.index, [article], index_copy, [], embedder=embedder, progress=False)
    assert again.added == 0 and again.index is outcome.index


def test_cached_index_is_built_once_per_articles_and_settings(tmp_path, embedder):
    from corpus import Article

    articles = [Article.from_text(f"Story {i}\n\nThe harbour of town {i} opened in May.", title=f"Story {i}") for i in range(3)]
    first = cached_index("demo", articles, IndexConfig(), tmp_path, embedder, progress=False)
    assert not first.reused and first.build_stats["chunks"] == len(first.index.chunks) > 0
    second = cached_index("demo", articles, IndexConfig(), tmp_path, embedder, progress=False)
    assert second.reused and second.directory == first.directory and second.build_stats == first.build_stats
    assert [c.id for c in second.index.chunks] == [c.id for c in first.index.chunks]
    other_settings = cached_index("demo", articles, IndexConfig(title_in_passages=False), tmp_path, embedder, progress=False)
    assert not other_settings.reused and other_settings.directory != first.directory
    changed = [*articles[:2], Article(articles[2].id, articles[2].title, articles[2].text + " It rained.")]
    rebuilt = cached_index("demo", changed, IndexConfig(), tmp_path, embedder, progress=False)
    assert not rebuilt.reused and rebuilt.directory != first.directory
    forced = cached_index("demo", articles, IndexConfig(), tmp_path, embedder, progress=False, rebuild=True)
    assert not forced.reused and forced.directory == first.directory


def test_extend_index_extends_the_live_version_when_another_writer_saved_since(index_copy, new_article_file, embedder):
    """The chat extends the index it holds in memory; when a `qa add` saved a newer version meanwhile, the
    live version is extended instead, so the other writer's article is kept (not overwritten)."""
    from corpus import Article
    from index.store import live_version, load_index

    in_memory = load_index(index_copy, IndexConfig())
    assert in_memory.version == live_version(index_copy) is not None
    other = add_to_index([new_article_file], index_copy, IndexConfig(), embedder=embedder, progress=False)
    assert other.added == 1 and other.index.version == live_version(index_copy) != in_memory.version
    article = Article.from_text("Quibbletown fair\n\nThe Quibbletown fair opens in June.", title="Quibbletown fair")
    outcome = extend_index(in_memory, [article], index_copy, [], embedder=embedder, progress=False)
    assert outcome.added == 1 and outcome.index.version == live_version(index_copy)
    titles = {a.title for a in open_index(index_copy, IndexConfig()).articles.values()}
    assert {"Super Bowl 50", "Quibbletown fair"} <= titles
    assert {a.title for a in outcome.index.articles.values()} == titles


def test_a_build_that_loads_nothing_leaves_no_folder_behind(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    outcome = ensure_index([empty], tmp_path / "idx", IndexConfig(), progress=False)
    assert outcome.index is None and outcome.reason == "no article could be loaded"
    assert not (tmp_path / "idx").exists()  # the write lock's folder is not left behind

"""`qa index`, `qa add`, `qa search` and the index upkeep behind them (qa.indexing), on the real default corpus.

The commands run in-process through ``qa.cli.main(argv)`` (the console script calls the same function), so
the model is loaded once for the whole session.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from corpus.defaults import DEFAULT_ARTICLES_DIR
from corpus.loaders import load_paths
from index.chunker import ChunkerConfig
from index.sources import describe_sources
from index.store import CURRENT, IndexConfig, IndexProblem, build_index, load_index, read_manifest, save_index
from qa.cli import main
from qa.indexing import add_to_index, ensure_index, open_index, staleness
from qa.retriever import Retriever

GENG_QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the “China responsibility theory”?"
HIT_FIELDS = ["rank", "score", "via", "article_id", "title", "start", "end", "text"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of the default corpus folder (with its metadata sidecars) that a test may change."""
    target = tmp_path / "articles"
    shutil.copytree(DEFAULT_ARTICLES_DIR, target)
    return target


@pytest.fixture
def copy_index(corpus_copy, tmp_path, default_index, embedder) -> Path:
    """An index of ``corpus_copy``, saved under tmp_path (vectors reused from the session index: no encoding)."""
    report = load_paths([corpus_copy])
    index = build_index(report.articles, embedder=embedder, progress=False, sources=describe_sources([corpus_copy]), reuse=default_index)
    directory = tmp_path / "idx"
    save_index(index, directory)
    return directory


@pytest.fixture
def new_article_file(tmp_path, squad_dev) -> Path:
    """A real article the default corpus does not have: the first paragraphs of a SQuAD dev article."""
    art = next(a for a in squad_dev.articles if a.title == "Super Bowl 50")
    path = tmp_path / "new" / "super-bowl-50.txt"
    path.parent.mkdir()
    path.write_text("Super Bowl 50\n\n" + art.text[: art.text.index("\n\n", 2000)], encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- qa index


def test_qa_index_builds_then_says_up_to_date(capsys, tmp_path):
    directory = tmp_path / "idx"
    code, out, err = run(capsys, "index", str(DEFAULT_ARTICLES_DIR), "--index", str(directory), "--quiet")
    assert code == 0, err
    n_chunks = len(load_index(directory).chunks)
    assert f"index {directory} built" in out and f"2 articles, {n_chunks} chunks, dense=flat" in out
    assert (directory / CURRENT).exists()
    code, out, err = run(capsys, "index", str(DEFAULT_ARTICLES_DIR), "--index", str(directory), "--quiet")
    assert code == 0 and "is up to date" in out and f"{n_chunks} chunks" in out
    # no path means the default corpus: the same index, still up to date
    code, out, _ = run(capsys, "index", "--index", str(directory), "--quiet")
    assert code == 0 and "is up to date" in out
    code, out, _ = run(capsys, "index", "--index", str(directory), "--quiet", "--force")
    assert code == 0 and "built (rebuild forced)" in out


def test_qa_index_uses_QA_INDEX_when_no_index_is_given(capsys, tmp_path, monkeypatch, default_index_dir):
    monkeypatch.setenv("QA_INDEX", str(default_index_dir))
    code, out, _ = run(capsys, "index", "--quiet")
    assert code == 0 and f"index {default_index_dir} is up to date" in out


def test_qa_index_names_an_unreadable_file_and_indexes_the_rest(capsys, corpus_copy, tmp_path):
    bad = corpus_copy / "latin1-story.txt"
    bad.write_bytes("Un caf\xe9 \xe0 Paris.\n".encode("latin-1"))
    directory = tmp_path / "idx2"
    code, out, err = run(capsys, "index", str(corpus_copy), "--index", str(directory), "--quiet")
    assert code == 0
    assert "latin1-story.txt" in err and "not valid UTF-8" in err
    assert "2 articles" in out
    assert len(load_index(directory).articles) == 2


def test_qa_index_with_nothing_loadable_leaves_the_index_alone(capsys, tmp_path, default_index_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n")
    target = tmp_path / "idx"
    shutil.copytree(default_index_dir, target)
    before = (target / CURRENT).read_text()
    code, _, err = run(capsys, "index", str(empty), "--index", str(target), "--quiet")
    assert code != 0 and "no article could be loaded" in err and "blank.txt" in err
    assert (target / CURRENT).read_text() == before


# ------------------------------------------------------------------------------------------- qa search


def test_qa_search_json_prints_one_line_with_the_hit_fields(capsys, default_index_dir, default_articles):
    code, out, err = run(capsys, "search", GENG_QUESTION, "--index", str(default_index_dir), "--json", "--k", "3")
    assert code == 0, err
    lines = json_lines(out)
    assert len(lines) == 1
    result = lines[0]
    assert result["query"] == GENG_QUESTION and result["mode"] == "hybrid" and "notice" not in result
    texts = {a.id: a for a in default_articles}
    assert [h["rank"] for h in result["hits"]] == [1, 2, 3]
    for hit in result["hits"]:
        assert list(hit) == HIT_FIELDS
        assert hit["via"] == "hybrid" and isinstance(hit["score"], float)
        article = texts[hit["article_id"]]
        assert hit["title"] == article.title
        assert hit["text"] == article.text[hit["start"] : hit["end"]]
    assert "Geng Shuang" in result["hits"][0]["text"]


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_qa_search_modes_and_article_filter(capsys, default_index_dir, default_index, mode):
    article_id = default_index.chunks[-1].article_id
    code, out, _ = run(
        capsys, "search", "trade deficits", "--index", str(default_index_dir), "--json", "--mode", mode, "--article", article_id, "--k", "4"
    )
    assert code == 0
    (result,) = json_lines(out)
    assert result["mode"] == mode
    assert result["hits"] and all(h["via"] == mode and h["article_id"] == article_id for h in result["hits"])


def test_qa_search_plain_text_output(capsys, default_index_dir):
    code, out, _ = run(capsys, "search", "Geng Shuang", "--index", str(default_index_dir), "--k", "2")
    assert code == 0
    assert out.startswith("[1] ") and "[2] " in out and "Geng Shuang" in out and "hybrid" in out


def test_qa_search_queries_file_prints_one_line_per_query_with_its_id(capsys, tmp_path, default_index_dir, gold_questions):
    qfile = tmp_path / "queries.jsonl"
    chosen = gold_questions[:4]
    qfile.write_text(
        "".join(json.dumps({"id": q.id, "query": q.question}) + "\n" for q in chosen) + "\n", encoding="utf-8"
    )
    code, out, err = run(capsys, "search", "--queries", str(qfile), "--index", str(default_index_dir), "--json", "--k", "2")
    assert code == 0, err
    lines = json_lines(out)
    assert [line["id"] for line in lines] == [q.id for q in chosen]
    assert [line["query"] for line in lines] == [q.question for q in chosen]
    for line in lines:
        assert 1 <= len(line["hits"]) <= 2 and all(list(h) == HIT_FIELDS for h in line["hits"])
    # the batch answers equal the one-query form
    code, out, _ = run(capsys, "search", chosen[0].question, "--index", str(default_index_dir), "--json", "--k", "2")
    assert [h["text"] for h in json_lines(out)[0]["hits"]] == [h["text"] for h in lines[0]["hits"]]


def test_qa_search_rejects_a_bad_queries_file_and_a_missing_query(capsys, tmp_path, default_index_dir):
    qfile = tmp_path / "bad.jsonl"
    qfile.write_text('{"id": "a", "query": "x"}\n{"question": "no id"}\n')
    code, _, err = run(capsys, "search", "--queries", str(qfile), "--index", str(default_index_dir), "--json")
    assert code == 2 and "line 2" in err
    code, _, err = run(capsys, "search", "--index", str(default_index_dir))
    assert code == 2 and "give either a query or --queries" in err


def test_qa_search_without_an_index_fails_clearly(capsys, tmp_path):
    code, out, err = run(capsys, "search", "anything", "--index", str(tmp_path / "missing"))
    assert code != 0 and out == ""
    assert "no index at" in err and "qa index" in err


def test_qa_search_refuses_an_index_whose_corpus_changed(capsys, corpus_copy, copy_index):
    code, _, _ = run(capsys, "search", "Geng Shuang", "--index", str(copy_index), "--json")
    assert code == 0
    story = next(corpus_copy.glob("*.txt"))
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    code, out, err = run(capsys, "search", "Geng Shuang", "--index", str(copy_index), "--json")
    assert code != 0 and out == ""
    assert story.name in err and "changed" in err and "qa index" in err


# ------------------------------------------------------------------------------------------- qa add


def test_qa_add_adds_a_file_and_it_is_searchable(capsys, index_copy, new_article_file, default_index):
    code, out, err = run(capsys, "add", str(new_article_file), "--index", str(index_copy), "--quiet")
    assert code == 0, err
    assert "added 1 new article(s); now 3 articles" in out
    code, out, _ = run(capsys, "search", "Which team won Super Bowl 50?", "--index", str(index_copy), "--json", "--k", "1")
    assert code == 0
    assert json_lines(out)[0]["hits"][0]["title"] == "Super Bowl 50"
    code, out, _ = run(capsys, "add", str(new_article_file), "--index", str(index_copy), "--quiet")
    assert code == 0 and "added 0 new article(s); now 3 articles" in out


def test_qa_add_reports_a_missing_file(capsys, index_copy, tmp_path):
    code, out, err = run(capsys, "add", str(tmp_path / "nope.txt"), "--index", str(index_copy), "--quiet")
    assert code != 0 and "nope.txt" in err and "not found" in err
    assert "added 0 new article(s)" in out


# ------------------------------------------------------------------------------------------- qa.indexing


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

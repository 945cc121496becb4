"""`qa index`, `qa add` and `qa search` as a user runs them, on the real default corpus (the index upkeep behind
them is tested in tests/index/test_lifecycle.py).

The commands run in-process through ``cli.main.main(argv)`` (the console script calls the same function), so
the model is loaded once for the whole session.
"""

from __future__ import annotations

import json
import shutil

import pytest

from cli.main import main
from corpus.defaults import DEFAULT_ARTICLES_DIR
from index.store import CURRENT, load_index

GENG_QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the “China responsibility theory”?"
HIT_FIELDS = ["rank", "score", "via", "article_id", "title", "source", "published", "start", "end", "text"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


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
    assert code == 1  # some file skipped, the rest indexed (the rule in `qa index --help`)
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
    assert code == 2 and "no article could be loaded" in err and "blank.txt" in err
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


@pytest.mark.parametrize("query, reason", [("\udcff\udcfe who", "not valid text"), ("?!", "no words"), ("who " * 600, "too long")])
def test_qa_search_refuses_a_query_that_cannot_be_asked(capsys, default_index_dir, query, reason):
    """Issue 15: bytes that are not UTF-8 (``qa search $'\\xff\\xfe who'``) printed a traceback."""
    code, out, err = run(capsys, "search", query, "--index", str(default_index_dir))
    assert code == 2 and out == "" and err.startswith("qa: ") and reason in err and "Traceback" not in err


def test_qa_search_refuses_a_bad_k_and_a_bad_query_line(capsys, tmp_path, default_index_dir):
    code, _, err = run(capsys, "search", "who", "--k", "0", "--index", str(default_index_dir))
    assert code == 2 and "--k must be from 1 to 50" in err
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"id": "a", "query": "who"}\n{"id": "b", "query": "?!"}\n')
    code, _, err = run(capsys, "search", "--queries", str(qfile), "--index", str(default_index_dir))
    assert code == 2 and "line 2" in err and "no words" in err


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
    code, out, err = run(capsys, "add", str(new_article_file), "--index", str(index_copy), "--quiet")
    assert code == 0 and "added 0 new article(s); now 3 articles" in out
    assert f"qa: skipped 1 duplicate(s): {new_article_file} (the same text is in the index already)" in err


def test_qa_add_reports_a_missing_file(capsys, index_copy, tmp_path):
    before = (index_copy / CURRENT).read_text()
    code, out, err = run(capsys, "add", str(tmp_path / "nope.txt"), "--index", str(index_copy), "--quiet")
    assert code == 2 and "nope.txt" in err and "not found" in err  # nothing could be loaded
    assert "no article could be loaded; the index was not changed" in err and out == ""
    assert (index_copy / CURRENT).read_text() == before


# ------------------------------------------------------------------------------------------- what is skipped, and the exit status


def test_qa_index_says_which_files_were_duplicates(capsys, corpus_copy, tmp_path):
    story = sorted(corpus_copy.glob("*.txt"))[0]
    text = story.read_bytes()
    (corpus_copy / "zz-copy.txt").write_bytes(text)
    (corpus_copy / "zz-crlf-copy.txt").write_bytes(text.replace(b"\n", b"\r\n"))  # the same text with CRLF
    code, out, err = run(capsys, "index", str(corpus_copy), "--index", str(tmp_path / "idx"), "--quiet")
    assert code == 0  # a duplicate is not a failure
    copies = f"{corpus_copy / 'zz-copy.txt'}, {corpus_copy / 'zz-crlf-copy.txt'}"
    assert f"qa: skipped 2 duplicate(s): {copies} (the same text is in the index already)" in err
    assert "2 articles" in out


def test_qa_add_names_duplicates_in_the_batch_and_in_the_index(capsys, index_copy, tmp_path, default_articles):
    folder = tmp_path / "new"
    folder.mkdir()
    known = folder / "known.txt"
    known.write_text(default_articles[0].text, encoding="utf-8")
    (folder / "fresh.txt").write_text("Fresh headline\n\nA brand new story about otters.\n", encoding="utf-8")
    (folder / "fresh-again.txt").write_text("Fresh headline\n\nA brand new story about otters.\n", encoding="utf-8")
    code, out, err = run(capsys, "add", str(folder), "--index", str(index_copy), "--quiet")
    assert code == 0
    assert "added 1 new article(s); now 3 articles" in out
    assert f"skipped 2 duplicate(s): {folder / 'fresh.txt'}, {known}" in err


def test_qa_add_with_some_files_skipped_adds_the_rest_and_exits_1(capsys, index_copy, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Otter headline\n\nOtters hold hands while they sleep.\n", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfd")
    code, out, err = run(capsys, "add", str(good), str(bad), "--index", str(index_copy), "--quiet")
    assert code == 1
    assert f"qa: skipped {bad}: not valid UTF-8" in err
    assert "added 1 new article(s); now 3 articles" in out
    assert len(load_index(index_copy).articles) == 3


def test_qa_index_skips_a_link_out_of_the_folder(capsys, corpus_copy, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret headline\n\nThe vault code is 1234.\n", encoding="utf-8")
    (corpus_copy / "passwd.txt").symlink_to(outside)
    directory = tmp_path / "idx"
    code, out, err = run(capsys, "index", str(corpus_copy), "--index", str(directory), "--quiet")
    assert code == 1
    assert f"qa: skipped {corpus_copy / 'passwd.txt'}: a link to a file outside the folder" in err
    assert "2 articles" in out
    assert all("vault" not in a.text for a in load_index(directory).articles.values())


@pytest.mark.parametrize("command", ["index", "add"])
def test_the_exit_status_rule_is_in_the_help(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 when every article was loaded" in shown
    assert "1 when some files could not be loaded" in shown and "2 when no article could be loaded" in shown


def test_qa_add_of_a_file_with_a_sidecar_inside_an_indexed_folder_leaves_the_index_current(capsys, corpus_copy, copy_index):
    """`qa add story.txt` with story.meta.json beside it, in the indexed folder: the sidecar was not recorded as a
    source, so the next `qa search` refused the index ("story.meta.json was added")."""
    story = corpus_copy / "story.txt"
    story.write_text("Harbour news\n\nThe harbour of Zorblatt reopened on Monday after ten years.\n", encoding="utf-8")
    (corpus_copy / "story.meta.json").write_text('{"source": "Zorblatt Post", "published": "2026-01-05"}', encoding="utf-8")
    code, _, err = run(capsys, "add", str(story), "--index", str(copy_index))
    assert code == 0, err
    code, out, err = run(capsys, "search", "Zorblatt harbour", "--index", str(copy_index), "--json")
    assert code == 0 and "Harbour news" in out, err

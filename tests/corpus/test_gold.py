"""JSONL gold questions: defaults, validation with line numbers, and format dispatch."""

from __future__ import annotations

import json

import pytest

from corpus.gold_sets import GoldQuestion, load_gold, load_gold_jsonl


def write_lines(path, records):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def test_jsonl_gold_defaults(tmp_path):
    path = write_lines(tmp_path / "gold.jsonl", [
        {"id": "q1", "question": "Who spoke?", "answers": ["Geng Shuang"]},
        "",
        {"id": "q2", "question": "Who won?", "answers": [], "answerable": False, "article_id": "abc"},
    ])
    questions, articles, spans = load_gold(path)
    assert articles is None and spans is None
    assert questions == [
        GoldQuestion("q1", "Who spoke?", ["Geng Shuang"], True, None, [], None),
        GoldQuestion("q2", "Who won?", [], False, "abc", [], None),
    ]
    assert load_gold_jsonl(path) == questions


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{oops", "invalid JSON"),
        ('"just a string"', "expected a JSON object"),
        ({"question": "Q?", "answers": ["a"]}, "id must be"),
        ({"id": "x", "answers": ["a"]}, "question must be"),
        ({"id": "x", "question": "Q?", "answers": "a"}, "answers must be a list"),
        ({"id": "x", "question": "Q?"}, "needs at least one answer"),
        ({"id": "x", "question": "Q?", "answers": ["a"], "answerable": "yes"}, "answerable must be"),
        ({"id": "x", "question": "Q?", "answers": ["a"], "answerable": False}, "answerable is false"),
        ({"id": "x", "question": "Q?", "answers": ["a"], "article_id": 3}, "article_id must be"),
        ({"id": "x", "question": "Q?", "answers": ["a"], "answer_starts": [1, 2]}, "answer_starts"),
        ({"id": "q1", "question": "Again?", "answers": ["a"]}, "duplicate id 'q1' (first on line 1)"),
    ],
)
def test_bad_line_names_the_line(tmp_path, bad, message):
    path = write_lines(tmp_path / "gold.jsonl", [{"id": "q1", "question": "Q?", "answers": ["a"]}, bad])
    with pytest.raises(ValueError) as caught:
        load_gold_jsonl(path)
    assert str(caught.value).startswith(f"{path} line 2: ")
    assert message in str(caught.value)


def test_empty_gold_file_is_refused(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n")
    with pytest.raises(ValueError, match="no gold questions"):
        load_gold_jsonl(path)


def test_unknown_gold_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown gold format"):
        load_gold(tmp_path / "gold.csv")

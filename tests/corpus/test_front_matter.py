"""Markdown front matter: its title and metadata are used, and it is not part of the article's text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.loaders import load_file, load_paths
from corpus.loaders.front_matter import split_front_matter

BODY = "# Heading in the body\n\nThe storm arrived at dawn. It left by noon.\n"
FRONT = "---\ntitle: Storm hits the coast\nsource: Example Wire\ndate: 2017-04-12\nurl: https://example.com/storm\ntags: [weather, coast]\n---\n"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_front_matter_sets_the_metadata_and_is_not_in_the_text(tmp_path):
    [article] = load_file(write(tmp_path / "storm.md", FRONT + BODY))
    assert article.title == "Storm hits the coast"
    assert (article.source, article.published, article.url) == ("Example Wire", "2017-04-12", "https://example.com/storm")
    assert article.text == BODY
    assert "title:" not in article.text and "---" not in article.text


def test_the_id_is_the_body_s_so_offsets_and_duplicates_follow_the_text(tmp_path):
    with_front = write(tmp_path / "a.md", FRONT + BODY)
    write(tmp_path / "b.md", BODY)
    report = load_paths([tmp_path])
    [article] = report.articles
    assert article.path == str(with_front) and report.duplicates == [str(tmp_path / "b.md")]
    start = article.text.index("The storm")
    assert article.text[start:].startswith("The storm arrived at dawn.")


def test_crlf_front_matter(tmp_path):
    [article] = load_file(write(tmp_path / "crlf.md", (FRONT + BODY).replace("\n", "\r\n")))
    assert article.title == "Storm hits the coast"
    assert article.text == BODY.replace("\n", "\r\n")


def test_published_wins_over_date_and_an_empty_title_keeps_the_heading(tmp_path):
    text = "---\ntitle: ''\npublished: 2020-01-02\ndate: 1999-01-01\n---\n" + BODY
    [article] = load_file(write(tmp_path / "a.md", text))
    assert (article.title, article.published) == ("Heading in the body", "2020-01-02")


def test_a_sidecar_still_overrides_the_front_matter(tmp_path):
    path = write(tmp_path / "storm.md", FRONT + BODY)
    (tmp_path / "storm.meta.json").write_text(json.dumps({"title": "From the sidecar"}))
    [article] = load_file(path)
    assert (article.title, article.source) == ("From the sidecar", "Example Wire")


def test_without_front_matter_the_text_is_unchanged(tmp_path):
    text = "# Title\n\nBody.\n\n---\n\nAfter a thematic break.\n"
    [article] = load_file(write(tmp_path / "plain.md", text))
    assert (article.title, article.text) == ("Title", text)


def test_an_opening_line_without_a_closing_one_is_text(tmp_path):
    text = "---\n\nA document that opens with a thematic break. It has no closing line.\n"
    [article] = load_file(write(tmp_path / "hr.md", text))
    assert article.text == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nBody text.\n", "front matter is not valid YAML"),
        ("---\n- a\n- list\n---\nBody text.\n", "front matter must be YAML keys and values"),
        ("---\ntitle: {nested: map}\n---\nBody text.\n", "front matter: title must be text"),
        ("---\ntitle: Only front matter\n---\n\n  \n", "no text after the front matter"),
        ("---\ndate: next week\n---\nBody text.\n", "front matter: date: not a date: 'next week'"),
    ],
)
def test_bad_front_matter_is_an_error_naming_the_file(tmp_path, text, reason):
    path = write(tmp_path / "bad.md", text)
    report = load_paths([path])
    assert report.articles == []
    [error] = report.errors
    assert error.path == str(path) and reason in error.reason


def test_split_front_matter_keeps_numbers_as_text_and_dates_as_days():
    meta, body = split_front_matter("---\ntitle: 1984\npublished: 2017-04-12 10:30:00\n---\nBody.")
    assert meta == {"title": "1984", "published": "2017-04-12"}
    assert body == "Body."


def test_an_empty_front_matter_block_is_dropped():
    assert split_front_matter("---\n---\nBody.") == ({}, "Body.")

"""Links in a corpus folder: a link to a file outside the folder is skipped with a reason, never indexed
(``ln -s /etc/passwd corpus/passwd.txt`` must not put /etc/passwd into the index and its citations)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corpus.loaders import load_paths

OUTSIDE_TEXT = "Secret headline\n\nA secret line that lives outside the corpus folder."


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus folder with one article, and a file outside it."""
    corpus = tmp_path / "corpus"
    write(corpus / "story.txt", "Storm headline\n\nThe storm arrived at dawn.")
    outside = write(tmp_path / "elsewhere" / "secret.txt", OUTSIDE_TEXT)
    return corpus, outside


def test_a_link_to_a_file_outside_the_folder_is_skipped_with_a_reason(tmp_path):
    corpus, outside = make_corpus(tmp_path)
    link = corpus / "passwd.txt"
    os.symlink(outside, link)
    report = load_paths([corpus])
    assert [Path(a.path).name for a in report.articles] == ["story.txt"]
    assert all("secret" not in a.text for a in report.articles)
    [error] = report.errors
    assert error.path == str(link)
    assert error.reason == "a link to a file outside the folder"


def test_a_relative_link_out_of_a_subfolder_is_skipped(tmp_path):
    corpus, outside = make_corpus(tmp_path)
    link = corpus / "sub" / "deeper" / "x.txt"
    link.parent.mkdir(parents=True)
    os.symlink(os.path.relpath(outside, link.parent), link)
    report = load_paths([corpus])
    assert len(report.articles) == 1
    assert [(e.path, e.reason) for e in report.errors] == [(str(link), "a link to a file outside the folder")]


def test_a_link_to_etc_passwd_is_skipped(tmp_path):
    if not Path("/etc/passwd").exists():
        pytest.skip("no /etc/passwd here")
    corpus, _ = make_corpus(tmp_path)
    os.symlink("/etc/passwd", corpus / "passwd.txt")
    report = load_paths([corpus])
    assert len(report.articles) == 1
    assert [e.reason for e in report.errors] == ["a link to a file outside the folder"]


def test_a_broken_link_out_of_the_folder_is_skipped_as_a_link_out(tmp_path):
    corpus, _ = make_corpus(tmp_path)
    os.symlink(tmp_path / "elsewhere" / "gone.txt", corpus / "gone.txt")
    assert [e.reason for e in load_paths([corpus]).errors] == ["a link to a file outside the folder"]


def test_a_link_inside_the_folder_still_loads(tmp_path):
    corpus, _ = make_corpus(tmp_path)
    write(corpus / "sub" / "other.txt", "Other headline\n\nAnother story entirely.")
    os.symlink(corpus / "sub" / "other.txt", corpus / "alias.txt")
    report = load_paths([corpus])
    assert report.errors == [] and report.duplicates == []
    assert sorted(a.title for a in report.articles) == ["Other headline", "Storm headline"]


def test_a_folder_given_through_a_link_loads_its_own_files(tmp_path):
    corpus, _ = make_corpus(tmp_path)
    os.symlink(corpus / "story.txt", corpus / "alias.txt")
    linked = tmp_path / "linked-corpus"
    os.symlink(corpus, linked, target_is_directory=True)
    report = load_paths([linked])
    assert report.errors == []
    assert [a.title for a in report.articles] == ["Storm headline"]


def test_a_link_named_on_its_own_is_the_users_choice_and_loads(tmp_path):
    corpus, outside = make_corpus(tmp_path)
    link = corpus / "passwd.txt"
    os.symlink(outside, link)
    report = load_paths([link])
    assert report.errors == []
    assert [a.title for a in report.articles] == ["Secret headline"]

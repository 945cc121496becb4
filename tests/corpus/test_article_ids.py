"""Article ids: a fingerprint of the text with line ends normalised, so a CRLF copy of an article is found to
be a duplicate; the text itself (and every offset into it) stays as loaded, and LF texts keep their ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

from corpus.article import Article, text_fingerprint
from corpus.defaults import DEFAULT_ARTICLES_DIR
from corpus.loaders import load_file, load_paths

LF = "Storm hits the coast\n\nThe storm arrived at dawn.\nIt left by noon.\n"

# The default corpus's ids, as they were before line ends were normalised: the gold set and every saved
# index refer to them, so they must never change.
DEFAULT_IDS = {
    "trump-china-north-korea-thinkprogress.txt": "29126b2359a6900c",
    "trump-trade-china-north-korea.txt": "81e03a690d7a0019",
}


def test_a_crlf_copy_of_an_article_is_a_duplicate(tmp_path):
    first = tmp_path / "a.txt"
    first.write_bytes(LF.encode())
    second = tmp_path / "b.txt"
    second.write_bytes(LF.replace("\n", "\r\n").encode())
    report = load_paths([tmp_path])
    assert [a.path for a in report.articles] == [str(first)]
    assert report.duplicates == [str(second)]


def test_a_cr_only_copy_is_a_duplicate_too(tmp_path):
    (tmp_path / "a.txt").write_bytes(LF.encode())
    (tmp_path / "b.txt").write_bytes(LF.replace("\n", "\r").encode())
    assert load_paths([tmp_path]).duplicates == [str(tmp_path / "b.txt")]


def test_the_text_keeps_its_crlf_line_ends_and_offsets_point_into_it(tmp_path):
    crlf = LF.replace("\n", "\r\n")
    path = tmp_path / "crlf.txt"
    path.write_bytes(crlf.encode())
    [article] = load_file(path)
    assert article.text == crlf  # only the id is normalised, never the text
    start = article.text.index("The storm")
    assert article.text[start : start + len("The storm arrived")] == "The storm arrived"
    assert article.id == text_fingerprint(LF)


def test_lf_texts_keep_their_ids():
    assert text_fingerprint(LF) == hashlib.sha256(LF.encode("utf-8")).hexdigest()[:16]
    assert Article.from_text(LF, title="t").id == hashlib.sha256(LF.encode("utf-8")).hexdigest()[:16]


def test_the_default_corpus_ids_do_not_change():
    report = load_paths([DEFAULT_ARTICLES_DIR])
    assert {Path(a.path).name: a.id for a in report.articles} == DEFAULT_IDS


def test_text_with_different_words_has_a_different_id():
    assert text_fingerprint("one\r\ntwo") != text_fingerprint("one\r\nthree")
    assert text_fingerprint("one\n\ntwo") != text_fingerprint("one\ntwo")

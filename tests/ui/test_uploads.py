"""Upload checks: names that cannot escape the uploads folder, size and type limits, unreadable files."""

from pathlib import Path

import pytest

from corpus.loaders import SUPPORTED_SUFFIXES
from ui.uploads import (
    MAX_UPLOAD_BYTES,
    STAGING,
    UploadRejected,
    check_upload,
    discard_temporary,
    safe_filename,
    store_upload,
    withdraw,
)

ARTICLE = "Harbour opens in Zorblatt\n\nThe new Zorblatt harbour was opened on Monday by mayor Elspeth Quarrington.\n"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../x.txt", "x.txt"),
        ("../../x", "x"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/etc/passwd.txt", "passwd.txt"),
        ("....txt", "upload.txt"),
        (".hidden.txt", "hidden.txt"),
        ("..", "upload"),
        ("", "upload"),
        ("Trump <script>.MD", "Trump_script.md"),
        ('<img src=x onerror="a()">.html', "img_src_x_onerror_a.html"),
        ("Café Économie.txt", "Cafe_Economie.txt"),
        ("notes.meta.json", "notes_meta.json"),
        ("a" * 300 + ".txt", "a" * 96 + ".txt"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["../../x.txt", "../../../../tmp/x.md", "a/../../b.txt", "..\\..\\c.txt", "/abs/d.txt", "..", ".", "~/e.txt"])
def test_a_stored_upload_never_leaves_the_uploads_folder(tmp_path, name):
    uploads = tmp_path / "corpus" / "uploads"
    source = tmp_path / "incoming.bin"
    source.write_text(ARTICLE, encoding="utf-8")
    try:
        kept = store_upload(source, name, uploads)
    except UploadRejected:  # "..", "." have no suffix: refused as a type, which is also fine
        assert Path(safe_filename(name)).suffix not in SUPPORTED_SUFFIXES
        return
    assert kept.path.resolve().parent == uploads.resolve()
    assert kept.path.read_text(encoding="utf-8") == ARTICLE
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and uploads.resolve() not in p.resolve().parents]
    assert outside == [source]


def test_type_and_size_limits():
    assert check_upload("story.TXT", 10) == "story.txt"
    for suffix in SUPPORTED_SUFFIXES:
        assert check_upload(f"a{suffix}", 10).endswith(suffix)
    with pytest.raises(UploadRejected, match="unsupported file type"):
        check_upload("virus.exe", 10)
    with pytest.raises(UploadRejected, match="unsupported file type"):
        check_upload("notes.meta.json", 10)
    with pytest.raises(UploadRejected, match="too large"):
        check_upload("big.txt", MAX_UPLOAD_BYTES + 1)
    with pytest.raises(UploadRejected, match="empty"):
        check_upload("empty.txt", 0)
    assert check_upload("limit.txt", MAX_UPLOAD_BYTES) == "limit.txt"


def test_an_unreadable_file_is_refused_with_the_reason_and_not_kept(tmp_path):
    uploads = tmp_path / "uploads"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 latin-1 text")
    with pytest.raises(UploadRejected, match="cannot be read: not valid UTF-8"):
        store_upload(bad, "bad.txt", uploads)
    pdf = tmp_path / "fake.pdf"
    pdf.write_bytes(b"this is not a pdf at all")
    with pytest.raises(UploadRejected, match="cannot be read"):
        store_upload(pdf, "fake.pdf", uploads)
    assert list(uploads.iterdir()) == []  # nothing kept, the staging folder is gone too


def test_too_large_file_is_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(UploadRejected, match="too large"):
        store_upload(big, "big.txt", tmp_path / "uploads", max_bytes=1000)


def two_sources(tmp_path):
    """Two uploads of one article: ``a`` as it is, ``b`` with one word changed."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text(ARTICLE, encoding="utf-8")
    b.write_text(ARTICLE.replace("Monday", "Tuesday"), encoding="utf-8")
    return a, b


def test_same_name_other_text_gets_a_new_name_and_same_bytes_reuse_the_file(tmp_path):
    uploads, a, b = tmp_path / "uploads", *two_sources(tmp_path)
    first = store_upload(a, "story.txt", uploads)
    second = store_upload(b, "story.txt", uploads)
    again = store_upload(a, "story.txt", uploads)
    assert first.path.name == "story.txt" and second.path.name == "story-2.txt"
    assert again.path == first.path
    assert first.titles == ("Harbour opens in Zorblatt",)
    assert sorted(p.name for p in uploads.iterdir()) == ["story-2.txt", "story.txt"]


def test_a_file_already_in_the_corpus_is_not_kept(tmp_path):
    from corpus.loaders import load_file

    source = tmp_path / "story.txt"
    source.write_text(ARTICLE, encoding="utf-8")
    known = {a.id for a in load_file(source)}
    kept = store_upload(source, "story.txt", tmp_path / "uploads", known_ids=known)
    assert kept.duplicate and kept.path is None
    assert not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))
    assert not (tmp_path / "uploads" / STAGING).exists()


def test_a_jsonl_upload_with_a_bad_line_names_the_line(tmp_path):
    bad = tmp_path / "batch.jsonl"
    bad.write_text('{"title": "One", "text": "First article text."}\n{not json\n', encoding="utf-8")
    with pytest.raises(UploadRejected, match="cannot be read: line 2: invalid JSON"):
        store_upload(bad, "batch.jsonl", tmp_path / "uploads")


def test_withdraw_takes_out_only_a_file_the_upload_put_there(tmp_path):
    """A kept upload whose indexing fails is taken out again; a file with the same bytes that was there before
    the upload (reused, not created) stays."""
    uploads, a, b = tmp_path / "uploads", *two_sources(tmp_path)
    first = store_upload(a, "story.txt", uploads)
    again = store_upload(a, "story.txt", uploads)
    assert first.created and not again.created and again.path == first.path
    withdraw(again)
    assert first.path.exists()
    second = store_upload(b, "other.txt", uploads)
    withdraw(second)
    assert sorted(p.name for p in uploads.iterdir()) == ["story.txt"]


def test_a_loader_message_quoting_the_server_path_shows_the_file_name(tmp_path, monkeypatch):
    """A library error that quotes the path it was given (the staging copy on the server) names the file."""
    from corpus import loaders

    def broken(path, data):
        raise ValueError(f"unexpected token in {path}")

    monkeypatch.setitem(loaders.LOADERS, ".txt", broken)
    source = tmp_path / "incoming"
    source.write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(UploadRejected) as refused:
        store_upload(source, "../my story.txt", tmp_path / "corpus" / "uploads")
    message = str(refused.value)
    assert "cannot be read" in message and "unexpected token in my_story.txt" in message
    assert str(tmp_path) not in message and "/" not in message


def test_discard_temporary_deletes_the_file_and_tolerates_what_is_not_one(tmp_path):
    temp = tmp_path / "gradio" / "abc123" / "story.txt"
    temp.parent.mkdir(parents=True)
    temp.write_text(ARTICLE, encoding="utf-8")
    discard_temporary(temp)
    assert not temp.exists()
    discard_temporary(temp)  # gone already
    discard_temporary(temp.parent)  # a folder is not a temporary upload: left alone, no error
    assert temp.parent.is_dir()

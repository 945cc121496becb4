"""Loaders: every format, every error kind, batch behaviour, dedup, and the default corpus."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.article import text_fingerprint
from corpus.defaults import DEFAULT_ARTICLES_DIR
from corpus.loaders import (
    ArticleLoadError,
    LoadError,
    derive_title,
    headline_of,
    html_to_text,
    load_file,
    load_paths,
    title_for,
)

SHARED_CORPUS = Path(__file__).parents[3] / "shared" / "corpus"

BODY = "The first sentence of the story. A second sentence follows.\n\nAnother paragraph here."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def make_pdf(path: Path, lines: list[str], title: str | None = None) -> Path:
    """A one-page PDF drawing ``lines`` in standard Helvetica, so pypdf can extract them."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    })
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    shown = " ".join(f"({line}) Tj T*" for line in lines)
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 72 720 Td 14 TL {shown} ET".encode("latin-1"))
    page.replace_contents(content)
    if title:
        writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return write(path, buffer.getvalue())


def only_error(report) -> LoadError:
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


# ---------------------------------------------------------------------------------------------- .txt


def test_txt_headline_becomes_title_and_text_is_kept_exactly(tmp_path):
    content = "Storm hits the coast\r\n\r\n" + BODY.replace("\n", "\r\n") + "\n"
    path = write(tmp_path / "storm.txt", content)
    [article] = load_file(path)
    assert article.title == "Storm hits the coast"
    assert article.text == content  # no newline normalisation, no stripping
    assert article.id == text_fingerprint(content)
    assert article.path == str(path)
    assert article.source is None and article.published is None and article.url is None


def test_txt_without_headline_derives_title_from_first_sentence(tmp_path):
    text = (
        "President Donald Trump, eager to stop rapid advances in North Korea's nuclear and ballistic "
        "missile programs, is signaling a break with decades of US policy.\nMore text."
    )
    [article] = load_file(write(tmp_path / "a.txt", text))
    assert article.title == "President Donald Trump, eager to stop rapid advances in North Korea's nuclear…"


def test_txt_utf8_bom_is_dropped(tmp_path):
    [article] = load_file(write(tmp_path / "bom.txt", b"\xef\xbb\xbfHeadline here\n\nBody text."))
    assert article.text == "Headline here\n\nBody text."
    assert article.title == "Headline here"


@pytest.mark.parametrize(
    "first_line",
    [
        "This first line is a sentence.",
        "Is this a question?",
        "He said it was over.”",
        'He said it was over."',
        "Here is the list:",
        "Short but ends with a semicolon;",
        " ".join(["word"] * 21),
        "x" * 201,
    ],
)
def test_first_lines_that_are_not_headlines(first_line):
    assert headline_of(first_line + "\nMore text follows.") is None


@pytest.mark.parametrize(
    "first_line", ["Trump wanted China to deal with North Korea — it’s not going well", 'Xi: "No deal"']
)
def test_first_lines_that_are_headlines(first_line):
    assert headline_of("\n\n" + first_line + "\n\nBody.") == first_line


def test_a_lone_line_is_not_a_headline_but_still_gets_a_title():
    assert headline_of("Only one line") is None
    assert title_for("Only one line") == "Only one line"
    assert derive_title("Short sentence. Then another.") == "Short sentence"


def test_sidecar_sets_metadata(tmp_path):
    path = write(tmp_path / "story.txt", "A plain first sentence that is not a headline.\nMore.")
    meta = {"title": "Better title", "source": "Example News", "published": "2017-07-11", "url": "https://x"}
    write(tmp_path / "story.meta.json", json.dumps(meta))
    [article] = load_file(path)
    assert (article.title, article.source, article.published, article.url) == tuple(meta.values())


def test_sidecar_null_title_keeps_the_derived_title(tmp_path):
    path = write(tmp_path / "story.txt", "Headline\n\nBody.")
    write(tmp_path / "story.meta.json", '{"title": null, "source": "Wire"}')
    [article] = load_file(path)
    assert (article.title, article.source) == ("Headline", "Wire")


@pytest.mark.parametrize(
    ("sidecar", "reason"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"sorce": "typo"}', "unknown key(s) sorce"),
        ('{"source": 3}', "source must be a string or null"),
    ],
)
def test_bad_sidecar_is_an_error_naming_the_article_and_the_sidecar(tmp_path, sidecar, reason):
    write(tmp_path / "story.txt", "Headline\n\nBody.")
    write(tmp_path / "story.meta.json", sidecar)
    report = load_paths([tmp_path])
    error = only_error(report)
    assert report.articles == []  # the article is dropped: the error must say which one
    assert error.path == str(tmp_path / "story.txt")
    assert "metadata sidecar story.meta.json" in error.reason and reason in error.reason
    assert str(error).startswith(f"{tmp_path / 'story.txt'}: ") and "story.meta.json" in str(error)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), min_size=1))
def test_txt_text_round_trips_exactly(tmp_path, text):
    if not text.strip() or text.startswith("\ufeff"):
        return
    [article] = load_file(write(tmp_path / "any.txt", text))
    assert article.text == text
    assert article.title.strip()


# ----------------------------------------------------------------------------------------------- .md


def test_markdown_title_from_first_h1_and_text_unaltered(tmp_path):
    content = "Intro line\n\n```bash\n# not a heading\n```\n\n# The Real Title #\n\nSome *markdown* text.\n"
    [article] = load_file(write(tmp_path / "post.md", content))
    assert article.title == "The Real Title"
    assert article.text == content


def test_markdown_without_h1_falls_back_to_headline(tmp_path):
    [article] = load_file(write(tmp_path / "post.md", "## A subheading\n\nBody text here."))
    assert article.title == "A subheading"


# --------------------------------------------------------------------------------------------- .html

HTML = """<!doctype html>
<html><head>
  <title>Big news | The Daily Example</title>
  <meta property="og:site_name" content="The Daily Example">
  <meta property="article:published_time" content="2017-07-11T10:00:00Z">
  <style>body { color: red; } .STYLE_SECRET {}</style>
  <script>var SCRIPT_SECRET = 1;</script>
</head><body>
  <nav><a href="/">NAV_SECRET home</a></nav>
  <header>HEADER_SECRET banner</header>
  <article>
    <h1>Big   news
      today</h1>
    <p>First   paragraph with <b>bold</b> and <a href="#">a link</a>.</p>
    <script>document.write("INLINE_SCRIPT_SECRET")</script>
    <!-- COMMENT_SECRET -->
    <div>Second <span>paragraph</span>
      spread over lines.</div>
    <ul><li>Item one</li><li>Item two</li></ul>
    <aside>ASIDE_SECRET related links</aside>
    <p hidden>HIDDEN_SECRET</p>
  </article>
  <footer>FOOTER_SECRET</footer>
</body></html>"""


def test_html_main_text_only_in_blank_line_paragraphs(tmp_path):
    [article] = load_file(write(tmp_path / "page.html", HTML))
    assert article.text == (
        "Big news today\n\nFirst paragraph with bold and a link.\n\n"
        "Second paragraph spread over lines.\n\nItem one\n\nItem two"
    )
    assert "SECRET" not in article.text
    assert "var " not in article.text and "color" not in article.text


def test_html_metadata(tmp_path):
    [article] = load_file(write(tmp_path / "page.htm", HTML))
    assert article.title == "Big news today"  # the <h1>; <title> carries the site name
    assert article.source == "The Daily Example"
    assert article.published == "2017-07-11"  # an ISO date, from article:published_time 2017-07-11T10:00:00Z


def test_html_title_preferences():
    og = '<html><head><title>T | Site</title><meta property="og:title" content="OG title"></head>'
    assert html_to_text(og + "<body><h1>H1</h1><p>x</p></body></html>")[1]["title"] == "OG title"
    assert html_to_text("<title>Only title</title><p>x</p>")[1]["title"] == "Only title"
    named = '<html><head><title>Story | Site</title><meta property="og:site_name" content="Site"></head>'
    assert html_to_text(named + "<body><p>x</p></body></html>")[1]["title"] == "Story"  # the site name goes


def test_html_without_article_uses_body_and_time_tag():
    text, meta = html_to_text(
        "<body><main><p>Main text.</p><time datetime='2017-04-20'>April 20</time></main></body>"
    )
    assert text == "Main text."  # the date is metadata, not a paragraph of the text
    assert meta["published"] == "2017-04-20"
    assert meta["source"] is None


def test_html_with_no_text_is_an_error(tmp_path):
    path = write(tmp_path / "empty.html", "<html><body><script>x()</script><nav>menu</nav></body></html>")
    error = only_error(load_paths([path]))
    assert error.path == str(path)
    assert error.reason == "no text found in the HTML (only markup, scripts or navigation)"


def test_html_in_windows_1252_without_a_declaration_is_detected(tmp_path):
    """Strict UTF-8 refused this page; undeclared curly quotes are the commonest legacy bytes on the web."""
    [article] = load_file(write(tmp_path / "smart.html", b"<p>\x93quoted\x94</p>"))
    assert article.text == "\u201cquoted\u201d"


# ---------------------------------------------------------------------------------------------- .pdf


def test_pdf_text_and_metadata_title(tmp_path):
    path = make_pdf(tmp_path / "doc.pdf", ["Hello headline", "Second line here. And more."], "Meta title")
    [article] = load_file(path)
    assert article.text == "Hello headline\nSecond line here. And more."
    assert article.title == "Meta title"


def test_pdf_title_from_first_line(tmp_path):
    [article] = load_file(make_pdf(tmp_path / "doc.pdf", ["Hello headline", "Body sentence."]))
    assert article.title == "Hello headline"


def test_pdf_without_text_is_an_error(tmp_path):
    path = make_pdf(tmp_path / "scan.pdf", [])
    assert "no extractable text" in only_error(load_paths([path])).reason


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage garbage\n", b"this is not a pdf at all", b"%PDF-1.7\n\x00\x01\x02"],
)
def test_broken_pdf_is_an_error(tmp_path, content):
    path = write(tmp_path / "broken.pdf", content)
    error = only_error(load_paths([path]))
    assert error.path == str(path)
    assert error.reason.startswith("broken PDF")


def test_truncated_pdf_is_an_error(tmp_path):
    good = make_pdf(tmp_path / "good.pdf", ["Hello headline", "Body."]).read_bytes()
    path = write(tmp_path / "cut.pdf", good[: len(good) // 3])
    report = load_paths([path])
    assert not report.articles
    assert only_error(report).path == str(path)


# -------------------------------------------------------------------------------------------- .jsonl


def test_jsonl_good_lines_load_and_bad_lines_name_their_line(tmp_path):
    lines = [
        json.dumps({"title": "One", "text": "Text one.", "source": "Wire", "published": "11 Jul 2017", "url": "u"}),
        "{not json",
        json.dumps({"title": "No text"}),
        "",
        json.dumps({"title": "Empty", "text": "   "}),
        json.dumps({"title": 5, "text": "Title is a number."}),
        json.dumps(["a", "list"]),
        json.dumps({"text": "Untitled text. It goes on."}),
    ]
    path = write(tmp_path / "bad.jsonl", "\n".join(lines) + "\n")
    report = load_paths([path])
    assert [a.title for a in report.articles] == ["One", "Untitled text"]
    first = report.articles[0]
    assert (first.text, first.source, first.published, first.url) == ("Text one.", "Wire", "2017-07-11", "u")
    found = {(e.line, e.reason.split(" (")[0]) for e in report.errors}
    assert found == {
        (2, "invalid JSON"),
        (3, "missing text"),
        (5, "empty text"),
        (6, "title must be a string, got int"),
        (7, "expected a JSON object, got list"),
    }
    assert str(next(e for e in report.errors if e.line == 2)) == f"{path} line 2: invalid JSON (Expecting property name enclosed in double quotes)"


def test_jsonl_bad_utf8_line_spoils_only_that_line(tmp_path):
    good = json.dumps({"title": "Fine", "text": "Fine text."}).encode()
    path = write(tmp_path / "mixed.jsonl", good + b'\n{"title": "x", "text": "caf\xe9"}\n')
    report = load_paths([path])
    assert [a.title for a in report.articles] == ["Fine"]
    assert only_error(report).line == 2 and "not valid UTF-8" in report.errors[0].reason


def test_load_file_raises_on_any_bad_jsonl_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", '{"text": "ok"}\n{oops\n')
    with pytest.raises(ArticleLoadError) as caught:
        load_file(path)
    assert caught.value.error.line == 2
    assert str(caught.value).startswith(f"{path} line 2: invalid JSON")


# -------------------------------------------------------------------------------------- error kinds


def test_load_error_str():
    assert str(LoadError("bad.jsonl", "invalid JSON (Expecting value)", 3)) == (
        "bad.jsonl line 3: invalid JSON (Expecting value)"
    )
    assert str(LoadError("x.bin", "binary file, not text")) == "x.bin: binary file, not text"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "empty file (only whitespace)"),
        ("nul.txt", b"text\x00with nul", "binary file, not text"),
        ("latin1.txt", b"Headline\n\ncaf\xe9 au lait", "not valid UTF-8 (byte 0xe9 at position 13)"),
        ("binary.html", b"<p>\x00\x01\x00\x02\x00</p>", "binary file, not text"),
        ("blank.htm", b"  \n\t ", "empty file"),
        ("utf16.txt", "Hello".encode("utf-16"), "not valid UTF-8 (UTF-16 byte-order mark)"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type .png"),
        ("README", b"text", "unsupported file type (none)"),
        ("empty.jsonl", b"\n\n", "empty file"),
    ],
)
def test_each_error_kind_names_the_file_and_reason(tmp_path, name, content, reason):
    path = write(tmp_path / name, content)
    error = only_error(load_paths([path]))
    assert error.path == str(path)
    assert error.line is None
    assert error.reason.startswith(reason)
    with pytest.raises(ArticleLoadError) as caught:
        load_file(path)
    assert caught.value.error == error


def test_missing_path_is_an_error(tmp_path):
    error = only_error(load_paths([tmp_path / "nope.txt"]))
    assert (error.path, error.reason) == (str(tmp_path / "nope.txt"), "not found")


def test_broken_symlink_is_an_error(tmp_path):
    os.symlink(tmp_path / "gone.txt", tmp_path / "link.txt")
    assert only_error(load_paths([tmp_path])).reason.startswith("not found")


def test_unreadable_file_is_an_error(tmp_path, monkeypatch):
    path = write(tmp_path / "locked.txt", "Headline\n\nBody.")
    real = Path.read_bytes

    def deny(self):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert only_error(load_paths([path])).reason == "cannot read (Permission denied)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_by_permissions(tmp_path):
    path = write(tmp_path / "locked.txt", "Headline\n\nBody.")
    path.chmod(0)
    try:
        assert only_error(load_paths([path])).reason.startswith("cannot read")
    finally:
        path.chmod(0o644)


def test_sidecar_named_directly_is_an_error(tmp_path):
    path = write(tmp_path / "a.meta.json", "{}")
    assert "metadata sidecar" in only_error(load_paths([path])).reason


# ----------------------------------------------------------------------------------- batch and dedup


def test_one_bad_file_among_good_ones(tmp_path):
    write(tmp_path / "a.txt", "Alpha headline\n\nAlpha body.")
    write(tmp_path / "sub" / "b.md", "# Beta\n\nBeta body.")
    write(tmp_path / "sub" / "deeper" / "c.html", "<title>Gamma</title><p>Gamma body.</p>")
    write(tmp_path / "d.jsonl", json.dumps({"title": "Delta", "text": "Delta body."}))
    make_pdf(tmp_path / "e.pdf", ["Epsilon", "Epsilon body."])
    bad = write(tmp_path / "sub" / "bad.txt", b"\xff\xfe\x00garbage")
    write(tmp_path / ".hidden.txt", "Hidden\n\nNot loaded.")
    write(tmp_path / ".git" / "x.txt", "Hidden folder\n\nNot loaded.")
    write(tmp_path / "a.meta.json", '{"source": "Alpha Wire"}')
    report = load_paths([tmp_path])
    assert [a.title for a in report.articles] == ["Alpha headline", "Delta", "Epsilon", "Beta", "Gamma"]
    assert report.articles[0].source == "Alpha Wire"
    error = only_error(report)
    assert error.path == str(bad)
    assert report.duplicates == []


def test_a_single_string_path_is_accepted(tmp_path):
    write(tmp_path / "a.txt", "Alpha headline\n\nAlpha body.")
    assert len(load_paths(str(tmp_path)).articles) == 1


def test_same_text_twice_is_kept_once(tmp_path):
    first = write(tmp_path / "a.txt", "Same headline\n\nSame body.")
    second = write(tmp_path / "b.txt", "Same headline\n\nSame body.")
    write(tmp_path / "c.jsonl", json.dumps({"title": "Other title", "text": "Same headline\n\nSame body."}))
    report = load_paths([tmp_path])
    assert [a.path for a in report.articles] == [str(first)]
    assert report.duplicates == [str(second), f"{tmp_path / 'c.jsonl'} line 1"]
    assert report.errors == []


def test_the_same_file_named_twice_is_not_a_duplicate(tmp_path):
    path = write(tmp_path / "a.txt", "Alpha headline\n\nAlpha body.")
    report = load_paths([path, tmp_path, str(path)])
    assert len(report.articles) == 1 and report.duplicates == []


# ------------------------------------------------------------------------------------ default corpus


def test_default_corpus():
    report = load_paths([DEFAULT_ARTICLES_DIR])
    assert report.errors == [] and report.duplicates == []
    by_title = {a.title: a for a in report.articles}
    assert len(report.articles) == 2
    thinkprogress = by_title["Trump wanted China to deal with North Korea — it’s not going well"]
    assert thinkprogress.source == "ThinkProgress"
    derived = by_title["Trump signals break with US policy to coax China on North Korea"]
    assert derived.source is None
    assert sorted(p.name for p in DEFAULT_ARTICLES_DIR.iterdir()) == [
        "trump-china-north-korea-thinkprogress.meta.json",
        "trump-china-north-korea-thinkprogress.txt",
        "trump-trade-china-north-korea.meta.json",
        "trump-trade-china-north-korea.txt",
    ]
    if not SHARED_CORPUS.exists():
        pytest.skip(f"{SHARED_CORPUS} not present")
    originals = {
        "000_c06c2fbb24ad7b1b.txt": thinkprogress,
        "001_933a152f61c8bef2.txt": derived,
    }
    for name, article in originals.items():
        raw = (SHARED_CORPUS / name).read_bytes()
        assert Path(article.path).read_bytes() == raw
        assert article.text == raw.decode("utf-8")


def test_invalid_utf8_position_counts_the_bom(tmp_path):
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbfab\xff")
    assert only_error(load_paths([path])).reason == "not valid UTF-8 (byte 0xff at position 5)"


# ---------------------------------------------------------------------------------------------- size limit


def test_a_file_over_the_size_limit_is_refused_and_the_rest_load(tmp_path, monkeypatch):
    """Issue 15: there was no limit; a 50 MB article took minutes to chunk. QA_MAX_ARTICLE_BYTES sets it."""
    monkeypatch.setenv("QA_MAX_ARTICLE_BYTES", "2000")
    big = write(tmp_path / "big.txt", "Headline\n\n" + "word " * 500)
    write(tmp_path / "small.txt", BODY)
    write(tmp_path / "edge.txt", "Edge\n\n" + "x" * (2000 - len("Edge\n\n")))  # exactly the limit loads
    report = load_paths([tmp_path])
    assert sorted(Path(a.path).name for a in report.articles) == ["edge.txt", "small.txt"]
    error = only_error(report)
    assert error.path == str(big)
    assert error.reason == "too large (2,510 bytes; the limit is 2,000 bytes, set QA_MAX_ARTICLE_BYTES)"
    with pytest.raises(ArticleLoadError, match="too large"):
        load_file(big)


def test_the_default_size_limit_is_50_mb_and_a_larger_file_is_never_read(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_MAX_ARTICLE_BYTES", raising=False)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(50 * 2**20 + 1)  # sparse: 50 MB and one byte, nothing written
    real = Path.read_bytes

    def no_read(self):
        assert self != huge, "a file over the limit was read"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", no_read)
    reason = only_error(load_paths([huge])).reason
    assert reason == "too large (50 MB; the limit is 50 MB, set QA_MAX_ARTICLE_BYTES)"
    with huge.open("r+b") as f:
        f.truncate(50 * 2**20)  # at the limit it is read (and is only zero bytes: not UTF-8 text)
    assert "too large" not in only_error(load_paths([huge])).reason


def test_a_bad_size_limit_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MAX_ARTICLE_BYTES", "50MB")
    path = write(tmp_path / "a.txt", BODY)
    assert only_error(load_paths([path])).reason == (
        "QA_MAX_ARTICLE_BYTES must be a whole number of bytes, at least 1 (it is '50MB')"
    )


def test_a_pipe_is_refused_not_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    assert only_error(load_paths([fifo])).reason == "not a regular file (a pipe or a device)"

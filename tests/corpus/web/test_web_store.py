"""Keeping fetched pages: safe names, the raw bytes (with the HTTP charset written in only where the page
needs it), the sidecar and the hidden record, and a kept page reading back as the same article offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from local_site import PAGES

from corpus.loaders import load_file, load_paths
from corpus.loaders.common import Failure
from corpus.loaders.encoding import declared_encoding
from corpus.web.fetch import Fetched
from corpus.web.store import (
    MAX_STEM,
    FeedContext,
    keep_pages,
    page_name,
    read_record,
    record_path,
    stage_page,
    stored_bytes,
    withdraw,
)
from index.sources import describe_sources

LEGACY = ["time.windows-1252.html", "ultimahora.iso-8859-1.html", "afpbb.shift_jis.html", "lsm.windows-1257.html",
          "chinadaily.gb2312.html"]
_DECLARATION = re.compile(rb"""<meta[^>]*charset\s*=[^>]*>""", re.IGNORECASE)


def fetched(body: bytes, url: str = "http://127.0.0.1:8000/news/a.html", content_type: str = "text/html",
            charset: str | None = "utf-8", final_url: str | None = None) -> Fetched:
    return Fetched(url, final_url or url, 200, content_type, charset, body, "2024-05-01T12:00:00Z",
                   (url,) if final_url else ())


def without_declaration(name: str) -> tuple[bytes, str]:
    """A saved legacy page with its <meta charset> taken out, and the label it declared."""
    data = (PAGES / name).read_bytes()
    label = re.search(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", data, re.IGNORECASE).group(1)
    stripped = _DECLARATION.sub(b"", data)
    assert declared_encoding(stripped) is None
    return stripped, label.decode("ascii")


@pytest.mark.parametrize("url", [
    "http://example.com/../../etc/passwd",
    "http://example.com/%2e%2e/%2e%2e/secret",
    "http://example.com/a/b/c.meta",
    "http://.hidden.example/.bashrc",
    "http://example.com/" + "very-long-segment/" * 40,
    "http://bücher.example/straße/ärger?x=<script>",
    "http://[::1]:8080/",
])
def test_a_name_made_from_a_url_is_safe_and_bounded(url):
    name = page_name(url, ".html")
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*-[0-9a-f]{10}\.html", name), name
    assert len(name) <= MAX_STEM + len("-0123456789.html")
    assert page_name(url, ".html") == name  # the same URL, the same name
    assert page_name(url + "?page=2", ".html") != name  # another URL, another name


def test_the_http_charset_is_written_in_only_when_the_page_needs_it():
    stripped, label = without_declaration("time.windows-1252.html")
    data, declaration = stored_bytes(fetched(stripped, charset=label))
    assert declaration == f'<meta charset="{label}">\n' and data == declaration.encode() + stripped
    original = (PAGES / "time.windows-1252.html").read_bytes()
    assert stored_bytes(fetched(original, charset="utf-8")) == (original, None)  # the page declares its own
    utf8 = (PAGES / "cnn_article.html").read_bytes()
    assert stored_bytes(fetched(utf8, charset="iso-8859-1")) == (utf8, None)  # valid UTF-8 is read as UTF-8
    assert stored_bytes(fetched(stripped, charset=None)) == (stripped, None)  # nothing said: detection
    assert stored_bytes(fetched(b"\xef\xbb\xbf" + stripped, charset=label))[1] is None  # a byte-order mark wins
    assert stored_bytes(fetched(stripped, charset="no-such-charset"))[1] is None


@pytest.mark.parametrize("name", LEGACY)
def test_a_legacy_page_with_only_an_http_charset_reads_as_the_page_that_declares_it(name, tmp_path):
    stripped, label = without_declaration(name)
    staged = stage_page(fetched(stripped, charset=label), tmp_path)
    declared = load_file(PAGES / name)[0]  # the same page, its encoding in its own <meta charset>
    assert staged.article.text == declared.text and staged.article.id == declared.id
    assert staged.article.title == declared.title
    assert "\ufffd" not in staged.article.text
    # kept, it reads back the same, offline, without the header
    kept = keep_pages([staged], tmp_path / "fetched")[0]
    assert load_file(kept.path)[0] == kept.article


def test_a_kept_page_has_its_bytes_sidecar_and_record_and_reads_back_the_same(tmp_path):
    body = (PAGES / "cnn_article.html").read_bytes()
    page = fetched(body, url="http://127.0.0.1:8000/r/1", final_url="http://127.0.0.1:8000/us/thanksgiving.html")
    staged = stage_page(page, tmp_path)
    assert staged.article.title == "After storm, forecasters see smooth sailing for Thanksgiving"
    assert (staged.article.source, staged.article.published) == ("CNN", "2013-11-27")  # from the page
    assert staged.article.url == "http://127.0.0.1:8000/us/thanksgiving.html"  # where it was fetched from
    folder = tmp_path / "fetched"
    kept = keep_pages([staged], folder)[0]
    assert kept.created and kept.path.parent == folder and kept.path.read_bytes() == body
    assert json.loads(kept.files[1].read_text()) == {"url": "http://127.0.0.1:8000/us/thanksgiving.html"}
    record = read_record(kept.path)
    assert record_path(kept.path).name.startswith(".")  # hidden
    assert record["url"] == page.final_url and record["requested_url"] == page.url
    assert record["redirects"] == [page.url] and record["fetched_at"] == "2024-05-01T12:00:00Z"
    assert (record["status"], record["content_type"], record["charset"]) == (200, "text/html", "utf-8")
    assert record["bytes"] == len(body) and len(record["sha256"]) == 64 and record["declaration_added"] is None
    assert record["article_id"] == kept.article.id and kept.article.path == str(kept.path)
    # offline: the folder loads as the same article; the record is neither an article nor a source
    report = load_paths([folder])
    assert report.errors == [] and [a for a in report.articles] == [kept.article]
    assert {Path(s["path"]).name for s in describe_sources([folder])} == {kept.path.name, kept.files[1].name}


def test_a_feed_gives_source_and_date_only_where_the_page_has_none(tmp_path):
    feed = FeedContext("http://x/feed.rss", "World Desk", "guid-1", "2013-08-03T17:40:00+03:00", "Title")
    arabic = stage_page(fetched((PAGES / "cnn_arabic.html").read_bytes()), tmp_path, feed)  # no date on the page
    assert arabic.article.published == "2013-08-03" and arabic.article.source == "CNNArabic"
    assert arabic.sidecar == {"url": "http://127.0.0.1:8000/news/a.html", "published": "2013-08-03"}
    thai = stage_page(fetched((PAGES / "prachatai.html").read_bytes()), tmp_path, feed)  # no site name on it
    assert thai.article.source == "World Desk" and thai.article.published == "2019-01-21"
    assert thai.record["feed"] == {"url": "http://x/feed.rss", "title": "World Desk", "guid": "guid-1",
                                   "published": "2013-08-03T17:40:00+03:00", "item_title": "Title"}


def test_a_page_the_loader_refuses_is_not_staged(tmp_path):
    with pytest.raises(Failure, match="no text found in the HTML"):
        stage_page(fetched(b"<html><body><nav>Home | News</nav><script>x()</script></body></html>"), tmp_path)
    with pytest.raises(Failure, match="not valid UTF-8"):
        stage_page(fetched("Caf\xe9 story\n\nIt was good.".encode("latin-1"), content_type="text/plain",
                           charset="iso-8859-1"), tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written


def test_names_are_unique_and_the_same_bytes_are_kept_once(tmp_path):
    folder = tmp_path / "fetched"
    first = stage_page(fetched((PAGES / "cnn_article.html").read_bytes()), tmp_path)
    again = keep_pages([first], folder) + keep_pages([first], folder)
    assert again[0].path == again[1].path and again[0].created and not again[1].created
    changed = stage_page(fetched((PAGES / "fox13now.html").read_bytes()), tmp_path)  # same URL, new text
    other = keep_pages([changed], folder)[0]
    assert other.path.name == again[0].path.stem + "-2.html" and other.created
    withdraw([other])
    assert not other.path.exists() and not other.files[1].exists() and not record_path(other.path).exists()
    assert again[0].path.exists()
    withdraw([again[1]])  # it did not create the file: it stays
    assert again[0].path.exists()
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp")) == []


def short_latvian_page() -> tuple[bytes, str]:
    """A short page in Windows-1257 that declares nothing (its text from the saved LSM page), and its text."""
    article = load_file(PAGES / "lsm.windows-1257.html")[0]
    paragraph = article.text.split("\n\n")[1]
    html = f"<html><head><title>{article.title}</title></head><body><article><p>{paragraph}</p></article></body></html>"
    return html.encode("cp1257"), paragraph


def test_the_http_charset_decides_where_detection_would_misread_the_page(tmp_path):
    data, paragraph = short_latvian_page()
    guessed = stage_page(fetched(data, charset=None), tmp_path).article
    assert paragraph not in guessed.text  # detection alone takes it for Windows-1252: "lÄ«dzi" and the like
    told = stage_page(fetched(data, charset="windows-1257"), tmp_path)
    assert paragraph in told.article.text and "līdzi" in told.article.text
    kept = keep_pages([told], tmp_path / "fetched")[0]
    assert load_file(kept.path)[0] == kept.article  # and read back offline, without the header, the same

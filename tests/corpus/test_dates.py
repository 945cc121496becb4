"""Publication dates: the forms read (a table), what is refused and how, and every loader's ``published`` as
``YYYY-MM-DD`` (sidecar, JSONL, HTML, Markdown front matter, a feed item's date)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from corpus.dates import lenient_date, parse_date
from corpus.loaders import load_file, load_paths
from corpus.web.feeds import parse_feed
from corpus.web.fetch import Fetched
from corpus.web.store import FeedContext, stage_page

BODY = "The harbour of Zorblatt opened on Monday. It cost 40 million euros."


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2017-08-01", "2017-08-01"),
        ("  2017-08-01\n", "2017-08-01"),
        ("2017-08-01T10:00:00Z", "2017-08-01"),
        ("2017-08-01T10:00:00.123+09:00", "2017-08-01"),
        ("2017-08-01T23:30:00-05:00", "2017-08-01"),  # the publisher's day, not UTC's (2017-08-02)
        ("2017-08-01 10:00", "2017-08-01"),
        ("20170801", "2017-08-01"),
        ("2017/8/1", "2017-08-01"),
        ("Tue, 01 Aug 2017 10:00:00 GMT", "2017-08-01"),
        ("Tue, 1 Aug 2017 22:00:00 -0400", "2017-08-01"),
        ("01 Aug 2017 10:00:00 +0000", "2017-08-01"),
        ("August 1, 2017", "2017-08-01"),
        ("Aug. 1, 2017", "2017-08-01"),
        ("aug 1st 2017", "2017-08-01"),
        ("Tuesday, August 1, 2017", "2017-08-01"),
        ("August 1, 2017 at 10:00 a.m. ET", "2017-08-01"),
        ("1 Aug 2017", "2017-08-01"),
        ("1 August, 2017", "2017-08-01"),
        ("Tuesday, 1 August 2017, 10:00 AM EDT", "2017-08-01"),
        ("Sept. 5, 2017", "2017-09-05"),
        (dt.date(2017, 8, 1), "2017-08-01"),
        (dt.datetime(2017, 8, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2017-08-01"),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_the_forms_read_as_a_day(value, day):
    assert parse_date(value) == day
    assert lenient_date(value) == day


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("next Tuesday", "not a date: 'next Tuesday' (write it as YYYY-MM-DD"),
        ("2017", "not a date: '2017'"),
        ("August 2017", "not a date: 'August 2017'"),
        ("2017-08-01 or so", "not a date: '2017-08-01 or so'"),
        ("Foo 1, 2017", "not a date"),
        ("2017-02-30", "not a date: '2017-02-30' (day is out of range for month)"),
        ("2017-13-01", "month must be in 1..12"),
        ("Feb 30, 2017", "day is out of range for month"),
        ("01/08/2017", "'01/08/2017' is ambiguous"),
        ("1.8.2017", "is ambiguous"),
        ("x" * 500, "not a date (500 characters of text)"),
        (20170801, "a date must be text, got int"),
    ],
)
def test_what_is_not_a_date_is_refused_with_the_value_quoted(value, reason):
    with pytest.raises(ValueError) as info:
        parse_date(value)
    assert reason in str(info.value)
    assert lenient_date(value) is None


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_a_sidecar_date_is_kept_as_a_day(tmp_path):
    article = write(tmp_path / "story.txt", BODY)
    write(tmp_path / "story.meta.json", json.dumps({"source": "Wire", "published": "Tue, 01 Aug 2017 10:00:00 GMT"}))
    [loaded] = load_file(article)
    assert (loaded.source, loaded.published) == ("Wire", "2017-08-01")


def test_a_sidecar_date_that_is_not_a_date_drops_its_article_naming_both_files_and_the_field(tmp_path):
    article = write(tmp_path / "story.txt", BODY)
    write(tmp_path / "story.meta.json", json.dumps({"published": "last week"}))
    report = load_paths([article])
    assert report.articles == []
    [error] = report.errors
    assert error.path == str(article)
    assert "story.meta.json: published: not a date: 'last week'" in error.reason


def test_jsonl_dates_are_days_and_a_bad_one_names_its_line_and_field(tmp_path):
    lines = [
        {"title": "A", "text": "First article text.", "published": "2017-08-01T10:00:00+02:00"},
        {"title": "B", "text": "Second article text.", "published": "August 2, 2017"},
        {"title": "C", "text": "Third article text.", "published": "the other day"},
        {"title": "D", "text": "Fourth article text.", "published": None},
    ]
    path = write(tmp_path / "news.jsonl", "\n".join(json.dumps(line) for line in lines))
    report = load_paths([path])
    assert [(a.title, a.published) for a in report.articles] == [("A", "2017-08-01"), ("B", "2017-08-02"), ("D", None)]
    [error] = report.errors
    assert str(error) == f"{path} line 3: published: not a date: 'the other day' " \
                         "(write it as YYYY-MM-DD; also read: ISO 8601 with a time, RFC 2822 " \
                         '"Tue, 01 Aug 2017 10:00:00 GMT", "August 1, 2017", "1 Aug 2017")'


@pytest.mark.parametrize(
    ("front", "day"),
    [
        ("date: 2017-08-01", "2017-08-01"),  # YAML: a datetime.date
        ("date: 2017-08-01 23:30:00-05:00", "2017-08-01"),  # YAML: an aware datetime, its own day kept
        ("published: 'August 1, 2017'", "2017-08-01"),
        ("published: Tue, 01 Aug 2017 10:00:00 GMT", "2017-08-01"),
        ("date: ''", None),
    ],
)
def test_markdown_front_matter_dates_are_days(tmp_path, front, day):
    [article] = load_file(write(tmp_path / "story.md", f"---\ntitle: Story\n{front}\n---\n{BODY}\n"))
    assert article.published == day


def test_a_front_matter_date_that_is_not_a_date_names_the_key(tmp_path):
    path = write(tmp_path / "story.md", f"---\ndate: sometime in spring\n---\n{BODY}\n")
    [error] = load_paths([path]).errors
    assert error.reason.startswith("front matter: date: not a date: 'sometime in spring'")


def test_an_html_page_date_is_a_day_in_the_publisher_s_offset(tmp_path):
    page = (
        "<html><head><title>Harbour opens | Zorblatt Times</title>"
        '<meta property="og:site_name" content="Zorblatt Times">'
        '<meta property="article:published_time" content="2017-08-01T23:30:00-05:00">'
        f"</head><body><article><h1>Harbour opens</h1><p>{BODY}</p><p>{BODY} Again, in other words.</p>"
        "</article></body></html>"
    )
    [article] = load_file(write(tmp_path / "page.html", page))
    assert (article.source, article.published) == ("Zorblatt Times", "2017-08-01")


def test_an_html_page_without_a_date_has_none(tmp_path):
    page = f"<html><head><title>Harbour</title></head><body><article><p>{BODY}</p></article></body></html>"
    [article] = load_file(write(tmp_path / "page.html", page))
    assert article.published is None


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Zorblatt Wire</title>
<item><title>A</title><link>http://127.0.0.1/a.html</link><pubDate>Tue, 01 Aug 2017 23:30:00 -0500</pubDate></item>
<item><title>B</title><link>http://127.0.0.1/b.html</link><pubDate>August 2, 2017</pubDate></item>
<item><title>C</title><link>http://127.0.0.1/c.html</link><pubDate>whenever</pubDate></item>
</channel></rss>"""


def test_feed_item_dates_give_the_publisher_s_day_or_none():
    feed = parse_feed(RSS.encode(), "http://127.0.0.1/feed.rss")
    assert [lenient_date(item.published) for item in feed.items] == ["2017-08-01", "2017-08-02", None]
    assert feed.items[0].published == "2017-08-01T23:30:00-05:00"


def test_a_feed_item_s_day_becomes_the_published_of_a_page_that_gives_none(tmp_path):
    body = f"<html><body><article><p>{BODY}</p><p>{BODY} Said again.</p></article></body></html>".encode()
    page = Fetched("http://127.0.0.1/a.html", "http://127.0.0.1/a.html", 200, "text/html", "utf-8", body,
                   "2024-05-01T12:00:00Z", ())
    staged = stage_page(page, tmp_path, FeedContext("http://127.0.0.1/feed.rss", "Zorblatt Wire", None,
                                                    "2017-08-01T23:30:00-05:00", "A"))
    assert (staged.article.source, staged.article.published) == ("Zorblatt Wire", "2017-08-01")
    assert staged.sidecar["published"] == "2017-08-01"
    assert staged.record["feed"]["published"] == "2017-08-01T23:30:00-05:00"  # the record keeps the feed's own

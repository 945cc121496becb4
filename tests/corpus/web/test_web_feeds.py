"""RSS and Atom through feedparser, from bytes: items, links, GUIDs, dates; what is not a feed; no fetching."""

from __future__ import annotations

import pytest
from local_site import FEEDS

from corpus.loaders.common import Failure
from corpus.web.feeds import parse_feed


def test_an_rss_2_feed():
    feed = parse_feed((FEEDS / "news.rss").read_bytes(), "http://news.example/feeds/world.rss", "application/rss+xml")
    assert (feed.title, feed.kind, len(feed.items)) == ("World Desk", "rss20", 3)
    first, second, third = feed.items
    assert second.link == "http://news.example/us/2013/11/27/weather-thanksgiving.html?ref=rss"
    assert second.guid == "world-desk-2013-11-27-weather-thanksgiving"
    assert second.title == "After storm, forecasters see smooth sailing for Thanksgiving"
    assert second.published == "2013-11-27T14:02:00Z"
    assert third.published == "2013-08-03T17:40:00+03:00"  # the publisher's offset is kept: its day is theirs
    assert first.title.startswith("ผล DNA")


def test_an_atom_feed_with_a_relative_link():
    feed = parse_feed((FEEDS / "news.atom").read_bytes(), "http://news.example/feeds/asia.atom")
    assert (feed.title, feed.kind, len(feed.items)) == ("Asia Desk", "atom10", 4)
    korea = feed.items[0]
    assert korea.link == "http://news.example/korea/2019/08/20/AEN20190820002300325.html"  # resolved
    assert korea.guid == "tag:news.example,2019-08-20:/korea/AEN20190820002300325"
    assert korea.published == "2019-08-20T07:12:00+09:00"  # published, not updated
    assert feed.items[2].published == "2018-06-18T12:00:00+09:00"  # only updated: taken


def test_what_is_not_a_feed_is_refused_with_the_reason():
    with pytest.raises(Failure, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body><p>A page, not a feed.</p></body></html>", "http://x/feed")
    with pytest.raises(Failure, match="not an RSS or Atom feed"):
        parse_feed(b"\x89PNG\r\n\x1a\n\x00\x00", "http://x/feed")


def test_an_empty_feed_has_no_items():
    feed = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>',
                      "http://x/feed")
    assert feed.title == "Quiet" and feed.items == ()


def test_a_feed_that_looks_like_a_url_or_names_external_entities_fetches_nothing(no_network):
    # bytes are never taken for a URL or a file name, and external entities are not loaded: the guard
    # (autouse) fails the test on any connection beyond loopback
    evil = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY ext SYSTEM "http://evil.example/x">]>'
            b'<rss version="2.0"><channel><title>T &ext;</title><item><link>http://a.example/1</link></item>'
            b'</channel></rss>')
    feed = parse_feed(evil, "http://x/feed")
    assert feed.items[0].link == "http://a.example/1" and "evil" not in (feed.title or "")
    with pytest.raises(Failure):
        parse_feed(b"http://evil.example/feed.rss", "http://x/feed")
    assert no_network == []

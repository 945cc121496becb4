"""One run's fetching (``collect``): pages and feeds from the local site, the errors named by URL, duplicates
in the run, the feeds' seen items skipped without being fetched, and the bound on items per run."""

from __future__ import annotations

import json

from local_site import serve_news

from corpus.web.batch import collect
from corpus.web.fetch import Fetcher, FetchPolicy
from corpus.web.seen import SEEN_FILE, SeenItems


def fetcher() -> Fetcher:
    return Fetcher(FetchPolicy(refuse_private=False))


def run(folder, urls=(), feeds=(), max_items=50):
    """One run as `qa add` does it, with every new page kept (there is no index here)."""
    seen = SeenItems(folder)
    batch = collect(urls, feeds, fetcher(), folder, seen, max_items)
    batch.keep(batch.articles)
    batch.remember(seen)
    return batch


def test_a_feed_read_twice_fetches_its_items_once(site, tmp_path):
    feeds = serve_news(site)
    folder = tmp_path / "fetched"
    first = run(folder, feeds=[feeds["world.rss"]])
    assert first.errors == [] and len(first.kept) == 3
    assert [(f.items, f.fetched, f.seen) for f in first.feeds] == [(3, 3, 0)]
    assert {k.article.source for k in first.kept} == {"CNN", "CNNArabic", "World Desk"}  # Prachatai: the feed's
    asked = len(site.requests)
    second = run(folder, feeds=[feeds["world.rss"]])
    assert [(f.items, f.fetched, f.seen) for f in second.feeds] == [(3, 0, 3)] and second.kept == []
    assert site.paths_asked()[asked:] == ["/robots.txt", "/feeds/world.rss"]  # no item fetched again
    state = json.loads((folder / SEEN_FILE).read_text())
    assert state["format"] == 1 and len(state["items"]) == 6  # each item by link and by GUID


def test_items_over_the_bound_wait_for_the_next_run(site, tmp_path):
    feeds = serve_news(site)
    folder = tmp_path / "fetched"
    first = run(folder, feeds=[feeds["asia.atom"]], max_items=2)
    assert [(f.fetched, f.seen, f.left) for f in first.feeds] == [(2, 0, 2)] and len(first.kept) == 2
    second = run(folder, feeds=[feeds["asia.atom"]], max_items=2)
    assert [(f.fetched, f.seen, f.left) for f in second.feeds] == [(2, 2, 0)] and len(second.kept) == 2
    titles = sorted(k.article.title[:12] for k in second.kept)  # the two items the first run left
    assert titles == ["After storm,", "動画：ナイジェリアで少女"]


def test_the_same_text_twice_in_a_run_is_a_duplicate(site, tmp_path):
    feeds = serve_news(site)
    batch = run(tmp_path / "fetched", feeds=[feeds["world.rss"], feeds["asia.atom"]])
    mirror = site.url("/mirror/weather-thanksgiving.html")
    assert batch.duplicates == [mirror]  # the Atom feed's second address of the CNN story
    assert len(batch.kept) == 6 and batch.errors == []
    assert sorted(f.url for f in batch.feeds) == sorted(feeds.values())


def test_a_failing_item_is_named_and_tried_again_next_run(site, tmp_path):
    feeds = serve_news(site)
    del site.routes["/middle-east/2013/08/03/syria-clashes.html"]  # the story was taken down: 404
    folder = tmp_path / "fetched"
    first = run(folder, feeds=[feeds["world.rss"]])
    gone = site.url("/middle-east/2013/08/03/syria-clashes.html")
    assert [str(e) for e in first.errors] == [f"{gone}: HTTP 404 Not Found"] and len(first.kept) == 2
    second = run(folder, feeds=[feeds["world.rss"]])
    assert [(f.fetched, f.seen) for f in second.feeds] == [(1, 2)]  # only the failed one is tried again


def test_pages_and_a_failing_feed_in_one_run(site, tmp_path):
    serve_news(site)
    page = site.url("/korea/2019/08/20/AEN20190820002300325.html")
    not_a_feed = site.url("/korea/2019/08/20/AEN20190820002300325.html")
    batch = run(tmp_path / "fetched", urls=[page], feeds=[site.url("/feeds/missing.rss"), not_a_feed])
    assert len(batch.kept) == 1 and batch.feeds == []
    reasons = [str(e) for e in batch.errors]
    assert reasons[0] == f"{site.url('/feeds/missing.rss')}: HTTP 404 Not Found"
    assert reasons[1].startswith(f"{not_a_feed}: wrong content type text/html: not an RSS or Atom feed")


def test_a_seen_file_that_cannot_be_read_is_said_and_set_aside(site, tmp_path):
    feeds = serve_news(site)
    folder = tmp_path / "fetched"
    folder.mkdir()
    (folder / SEEN_FILE).write_text("{not json", encoding="utf-8")
    seen = SeenItems(folder)
    assert seen.entries == {} and "could not be read" in seen.problem
    batch = run(folder, feeds=[feeds["world.rss"]])
    assert len(batch.kept) == 3
    assert len(json.loads((folder / SEEN_FILE).read_text())["items"]) == 6  # written anew, whole
    assert [p.name for p in folder.iterdir() if p.name.startswith(".tmp")] == []

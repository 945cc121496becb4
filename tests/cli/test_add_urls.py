"""`qa add URL …` and `qa add --feed URL` as a user runs them, against a web site on 127.0.0.1 serving the
saved real pages of tests/corpus/pages and two feeds; no connection may leave the loopback interface.

The commands run in-process (``cli.main.main``) on a copy of the default corpus and its index; the pages they
fetch are kept in ``fetched/`` inside that corpus folder (beside its ``uploads/``).
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus" / "web"))
from local_site import (  # noqa: F401  (fixtures)
    PAGES,
    LocalSite,
    Route,
    free_port,
    no_network_guard,
    serve_news,
    site_fixture,
)

from cli.main import main
from corpus.web.fetch import FetchPolicy
from corpus.web.store import read_record
from index.lifecycle import write_lock
from index.store import CURRENT, load_index

CNN_TITLE = "After storm, forecasters see smooth sailing for Thanksgiving"


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder):
    """Each command would load the embedding model again (seconds); hand it the session's copy instead."""
    monkeypatch.setattr("index.lifecycle.Embedder", lambda config: embedder)
    monkeypatch.setattr("qa.retriever.Embedder", lambda config: embedder)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def articles_by_url(index_dir: Path) -> dict[str, object]:
    return {a.url: a for a in load_index(index_dir).articles.values() if a.url}


def test_a_page_is_fetched_kept_beside_the_corpus_and_searchable(capsys, copy_index, corpus_copy, site):
    url = site.saved_page("/2013/11/27/travel/weather-thanksgiving/index.html", "cnn_article.html")
    code, out, err = run(capsys, "add", url, "--index", str(copy_index), "--quiet")
    assert code == 0, err
    article = articles_by_url(copy_index)[url]
    assert (article.title, article.source, article.published) == (CNN_TITLE, "CNN", "2013-11-27")  # the page's
    kept = Path(article.path)
    assert kept.parent == corpus_copy / "fetched" and kept.read_bytes() == (PAGES / "cnn_article.html").read_bytes()
    assert f"fetched {url}: “{CNN_TITLE}” -> {kept}" in out and "added 1 new article(s); now 3 articles" in out
    assert json.loads(kept.with_name(kept.stem + ".meta.json").read_text()) == {"url": url}
    record = read_record(kept)
    assert (record["url"], record["status"], record["content_type"]) == (url, 200, "text/html")
    assert record["fetched_at"].endswith("Z")
    ua = dict(site.requests[-1][1])["User-Agent"]
    assert ua.startswith("article-qa/") and "(+" in ua
    # searchable, and the index still matches its corpus folder (the kept files are recorded as its sources)
    code, out, _ = run(capsys, "search", "Thanksgiving travel weather forecast", "--index", str(copy_index),
                       "--json", "--k", "1")
    assert code == 0 and json.loads(out)["hits"][0]["article_id"] == article.id
    code, out, _ = run(capsys, "index", str(corpus_copy), "--index", str(copy_index), "--quiet")
    assert code == 0 and "is up to date" in out
    # the same page again: its text is in the index already, and no second copy is kept
    code, out, err = run(capsys, "add", url, "--index", str(copy_index), "--quiet")
    assert code == 0 and f"qa: skipped 1 duplicate(s): {url} (the same text is in the index already)" in err
    assert "added 0 new article(s); now 3 articles" in out and len(list(kept.parent.glob("*.html"))) == 1
    # answerable: the answer's citations come from the page
    code, out, _ = run(capsys, "ask", "What was the storm expected to do before Thanksgiving?", "--index",
                       str(copy_index), "--json", "--threshold", "0")
    assert code == 0 and json.loads(out)["citations"][0]["article_id"] == article.id


def test_files_and_urls_mix_and_every_failed_url_is_named_with_its_reason(capsys, copy_index, site, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr("cli.index_commands.FetchPolicy", functools.partial(FetchPolicy, read_timeout=0.5))
    monkeypatch.setenv("QA_MAX_ARTICLE_BYTES", "400000")
    story = tmp_path / "otters.txt"
    story.write_text("Otters hold hands\n\nSea otters hold hands while they sleep.\n", encoding="utf-8")
    good = site.saved_page("/news/fox13.html", "fox13now.html")
    site.page("/robots.txt", b"User-agent: *\nDisallow: /members/\n", "text/plain")
    site.saved_page("/members/yna.html", "yna_co_kr.html")
    for n in range(6):
        site.redirect(f"/loop/{n}", f"/loop/{n + 1}")
    failing = {
        site.url("/gone.html"): "HTTP 404 Not Found",
        site.route("/error.html", Route(500, b"", {"Content-Type": "text/html"})): "HTTP 500 Internal Server Error",
        site.page("/empty.html", b"<html><body><nav>Home | World</nav></body></html>"):
            "no text found in the HTML (only markup, scripts or navigation)",
        site.page("/photo.jpg", b"\xff\xd8\xff\xe0 JFIF", "image/jpeg"): "wrong content type image/jpeg: not a web page",
        site.page("/huge.html", b"<p>" + b"x" * 500_000 + b"</p>"): "too large (500,007 bytes declared; the limit is",
        site.url("/members/yna.html"): f"disallowed by robots.txt ({site.url('/robots.txt')})",
        site.url("/loop/0"): "too many redirects (more than 5)",
        site.route("/slow.html", Route(body=b"<p>late</p>", headers={"Content-Type": "text/html"}, delay=2)):
            "timed out waiting for a response",
        "http://news-site.invalid/story.html": "DNS failure: news-site.invalid not found",
        f"http://127.0.0.1:{free_port()}/story.html": "connection refused",
    }
    code, out, err = run(capsys, "add", str(story), good, *failing, "--index", str(copy_index), "--quiet")
    assert code == 1  # some skipped, the rest in
    for url, reason in failing.items():
        assert f"qa: skipped {url}: {reason}" in err, (url, err)
    assert "added 2 new article(s); now 4 articles" in out
    assert {a.title for a in load_index(copy_index).articles.values()} >= {"Otters hold hands",
                                                                          "New Year, new laws: Obamacare, pot, guns and drones"}


def test_nothing_fetched_means_exit_2_and_the_index_unchanged(capsys, copy_index, corpus_copy, site):
    before = (copy_index / CURRENT).read_text()
    code, out, err = run(capsys, "add", site.url("/gone.html"), "--index", str(copy_index), "--quiet")
    assert code == 2 and out == ""
    assert f"qa: skipped {site.url('/gone.html')}: HTTP 404 Not Found" in err
    assert "no article could be loaded; the index was not changed" in err
    assert (copy_index / CURRENT).read_text() == before
    assert not (corpus_copy / "fetched").exists() or not any((corpus_copy / "fetched").glob("*.html"))


def test_the_index_rebuilds_offline_from_what_was_fetched(capsys, copy_index, corpus_copy, tmp_path):
    from corpus.loaders import load_file

    lsm = load_file(PAGES / "lsm.windows-1257.html")[0]
    paragraph = lsm.text.split("\n\n")[1]
    latvian = (f"<html><head><title>{lsm.title}</title></head><body><article><p>{paragraph}</p></article>"
               f"</body></html>").encode("cp1257")  # declares no encoding: only the HTTP header says it
    with LocalSite() as site:
        urls = [
            site.saved_page("/a/cnn.html", "cnn_article.html"),
            site.page("/lv/landslide.html", latvian, "text/html; charset=windows-1257"),
            site.redirect("/short/afp", "/jp/afpbb.html"),
        ]
        site.saved_page("/jp/afpbb.html", "afpbb.shift_jis.html", "text/html")
        code, _, err = run(capsys, "add", *urls, "--index", str(copy_index), "--quiet")
        assert code == 0, err
        final = site.url("/jp/afpbb.html")
    fetched = {a.id: a for a in load_index(copy_index).articles.values()}
    assert {a.url for a in fetched.values()} >= {urls[0], urls[1], final}  # a redirect: the final URL
    landslide = next(a for a in fetched.values() if a.url == urls[1])
    assert paragraph in landslide.text  # read in the encoding the server gave
    # the server is gone; the index is rebuilt from the corpus folder alone
    code, _, err = run(capsys, "index", str(corpus_copy), "--index", str(copy_index), "--quiet", "--force")
    assert code == 0, err
    rebuilt = {a.id: a for a in load_index(copy_index).articles.values()}
    assert set(rebuilt) == set(fetched) and len(rebuilt) == 5
    for article_id, article in fetched.items():
        again = rebuilt[article_id]
        assert (again.title, again.url, again.source, again.published, again.text) == (
            article.title, article.url, article.source, article.published, article.text)


def test_a_feed_added_twice_adds_each_article_once(capsys, copy_index, site):
    feeds = serve_news(site)
    code, out, err = run(capsys, "add", "--feed", feeds["world.rss"], "--index", str(copy_index), "--quiet")
    assert code == 0, err
    assert f"feed “World Desk” {feeds['world.rss']}: 3 item(s): 3 new (fetched)" in out
    assert "added 3 new article(s); now 5 articles" in out
    by_url = articles_by_url(copy_index)
    thai = by_url[site.url("/thailand/2019/01/80642.html")]
    arabic = by_url[site.url("/middle-east/2013/08/03/syria-clashes.html")]
    assert thai.source == "World Desk"  # the page names no site: the feed's title
    assert arabic.published == "2013-08-03" and arabic.source == "CNNArabic"  # no date on the page: the item's
    asked = len(site.requests)
    code, out, err = run(capsys, "add", "--feed", feeds["world.rss"], "--index", str(copy_index), "--quiet")
    assert code == 0, err
    assert "3 item(s): 0 new, 3 seen before (skipped)" in out
    assert "nothing new to add; the index was not changed" in out
    assert len(load_index(copy_index).articles) == 5
    assert site.paths_asked()[asked:] == ["/robots.txt", "/feeds/world.rss"]  # no page fetched again
    # another feed with one of the same stories at a second address: seen by its text
    code, out, err = run(capsys, "add", "--feed", feeds["asia.atom"], "--index", str(copy_index), "--quiet")
    assert code == 0, err
    mirror = site.url("/mirror/weather-thanksgiving.html")
    assert f"qa: skipped 1 duplicate(s): {mirror} (the same text is in the index already)" in err
    assert "added 3 new article(s); now 8 articles" in out
    code, out, err = run(capsys, "add", "--feed", feeds["asia.atom"], "--feed", feeds["world.rss"],
                         "--index", str(copy_index), "--quiet")
    assert code == 0 and "4 item(s): 0 new, 4 seen before" in out and "3 item(s): 0 new, 3 seen before" in out


def test_max_items_bounds_a_run(capsys, copy_index, site):
    feeds = serve_news(site)
    code, out, _ = run(capsys, "add", "--feed", feeds["asia.atom"], "--max-items", "1", "--index", str(copy_index), "--quiet")
    assert code == 0 and "1 new (fetched), 3 more left for the next run (--max-items)" in out
    assert "added 1 new article(s)" in out
    code, out, _ = run(capsys, "add", "--feed", feeds["asia.atom"], "--max-items", "0", "--index", str(copy_index))
    assert code == 2


def test_a_feed_that_cannot_be_read_is_named(capsys, copy_index, site):
    page = site.saved_page("/news/yna.html", "yna_co_kr.html")
    code, _, err = run(capsys, "add", "--feed", page, "--index", str(copy_index), "--quiet")
    assert code == 2 and f"qa: skipped {page}: wrong content type text/html: not an RSS or Atom feed" in err
    feed = site.page("/feeds/fake.rss", b"<html><body><p>Moved.</p></body></html>", "application/rss+xml")
    code, _, err = run(capsys, "add", "--feed", feed, "--index", str(copy_index), "--quiet")
    assert code == 2 and f"qa: skipped {feed}: not an RSS or Atom feed" in err
    code, _, err = run(capsys, "add", site.page("/x.rss", b"<rss/>", "application/rss+xml"), "--index", str(copy_index))
    assert code == 2 and "(a feed? add it with --feed)" in err


def test_the_store_and_index_step_holds_the_write_lock(capsys, copy_index, corpus_copy, site):
    url = site.saved_page("/news/fox13.html", "fox13now.html")
    held, release = threading.Event(), threading.Event()

    def writer():
        with write_lock(copy_index):
            held.set()
            release.wait(30)

    other = threading.Thread(target=writer)
    other.start()
    try:
        held.wait(10)
        code, _, err = run(capsys, "add", url, "--index", str(copy_index), "--quiet", "--no-wait")
    finally:
        release.set()
        other.join()
    assert code == 1 and "is being written by" in err
    assert not any((corpus_copy / "fetched").glob("*.html"))  # nothing kept without the lock
    code, _, err = run(capsys, "add", url, "--index", str(copy_index), "--quiet")
    assert code == 0 and len(list((corpus_copy / "fetched").glob("*.html"))) == 1


def test_qa_add_needs_something_to_add(capsys, copy_index):
    code, _, err = run(capsys, "add", "--index", str(copy_index))
    assert code == 2 and "give the articles to add" in err

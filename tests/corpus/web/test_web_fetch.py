"""The fetcher against a real HTTP server on 127.0.0.1: what it sends, what it keeps, and every way it fails,
each failure naming the URL with its reason."""

from __future__ import annotations

import gzip
import shutil
import ssl
import subprocess

import pytest
from local_site import LocalSite, Route, free_port

from corpus.web.fetch import (
    FEED_TYPES,
    Fetcher,
    FetchFailed,
    FetchPolicy,
    checked_url,
    content_type,
    is_url,
)

ARTICLE = (b"<!doctype html><html><head><title>Otters hold hands | River News</title></head><body>"
           b"<nav>Home | World | Sport</nav><article><h1>Otters hold hands</h1>"
           + b"<p>Sea otters hold hands while they sleep so that they do not drift apart in the current.</p>" * 8
           + b"</article></body></html>")


def fetcher(**policy) -> Fetcher:
    return Fetcher(FetchPolicy(refuse_private=False, **policy))


def failure(url: str, **policy) -> str:
    with pytest.raises(FetchFailed) as caught:
        fetcher(**policy).fetch(url)
    assert str(caught.value).startswith(f"{url}: ")  # the URL is named
    return caught.value.reason


def test_a_page_is_fetched_with_a_clear_user_agent(site):
    url = site.page("/news/otters.html", ARTICLE, "text/html; charset=UTF-8")
    page = fetcher().fetch(url)
    assert (page.url, page.final_url, page.status) == (url, url, 200)
    assert (page.content_type, page.charset, page.body, page.suffix) == ("text/html", "UTF-8", ARTICLE, ".html")
    assert page.fetched_at.endswith("Z") and page.redirects == ()
    assert site.paths_asked() == ["/robots.txt", "/news/otters.html"]  # robots.txt first
    headers = site.requests[1][1]
    assert headers["User-Agent"].startswith("article-qa/") and "(+" in headers["User-Agent"]
    assert "text/html" in headers["Accept"]


def test_text_plain_is_an_article_and_a_gzip_body_is_unpacked(site):
    url = site.page("/story.txt", b"Headline\n\nBody text.\n", "text/plain; charset=utf-8")
    assert fetcher().fetch(url).suffix == ".txt"
    packed = site.route("/packed.html", Route(body=gzip.compress(ARTICLE),
                                              headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    assert fetcher().fetch(packed).body == ARTICLE


def test_a_page_without_a_content_type_is_taken_as_html_only_when_it_looks_like_html(site):
    assert fetcher().fetch(site.page("/untyped.html", ARTICLE, content_type="")).content_type == "text/html"
    reason = failure(site.page("/untyped.bin", b"\x89PNG\r\n\x1a\n....", content_type=""))
    assert reason == "no content type given, and it does not look like a web page"


def test_http_errors_are_named(site):
    assert failure(site.url("/gone.html")) == "HTTP 404 Not Found"
    broken = site.route("/broken.html", Route(500, b"oops", {"Content-Type": "text/html"}))
    assert failure(broken) == "HTTP 500 Internal Server Error"


def test_a_refused_connection_is_named():
    assert failure(f"http://127.0.0.1:{free_port()}/a.html") == "connection refused"


def test_a_name_that_does_not_resolve_is_a_dns_failure():
    reason = failure("http://no-such-news-site.invalid/story.html")
    assert reason.startswith("DNS failure: no-such-news-site.invalid not found")


def test_a_server_that_does_not_answer_times_out(site):
    slow = site.route("/slow.html", Route(body=ARTICLE, headers={"Content-Type": "text/html"}, delay=1.5))
    assert failure(slow, read_timeout=0.3).startswith("timed out waiting for a response")


def test_a_page_that_trickles_in_is_stopped_at_the_overall_deadline(site):
    drip = site.route("/drip.html", Route(body=ARTICLE * 3, headers={"Content-Type": "text/html"}, drip=0.2))
    assert failure(drip, read_timeout=2, total_timeout=0.5) == "timed out (the page took over 0.5 s)"


def test_a_page_over_the_size_limit_is_refused(site, monkeypatch):
    declared = site.page("/big.html", ARTICLE)
    assert failure(declared, max_bytes=100).startswith(f"too large ({len(ARTICLE):,} bytes declared; the limit is 100 bytes)")
    streamed = site.route("/big-stream.html", Route(body=ARTICLE, headers={"Content-Type": "text/html"}, length=False))
    assert failure(streamed, max_bytes=100).startswith("too large (over 100 bytes, the limit)")
    monkeypatch.setenv("QA_MAX_ARTICLE_BYTES", "200")  # the article size limit is the default limit
    assert "set QA_MAX_ARTICLE_BYTES" in failure(declared)
    bomb = site.route("/bomb.html", Route(body=gzip.compress(b" " * 100_000),
                                          headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    assert failure(bomb, max_bytes=1000).startswith("too large")  # counted unpacked


def test_a_wrong_content_type_is_refused_and_a_feed_gets_a_hint(site):
    image = site.page("/photo.png", b"\x89PNG....", "image/png")
    assert failure(image) == ("wrong content type image/png: not a web page "
                              "(application/xhtml+xml, text/html, text/plain)")
    feed = site.page("/news.rss", b"<rss/>", "application/rss+xml")
    assert failure(feed).endswith("(a feed? add it with --feed)")
    assert fetcher().fetch(feed, FEED_TYPES).content_type == "application/rss+xml"


def test_redirects_are_followed_up_to_the_limit(site):
    target = site.page("/final.html", ARTICLE)
    for n in range(5):  # /r0 -> /r1 -> ... -> /r4 -> /final.html: five redirects
        site.redirect(f"/r{n}", f"/r{n + 1}" if n < 4 else target, status=(301, 302, 303, 307, 308)[n])
    page = fetcher().fetch(site.url("/r0"))
    assert page.final_url == target and page.redirects == tuple(site.url(f"/r{n}") for n in range(5))
    site.redirect("/r-1", "/r0")  # six
    assert failure(site.url("/r-1")) == "too many redirects (more than 5)"
    assert failure(site.url("/r0"), max_redirects=2) == "too many redirects (more than 2)"


def test_a_redirect_may_only_lead_to_http_or_https(site):
    site.redirect("/to-file", "file:///etc/passwd")
    assert failure(site.url("/to-file")) == "redirected to file:///etc/passwd: not an http or https URL (scheme file)"
    site.redirect("/nowhere", "")
    assert failure(site.url("/nowhere")).startswith("a redirect without a Location")


def test_robots_txt_is_respected_and_read_once_per_host(site):
    site.page("/robots.txt", b"User-agent: *\nDisallow: /private/\n\nUser-agent: article-qa\nDisallow: /no-qa/\n",
              "text/plain")
    allowed = site.page("/news/a.html", ARTICLE)
    client = fetcher()
    client.fetch(allowed)
    client.fetch(allowed)
    assert site.paths_asked().count("/robots.txt") == 1
    site.page("/no-qa/a.html", ARTICLE)
    with pytest.raises(FetchFailed) as caught:
        client.fetch(site.url("/no-qa/a.html"))
    assert caught.value.reason == f"disallowed by robots.txt ({site.url('/robots.txt')})"
    assert "/no-qa/a.html" not in site.paths_asked()
    # a group naming our product token is the one that applies to us: the "*" group's rules do not
    assert client.fetch(site.page("/private/a.html", ARTICLE)).status == 200


def test_the_star_group_applies_when_none_names_us(site):
    site.page("/robots.txt", b"User-agent: SomeBot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n", "text/plain")
    assert failure(site.page("/private/a.html", ARTICLE)).startswith("disallowed by robots.txt")
    assert fetcher().fetch(site.page("/public/a.html", ARTICLE)).status == 200


def test_robots_txt_applies_to_the_target_of_a_redirect(site):
    site.page("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
    site.page("/private/a.html", ARTICLE)
    site.redirect("/go", "/private/a.html")
    reason = failure(site.url("/go"))
    assert reason == f"disallowed by robots.txt ({site.url('/robots.txt')}) (after a redirect to {site.url('/private/a.html')})"


def test_a_missing_robots_txt_allows_and_a_failing_one_disallows(site):
    url = site.page("/a.html", ARTICLE)
    assert fetcher().fetch(url).status == 200  # robots.txt: 404
    site.route("/robots.txt", Route(503, b"busy", {"Content-Type": "text/plain"}))
    reason = failure(url)
    assert reason.startswith("robots.txt unavailable (HTTP 503)")
    assert site.paths_asked().count("/a.html") == 1  # not fetched the second time


def test_only_http_and_https_urls_are_fetched():
    assert failure("ftp://example.com/a.html") == "not an http or https URL (scheme ftp)"
    assert failure("http:///a.html") == "not a valid URL (no host)"


def test_urls_are_told_from_paths_and_made_safe_to_request():
    assert is_url("https://example.com/a") and is_url("HTTP://x") and is_url("ftp://x")
    assert not is_url("corpus/articles") and not is_url("C:\\news\\a.html") and not is_url("a.html")
    assert checked_url("HTTPS://Example.com/a b?q=ü#top") == "https://example.com/a%20b?q=%C3%BC"
    assert checked_url("http://bücher.example/") == "http://xn--bcher-kva.example/"
    assert checked_url("http://example.com/a\r\nX-Injected: 1") == "http://example.com/aX-Injected:%201"  # no line break reaches a request


def test_content_type_headers_are_read():
    assert content_type("text/HTML; charset=\"Shift_JIS\"") == ("text/html", "Shift_JIS")
    assert content_type("application/xhtml+xml") == ("application/xhtml+xml", None)
    assert content_type(None) == (None, None)


def test_an_https_site_with_a_certificate_that_is_not_trusted_is_refused(tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl to make a certificate with")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site = LocalSite()
    site.server.socket = context.wrap_socket(site.server.socket, server_side=True)
    with site:
        site.page("/a.html", ARTICLE)
        url = f"https://127.0.0.1:{site.server.server_address[1]}/a.html"
        reason = failure(url)
    assert reason.startswith("TLS certificate not valid for 127.0.0.1 (self-signed certificate")
    assert site.requests == []

"""Adding article URLs (and feeds) from the chat, through ``ChatService.add_urls``: pages are fetched from a
local site on 127.0.0.1 (no other connection is allowed), kept in ``fetched/`` and indexed at once. Loopback,
private and link-local addresses are refused unless the server was started with ``--allow-private-urls``,
redirect targets included, and then nothing is kept; messages name the URL, never a server path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus" / "web"))
from local_site import no_network_guard, serve_news, site_fixture  # noqa: E402, F401  (fixtures)


@pytest.fixture
def service(service_factory, tmp_path):
    return service_factory(tmp_path)


def _kept(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _no_server_paths(result, tmp_path) -> None:
    for line in result.lines:
        assert str(tmp_path) not in line.message and str(tmp_path) not in line.name


def test_a_url_is_fetched_kept_and_indexed_when_private_urls_are_allowed(service, site, tmp_path):
    from index.lifecycle import open_index
    from index.store import IndexConfig

    service.allow_private_urls = True  # the site is on 127.0.0.1: `qa chat --allow-private-urls`
    url = site.saved_page("/news/weather.html", "cnn_article.html")
    before = set(service.index.articles)
    result = service.add_urls([url])
    assert [(line.name, line.ok) for line in result.lines] == [(url, True)], result.lines
    assert result.lines[0].message.startswith("added “") and "you can ask about it now" in result.lines[0].message
    assert result.added == 1
    new = [a for a in service.index.articles.values() if a.id not in before]
    assert len(new) == 1 and new[0].url == url
    kept = _kept(tmp_path / "fetched")
    assert any(p.suffix == ".html" for p in kept) and any(p.name.endswith(".meta.json") for p in kept)
    assert new[0].id in open_index(service.index_dir, IndexConfig()).articles  # the index on disk is current
    _no_server_paths(result, tmp_path)

    again = service.add_urls([url])  # the same page again: in the corpus already, nothing new kept
    assert again.added == 0 and again.lines[0].ok and again.lines[0].message.startswith("already in the corpus")
    assert _kept(tmp_path / "fetched") == kept


def test_by_default_a_loopback_url_is_refused_with_the_reason_and_nothing_is_kept(service, site, tmp_path):
    url = site.saved_page("/news/weather.html", "cnn_article.html")
    before = set(service.index.articles)
    version = service.index.version
    result = service.add_urls([url])
    assert len(result.lines) == 1 and result.lines[0].name == url and not result.lines[0].ok
    message = result.lines[0].message
    assert message.startswith("refused: ") and "loopback address" in message, message
    assert "start qa chat with --allow-private-urls to allow it" in message
    assert result.added == 0 and set(service.index.articles) == before and service.index.version == version
    assert _kept(tmp_path / "fetched") == []
    assert site.requests == []  # not even robots.txt was asked for
    _no_server_paths(result, tmp_path)


def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(service, site, tmp_path, monkeypatch):
    from corpus.web import addresses

    real = addresses.refusal
    # 127.0.0.1 stands for a public host here; its redirect goes to 127.0.0.2, a loopback address
    monkeypatch.setattr(addresses, "refusal", lambda a: None if a == "127.0.0.1" else real(a))
    target = f"http://127.0.0.2:{site.url('/').split(':')[2].split('/')[0]}/admin"
    site.saved_page("/fine.html", "cnn_article.html")
    fine = site.url("/fine.html")
    url = site.redirect("/moved.html", target)
    result = service.add_urls([url, fine])
    lines = {line.name: line for line in result.lines}
    assert lines[fine].ok and lines[fine].message.startswith("added")  # the allowed host's own page goes in
    bad = lines[url]
    assert not bad.ok and bad.message.startswith("refused: ") and "127.0.0.2" in bad.message
    assert "loopback" in bad.message and "--allow-private-urls" in bad.message
    assert "/admin" not in [path for path, _ in site.requests]
    assert not any("admin" in p.name for p in _kept(tmp_path / "fetched"))


def test_failures_name_the_url_and_a_feed_adds_its_new_items(service, site, tmp_path):
    service.allow_private_urls = True
    missing = site.url("/gone.html")
    result = service.add_urls([missing, "ftp://example.com/a"])
    assert [(line.name, line.ok) for line in result.lines] == [(missing, False), ("ftp://example.com/a", False)]
    assert "HTTP 404" in result.lines[0].message and "not an http or https URL" in result.lines[1].message
    assert result.added == 0 and _kept(tmp_path / "fetched") == []

    feeds = serve_news(site)
    added = service.add_urls([], [feeds["world.rss"]])
    assert added.added == 3, added.lines
    report = [line for line in added.lines if line.name == feeds["world.rss"]]
    assert report and report[0].ok and "3 fetched" in report[0].message
    again = service.add_urls([], [feeds["world.rss"]])  # read again: only what is new, nothing
    assert again.added == 0 and "3 seen before" in again.lines[-1].message
    _no_server_paths(added, tmp_path)


def test_too_many_urls_at_once_are_refused_before_fetching(service, site):
    from ui.service import MAX_URLS

    result = service.add_urls([site.url(f"/{i}.html") for i in range(MAX_URLS + 1)])
    assert not result.lines[0].ok and "too many" in result.lines[0].message and site.requests == []


def test_qa_chat_takes_allow_private_urls_off_by_default():
    from cli.main import build_parser
    from cli.options import options_from

    parser = build_parser()
    assert options_from(parser.parse_args(["chat"]).options, parser.parse_args(["chat"])).allow_private_urls is False
    ns = parser.parse_args(["chat", "--allow-private-urls"])
    assert options_from(ns.options, ns).allow_private_urls is True

"""Answers across sources in the real browser, over the articles of bench/data/cross_source (three stories, each
told by outlets that disagree on some facts): the chat lists each outlet's answer where they differ and counts
them where they agree, the JSON API returns the same alternatives as `qa ask --json`, and a source filter works
the same through the three. Fixtures and helpers (browser, page, ask) are those of test_browser.py; only the
app (``live``) is this module's own.

The questions are ones the shipped reader answers from both outlets above its threshold (bench.cross_source): the
transfer fee (£4.5 million in the Castlebridge Evening Post, £6 million in Coastline Sport) and the manager.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_browser import LOOPBACK, REQUESTS, TIMEOUT_MS, ask, browser, page  # noqa: F401  (fixtures reused)

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]

ARTICLES = Path(__file__).resolve().parents[2] / "bench" / "data" / "cross_source" / "articles.jsonl"
FEE = "How much did Castlebridge Rovers pay Halden Athletic for Jonas Ekberg?"
MANAGER = "Who is the manager of Castlebridge Rovers?"
POST, SPORT = "Castlebridge Evening Post", "Coastline Sport"


@dataclass
class Live:
    url: str
    service: object
    index_dir: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory, embedder, shared_reader):
    """The app over an index of the cross-source articles (a private copy), with the shipped reader."""
    # the span reader ships with the project: a fallback to the sentence reader here is a failure, not a skip
    assert getattr(shared_reader, "name", None) == "span", "the shipped span reader did not load"
    from corpus.loaders import load_paths
    from index.lifecycle import open_index
    from index.sources import describe_sources
    from index.store import IndexConfig, build_index, save_index
    from qa.answerer import Answerer
    from qa.retriever import RetrievalConfig, Retriever
    from ui.app import create_app, serve_in_thread
    from ui.service import ChatService

    work = tmp_path_factory.mktemp("ui-cross-source")
    articles = work / "articles" / "articles.jsonl"
    articles.parent.mkdir()
    shutil.copyfile(ARTICLES, articles)
    index_dir = work / "index"
    report = load_paths([articles])
    save_index(build_index(report.articles, embedder=embedder, progress=False, sources=describe_sources([articles])),
               index_dir)
    retriever = Retriever(open_index(index_dir, IndexConfig()), RetrievalConfig(), embedder=embedder)
    service = ChatService(Answerer(retriever, shared_reader), index_dir, uploads_dir=work / "uploads")
    server = serve_in_thread(create_app(service))
    yield Live(server.url, service, index_dir)
    server.stop()


def api_ask(url: str, payload: dict) -> dict:
    req = urllib.request.Request(url + "/api/ask", data=json.dumps(payload).encode("utf-8"),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=120) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def cli_ask(index_dir: Path, capsys, monkeypatch, embedder, *argv: str) -> dict:
    from cli.main import main

    monkeypatch.setattr("qa.answerer.Embedder", lambda config: embedder)  # the session's model, not a new load
    capsys.readouterr()
    code = main(["ask", *argv, "--index", str(index_dir), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_the_chat_lists_each_outlets_answer_where_they_differ(page, live):
    reply = ask(page, FEE)
    differ = reply.locator(".qa-differ")
    expect(differ).to_be_visible()
    assert differ.locator("p").first.inner_text() == "Sources differ:"
    items = differ.locator("li").all_inner_texts()
    assert any(i.startswith(f"{POST}, 2024-01-30: ") and "£4.5 million" in i for i in items), items
    assert any(i.startswith(f"{SPORT}, 2024-02-01: ") and "£6 million" in i for i in items), items
    assert "£" in reply.locator(".qa-answer strong").inner_text()
    # the API gives the same alternatives, in the same order, as the chat lists them
    body = api_ask(live.url, {"question": FEE})
    assert [f"{a['source']}, {a['published']}: {a['text']}" for a in body["alternatives"]] == [
        i.split(" [")[0].split(" (")[0] for i in items]


def test_the_api_the_cli_and_the_service_give_the_same_alternatives(live, capsys, monkeypatch, embedder):
    body = api_ask(live.url, {"question": FEE})
    direct = live.service.ask(FEE).answer.to_json_dict()
    cli = cli_ask(live.index_dir, capsys, monkeypatch, embedder, FEE)
    assert {a["source"] for a in body["alternatives"]} >= {POST, SPORT}
    assert not all(a["agrees"] for a in body["alternatives"])
    for other in (direct, cli):
        assert other["answer"] == body["answer"]
        assert [{k: v for k, v in a.items() if k != "confidence"} for a in other["alternatives"]] == [
            {k: v for k, v in a.items() if k != "confidence"} for a in body["alternatives"]]
        for mine, theirs in zip(other["alternatives"], body["alternatives"]):
            assert mine["confidence"] == pytest.approx(theirs["confidence"], abs=2e-3)


def test_the_chat_counts_outlets_that_agree(page, live):
    reply = ask(page, MANAGER)
    assert "Sean Gallagher" in reply.locator(".qa-answer strong").inner_text()
    expect(reply.locator(".qa-agree")).to_have_text("2 sources agree.")
    assert reply.locator(".qa-differ").count() == 0
    body = api_ask(live.url, {"question": MANAGER})
    assert len(body["alternatives"]) == 2 and all(a["agrees"] for a in body["alternatives"])


def test_a_source_filter_leaves_one_outlet_in_the_chat_the_api_and_the_cli(page, live, capsys, monkeypatch, embedder):
    page.click("#qa-sources input")
    page.get_by_role("option", name=SPORT).click()
    page.keyboard.press("Escape")
    reply = ask(page, FEE)
    assert reply.locator(".qa-scope").inner_text() == f"Only articles matching: source {SPORT}"
    assert "£6 million" in reply.locator(".qa-answer strong").inner_text()
    assert reply.locator(".qa-differ").count() == 0 and reply.locator(".qa-agree").count() == 0
    assert set(reply.locator("details.qa-cite .qa-source").all_inner_texts()) == {SPORT}
    body = api_ask(live.url, {"question": FEE, "sources": [SPORT]})
    cli = cli_ask(live.index_dir, capsys, monkeypatch, embedder, FEE, "--source", SPORT)
    for answer in (body, cli):
        assert "£6 million" in answer["answer"] and "alternatives" not in answer
        assert {c["source"] for c in answer["citations"]} == {SPORT}


def test_no_request_leaves_the_machine():
    """Every request the pages of this module (and any before) made went to an app on loopback (run last)."""
    assert REQUESTS
    outside = sorted({u for u in REQUESTS if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOOPBACK})
    assert outside == []

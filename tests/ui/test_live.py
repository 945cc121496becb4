"""The JSON API over a real server and the real answerer, with urllib (no browser)."""

import json
import urllib.error
import urllib.request

GOLD_QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the “China responsibility theory”?"


def _post(url: str, payload) -> tuple[int, dict]:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    req = urllib.request.Request(url + "/api/ask", data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _without_latency(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "latency_ms"}


def test_ask_returns_the_answer_json(live):
    status, body = _post(live.url, {"question": GOLD_QUESTION, "k": 3, "mode": "hybrid"})
    assert status == 200
    assert list(body) == ["question", "answer", "abstained", "confidence", "sentence", "answer_span", "citations", "mode", "latency_ms"]
    assert body["question"] == GOLD_QUESTION
    assert not body["abstained"] and "Geng Shuang" in body["answer"]
    article = live.service.index.articles[body["answer_span"]["article_id"]]
    assert article.text[body["answer_span"]["start"] : body["answer_span"]["end"]] == body["answer"]
    assert [c["n"] for c in body["citations"]] == [1, 2, 3]
    assert set(body["citations"][0]) == {"n", "article_id", "title", "source", "published", "url", "start", "end", "text", "score"}
    # the same answer as asking the answerer directly
    direct = live.service.ask(GOLD_QUESTION, k=3, mode="hybrid").answer.to_json_dict()
    assert _without_latency(body) == _without_latency(direct)


def test_modes_and_k(live):
    for mode in ("dense", "bm25"):
        status, body = _post(live.url, {"question": GOLD_QUESTION, "mode": mode, "k": 2})
        assert status == 200 and body["mode"] == mode and len(body["citations"]) == 2


def test_unanswerable_question_abstains_and_still_cites(live):
    status, body = _post(live.url, {"question": "Who is China’s ambassador to the United States?"})
    assert status == 200
    if body["abstained"]:  # the reader decides; when it abstains the shape must be this
        assert body["answer"] is None and body["answer_span"] is None
    assert body["citations"]


def test_bad_input_gets_400_json(live):
    for payload in ({}, {"question": ""}, {"question": "Who?", "mode": "fuzzy"}, {"question": "Who?", "k": 0},
                    {"question": "Who?", "k": 51}, b"{oops"):
        status, body = _post(live.url, payload)
        assert status == 400, payload
        assert body["error"], payload


TRADE_QUESTION = "How much of North Korea's foreign trade does China account for?"


def test_one_filtered_question_gets_the_same_answer_through_the_cli_the_api_and_the_chat(live, monkeypatch, capsys, embedder):
    from cli.main import main
    from ui.app import answer_turn

    unfiltered = live.service.ask(TRADE_QUESTION).answer
    assert any(c.source != "ThinkProgress" for c in unfiltered.citations)  # so the filter has work to do
    status, api = _post(live.url, {"question": TRADE_QUESTION, "sources": ["ThinkProgress"]})
    assert status == 200

    class Recording:  # the chat's service, keeping the reply it rendered
        replies = []

        def ask(self, *args, **kwargs):
            self.replies.append(live.service.ask(*args, **kwargs))
            return self.replies[-1]

    _, history, _ = answer_turn(Recording(), TRADE_QUESTION, [], [], "hybrid", 5, ["ThinkProgress"], "", "")
    chat = Recording.replies[0].answer.to_json_dict()
    monkeypatch.setattr("qa.answerer.Embedder", lambda config: embedder)  # the session's model, not a second load
    code = main(["ask", TRADE_QUESTION, "--index", str(live.service.index_dir), "--source", "thinkprogress", "--json"])
    assert code == 0
    cli = json.loads(capsys.readouterr().out)
    assert _without_latency(api) == _without_latency(chat) == _without_latency(cli)
    assert len(api["citations"]) == 5 and {c["source"] for c in api["citations"]} == {"ThinkProgress"}
    shown = history[1]["content"]
    assert shown.count('<span class="qa-source">ThinkProgress</span>') == 5
    assert "Only articles matching: source ThinkProgress" in shown


def test_filters_no_article_matches_get_a_400_with_the_reason(live):
    status, body = _post(live.url, {"question": TRADE_QUESTION, "since": "2017-01-01"})
    assert status == 400
    assert body == {"error": "no article matches the filters: published on or after 2017-01-01 "
                             "(no article in the index has a date)"}

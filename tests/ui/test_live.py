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
    assert set(body["citations"][0]) == {"n", "article_id", "title", "source", "start", "end", "text", "score"}
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

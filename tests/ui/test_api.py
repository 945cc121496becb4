"""The JSON endpoint's input checks and status codes (a stand-in service: no model is loaded here).

The same endpoint over the real answerer and a real server is tested in test_live.py."""

import base64
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qa.types import Answer, Citation
from ui.api import (
    K_RANGE,
    MAX_BODY_BYTES,
    ApiError,
    add_api_routes,
    check_basic_auth,
    parse_ask,
)
from ui.service import Reply


def test_parse_ask_accepts_question_k_and_mode():
    req = parse_ask(json.dumps({"question": "  Who?  ", "k": 3, "mode": "bm25"}).encode())
    assert (req.question, req.k, req.mode) == ("Who?", 3, "bm25")
    assert parse_ask(b'{"question": "Who?"}').k is None
    assert parse_ask(b'{"question": "Who?", "k": 5.0}').k == 5


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "JSON object"),
        (b"not json", "JSON object"),
        (b"\xff\xfe", "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b"{}", 'missing "question"'),
        (b'{"question": null}', 'missing "question"'),
        (b'{"question": 42}', "must be a string"),
        (b'{"question": "   "}', "empty"),
        (b'{"question": "Who?", "k": 0}', '"k" must be from 1 to 50'),
        (b'{"question": "Who?", "k": 51}', '"k" must be from 1 to 50'),
        (b'{"question": "Who?", "k": -3}', '"k" must be from 1 to 50'),
        (b'{"question": "Who?", "k": "5"}', '"k" must be an integer'),
        (b'{"question": "Who?", "k": 2.5}', '"k" must be an integer'),
        (b'{"question": "Who?", "k": true}', '"k" must be an integer'),
        (b'{"question": "Who?", "mode": "magic"}', '"mode" must be one of hybrid, dense, bm25'),
        (b'{"question": "Who?", "mode": 1}', '"mode" must be one of'),
        (b'{"question": "Who?", "kk": 1}', "unknown field"),
    ],
)
def test_parse_ask_rejects_bad_input_with_400(body, message):
    with pytest.raises(ApiError) as info:
        parse_ask(body)
    assert info.value.status == 400
    assert message in info.value.message


def test_parse_ask_rejects_a_huge_body_with_413():
    with pytest.raises(ApiError) as info:
        parse_ask(b'{"question": "' + b"a" * MAX_BODY_BYTES + b'"}')
    assert info.value.status == 413


def test_basic_auth():
    creds = ("me", "s3:cret")
    good = "Basic " + base64.b64encode(b"me:s3:cret").decode()
    assert check_basic_auth(None, None)
    assert check_basic_auth(good, creds)
    assert not check_basic_auth(None, creds)
    assert not check_basic_auth("Basic " + base64.b64encode(b"me:wrong").decode(), creds)
    assert not check_basic_auth("Basic !!!", creds)
    assert not check_basic_auth("Bearer x", creds)


class StubService:
    def __init__(self):
        self.calls = []

        class Index:
            articles = {"a1": None}
            chunks = [1, 2]

        self.index = Index()

    def ask(self, question, k=None, mode=None, retrieval_query=None):
        self.calls.append((question, k, mode))
        if question == "explode":
            raise ValueError("the answerer said no")
        cite = Citation(1, "a1", "Title", None, 0, 11, "Geng Shuang", 0.5)
        return Reply(Answer(question, "Geng Shuang", False, 0.9, "Geng Shuang", ("a1", 0, 11), [cite], mode or "hybrid", 1.0))


def _client(credentials=None):
    service = StubService()
    app = FastAPI()
    add_api_routes(app, service, credentials)
    return TestClient(app), service


def test_endpoint_returns_the_answer_json():
    client, service = _client()
    r = client.post("/api/ask", json={"question": "Who?", "k": 3, "mode": "dense"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"question", "answer", "abstained", "confidence", "sentence", "answer_span", "citations", "mode", "latency_ms"}
    assert body["answer"] == "Geng Shuang" and body["answer_span"] == {"article_id": "a1", "start": 0, "end": 11}
    assert body["citations"][0]["n"] == 1
    assert service.calls == [("Who?", 3, "dense")]


@pytest.mark.parametrize(
    "payload", [{}, {"question": ""}, {"question": "Who?", "mode": "x"}, {"question": "Who?", "k": 0}, {"question": "Who?", "k": K_RANGE[1] + 1}]
)
def test_endpoint_400_is_json(payload):
    client, service = _client()
    r = client.post("/api/ask", json=payload)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert isinstance(r.json()["error"], str) and r.json()["error"]
    assert service.calls == []


def test_endpoint_400_for_invalid_json_and_for_the_answerers_own_refusal():
    client, _ = _client()
    r = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = client.post("/api/ask", json={"question": "explode"})
    assert r.status_code == 400 and r.json() == {"error": "the answerer said no"}


def test_endpoint_wants_the_password_when_the_app_has_one():
    client, service = _client(("me", "pw"))
    r = client.post("/api/ask", json={"question": "Who?"})
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    r = client.post("/api/ask", json={"question": "Who?"}, auth=("me", "pw"))
    assert r.status_code == 200
    assert client.get("/api/health", auth=("me", "pw")).json()["articles"] == 1

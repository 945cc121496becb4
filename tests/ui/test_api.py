"""The JSON endpoint's input checks and status codes (a stand-in service: no model is loaded here).

The same endpoint over the real answerer and a real server is tested in test_live.py."""

import asyncio
import base64
import contextlib
import json
import socket

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qa.filters import ArticleFilter, NoMatchingArticles
from qa.types import Answer, Citation
from ui.api import (
    K_RANGE,
    MAX_BODY_BYTES,
    ApiError,
    add_api_routes,
    check_basic_auth,
    parse_ask,
)
from ui.app import serve_in_thread
from ui.login_limit import FailedLogins
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
        (b'{"question": "Who?", "sources": "CNN"}', '"sources" must be a list of source names'),
        (b'{"question": "Who?", "sources": ["CNN", 3]}', '"sources" must be a list of source names'),
        (b'{"question": "Who?", "sources": [""]}', '"sources": \'\' is not a source name'),
        (b'{"question": "Who?", "since": "2017-8-1"}', '"since" must be a date as YYYY-MM-DD (got \'2017-8-1\')'),
        (b'{"question": "Who?", "since": "yesterday"}', '"since" must be a date as YYYY-MM-DD'),
        (b'{"question": "Who?", "until": "2017-02-30"}', "day is out of range for month"),
        (b'{"question": "Who?", "until": 20170801}', '"until" must be a date as a string "YYYY-MM-DD"'),
        (b'{"question": "Who?", "since": ["2017-08-01"]}', '"since" must be a date as a string'),
        (b'{"question": "Who?", "since": "2017-09-01", "until": "2017-08-01"}',
         '"since" 2017-09-01 is after "until" 2017-08-01'),
    ],
)
def test_parse_ask_rejects_bad_input_with_400(body, message):
    with pytest.raises(ApiError) as info:
        parse_ask(body)
    assert info.value.status == 400
    assert message in info.value.message


def test_parse_ask_reads_the_filters():
    req = parse_ask(json.dumps({"question": "Who?", "sources": ["CNN", "Reuters"], "since": "2017-08-01",
                                "until": "2017-08-31"}).encode())
    assert req.filters == ArticleFilter.parse(["CNN", "Reuters"], "2017-08-01", "2017-08-31")
    assert parse_ask(b'{"question": "Who?"}').filters is None
    assert parse_ask(b'{"question": "Who?", "sources": [], "since": null, "until": ""}').filters is None


def test_unknown_fields_name_the_allowed_ones_filters_included():
    with pytest.raises(ApiError) as info:
        parse_ask(b'{"question": "Who?", "source": ["CNN"]}')
    assert info.value.message == "unknown field(s): source (allowed: question, k, mode, sources, since, until)"


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

    def ask(self, question, k=None, mode=None, retrieval_query=None, filters=None):
        self.calls.append((question, k, mode) if filters is None else (question, k, mode, filters))
        if question == "explode":
            raise ValueError("the answerer said no")
        if filters is not None and "Reuters" in filters.sources:
            raise NoMatchingArticles("no article matches the filters: source Reuters (sources in the index: CNN)")
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


def test_endpoint_passes_the_filters_and_a_filter_nothing_matches_is_a_400_with_the_reason():
    client, service = _client()
    r = client.post("/api/ask", json={"question": "Who?", "sources": ["CNN"], "since": "2017-08-01"})
    assert r.status_code == 200
    assert service.calls == [("Who?", None, None, ArticleFilter.parse(["CNN"], "2017-08-01"))]
    r = client.post("/api/ask", json={"question": "Who?", "sources": ["Reuters"]})
    assert r.status_code == 400
    assert r.json() == {"error": "no article matches the filters: source Reuters (sources in the index: CNN)"}
    r = client.post("/api/ask", json={"question": "Who?", "until": "31/08/2017"})
    assert r.status_code == 400 and r.json()["error"].startswith('"until" must be a date as YYYY-MM-DD')
    assert len(service.calls) == 2  # the bad day never reached the answerer


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


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"question": "\\ud800 who"}', "lone surrogate"),  # was a 500 (the tokenizer's TypeError)
        (b'{"question": "who", "k": ' + b"9" * 5000 + b"}", '"k" must be from 1 to 50 (got a 5000-digit number)'),  # was a 500
        (b'{"question": "who", "k": -' + b"9" * 40 + b"}", '"k" must be from 1 to 50'),
        (b'{"question": "?!? ..."}', "only punctuation"),  # was answered
        (b'{"question": "' + b"who " * 600 + b'"}', "too long"),
        (b"[" * 50_000, "JSON object"),  # RecursionError in the decoder: was a 500
        (b'{"question": 1' + b"0" * 40 + b"}", "must be a string"),
        (b'{"question": "Who?", "mode": ["bm25"]}', '"mode" must be one of'),
    ],
)
def test_parse_ask_refuses_what_used_to_crash_with_a_clear_400(body, message):
    with pytest.raises(ApiError) as info:
        parse_ask(body)
    assert info.value.status == 400 and message in info.value.message


def _post(app, headers: list[tuple[bytes, bytes]], chunk: bytes, n_chunks: int) -> tuple[int, int]:
    """POST /api/ask straight into the ASGI app, the body streamed in ``n_chunks`` chunks: (status, chunks the
    app pulled)."""
    pulled = 0

    async def receive():
        nonlocal pulled
        if pulled < n_chunks:
            pulled += 1
            return {"type": "http.request", "body": chunk, "more_body": pulled < n_chunks}
        return {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/ask", "raw_path": b"/api/ask", "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], pulled


def _stub_app():
    app = FastAPI()
    add_api_routes(app, StubService())
    return app


def test_a_chunked_body_of_megabytes_is_refused_after_reading_at_most_the_limit():
    """Issue 15: the 64 KB limit was checked after the whole body was read (a 400 MB POST grew the server by
    700 MB before its 413). Now reading stops as soon as the limit is passed."""
    chunk = b"x" * 65_536
    status, pulled = _post(_stub_app(), [(b"content-type", b"application/json")], chunk, 100)  # 6.5 MB
    assert status == 413
    assert pulled * len(chunk) <= MAX_BODY_BYTES + len(chunk)  # was all 100 chunks


def test_a_declared_oversized_body_is_refused_before_reading_any_of_it():
    headers = [(b"content-type", b"application/json"), (b"content-length", b"400000000")]
    status, pulled = _post(_stub_app(), headers, b"x" * 65_536, 200)
    assert (status, pulled) == (413, 0)
    status, _ = _post(_stub_app(), [(b"content-length", b"12abc")], b"{}", 1)
    assert status == 400


def test_a_small_streamed_body_is_read_whole_and_answered():
    body = json.dumps({"question": "Who is the spokesman?", "k": 2}).encode()
    parts = [body[i : i + 7] for i in range(0, len(body), 7)]  # chunked, no Content-Length
    client, service = _client()
    assert client.post("/api/ask", content=iter(parts), headers={"content-type": "application/json"}).status_code == 200
    assert service.calls == [("Who is the spokesman?", 2, None)]


def test_a_real_server_refuses_a_chunked_upload_of_megabytes_having_read_at_most_the_limit():
    """The same over a socket, through uvicorn: the client streams 8 MB; the app reads at most the limit."""
    read = {"bytes": 0}
    inner = _stub_app()

    async def counting(scope, receive, send):
        async def counted():
            message = await receive()
            read["bytes"] += len(message.get("body", b""))
            return message

        await inner(scope, counted, send)

    server = serve_in_thread(counting)
    try:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"x" * 65_536
            framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            with contextlib.suppress(OSError):  # the server may close before the client is done sending
                for _ in range(128):
                    sock.sendall(framed)
            response = sock.recv(4096)
    finally:
        server.stop()
    assert response.startswith(b"HTTP/1.1 413")
    assert read["bytes"] <= MAX_BODY_BYTES + 65_536


def test_failed_logins_are_limited_per_client_then_429():
    now = [0.0]
    logins = FailedLogins(limit=10, window_s=60.0, clock=lambda: now[0])
    app = FastAPI()
    add_api_routes(app, StubService(), ("me", "pw"), logins)
    client, other = TestClient(app), TestClient(app, client=("10.9.8.7", 1234))
    payload = {"question": "Who?"}
    for _ in range(5):  # no credentials at all: not a login attempt, not counted
        assert client.post("/api/ask", json=payload).status_code == 401
    for _ in range(10):
        assert client.post("/api/ask", json=payload, auth=("me", "guess")).status_code == 401
    r = client.post("/api/ask", json=payload, auth=("me", "pw"))  # even the right password waits
    assert r.status_code == 429 and r.headers["retry-after"] == "60" and "too many failed logins" in r.json()["error"]
    assert client.get("/api/health", auth=("me", "pw")).status_code == 429
    assert other.post("/api/ask", json=payload, auth=("me", "pw")).status_code == 200  # another address is not held
    now[0] = 61.0  # the failures have aged out of the window
    assert client.post("/api/ask", json=payload, auth=("me", "pw")).status_code == 200

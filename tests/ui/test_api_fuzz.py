"""Fuzzing ``POST /api/ask`` of the whole app (chat + API, in-process) over the real answerer: whatever the body,
the answer is 200, 400 or 413 with JSON, never a 500 (issue 15: a lone surrogate in the question and a
5,000-digit ``k`` were 500s)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ANSWER_KEYS = {"question", "answer", "abstained", "confidence", "sentence", "answer_span", "citations", "mode", "latency_ms"}

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
CHARACTERS = st.one_of(st.characters(), SURROGATES, st.sampled_from(list("?!.,;:-…«» \t\n\x00\x1b")))
QUESTIONS = st.one_of(
    st.text(CHARACTERS, max_size=40),
    st.sampled_from(["Who is Geng Shuang?", "?!?", "   ", "\ud800", "who \udcff\udcfe", "x" * 2001, "Who? " * 300]),
    st.integers(), st.none(), st.booleans(), st.lists(st.text(max_size=3), max_size=2),
)
KS = st.one_of(
    st.integers(-100, 100), st.integers(min_value=-(10**40), max_value=10**40), st.floats(), st.text(max_size=4),
    st.booleans(), st.none(), st.integers(min_value=10**30, max_value=10**400),
)
MODES = st.one_of(st.sampled_from(["hybrid", "dense", "bm25", "HYBRID", ""]), st.text(max_size=5), st.integers(), st.none())
NAMES = st.one_of(st.sampled_from(["ThinkProgress", "thinkprogress", "CNN", "", " "]), st.text(CHARACTERS, max_size=6),
                  st.integers(), st.none())
SOURCES = st.one_of(st.lists(NAMES, max_size=3), NAMES)
DAYS = st.one_of(st.sampled_from(["2017-08-01", "2017-02-30", "2017-8-1", "August 1, 2017", "", "\ud800"]),
                 st.text(CHARACTERS, max_size=10), st.integers(), st.floats(), st.none(), st.lists(st.none(), max_size=1))
OBJECTS = st.fixed_dictionaries({"question": QUESTIONS}, optional={"k": KS, "mode": MODES, "other": st.integers(),
                                                                   "sources": SOURCES, "since": DAYS, "until": DAYS})
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.floats() | st.text(CHARACTERS, max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)


def encode(value, ascii_only: bool) -> bytes:
    """JSON text of ``value``: ASCII (surrogates as \\u escapes), or UTF-8 with raw surrogates as CESU bytes."""
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


BODIES = st.one_of(
    st.builds(encode, OBJECTS, st.booleans()),
    st.builds(encode, JSON_VALUES, st.booleans()),
    st.binary(max_size=64),
    st.just(b'{"question": "who", "k": ' + b"9" * 5000 + b"}"),
    st.just(b"[" * 10_000),
)


@pytest.fixture(scope="module")
def client(service_factory, tmp_path_factory):
    from ui.app import create_app

    with TestClient(create_app(service_factory(tmp_path_factory.mktemp("api-fuzz")))) as c:
        yield c


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES)
def test_no_body_gets_a_500(client, body):
    r = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code in (200, 400, 413), (body[:200], r.status_code, r.text[:300])
    data = r.json()
    if r.status_code == 200:
        assert set(data) >= ANSWER_KEYS and isinstance(data["citations"], list)
    else:
        assert isinstance(data["error"], str) and data["error"] and "Traceback" not in data["error"]

"""With --auth the chat wants the login and the JSON API wants the same user and password."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(service_factory, tmp_path_factory):
    from ui.app import create_app

    service = service_factory(tmp_path_factory.mktemp("ui-auth"))
    with TestClient(create_app(service, ("reader", "s3cret"))) as c:
        yield c


def test_api_needs_the_password(client):
    payload = {"question": "Who is the director of China Policy at the Center for American Progress?"}
    assert client.post("/api/ask", json=payload).status_code == 401
    assert client.post("/api/ask", json=payload, auth=("reader", "wrong")).status_code == 401
    r = client.post("/api/ask", json=payload, auth=("reader", "s3cret"))
    assert r.status_code == 200 and "Melanie Hart" in (r.json()["answer"] or r.json()["citations"][0]["text"])


def test_chat_needs_the_login(client):
    assert client.get("/config").status_code == 401
    r = client.post("/login", data={"username": "reader", "password": "wrong"})
    assert r.status_code >= 400
    r = client.post("/login", data={"username": "reader", "password": "s3cret"})
    assert r.status_code == 200
    assert client.get("/config").status_code == 200

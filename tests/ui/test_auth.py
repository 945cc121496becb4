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


SCHEMA_ROUTES = ["/openapi.json", "/docs", "/redoc", "/gradio_api/openapi.json", "/gradio_api/info", "/config"]


@pytest.mark.parametrize("path", SCHEMA_ROUTES)
def test_no_api_schema_is_served_without_the_login(client, path):
    """Issue 15: with --auth, /openapi.json (Gradio's own app: every route) was served to anyone."""
    anonymous = TestClient(client.app, client=("10.0.0.1", 1))
    r = anonymous.get(path)
    assert r.status_code in (401, 404), (path, r.status_code)
    assert "paths" not in r.text and "named_endpoints" not in r.text


def test_the_apps_openapi_schema_is_not_served_even_after_the_login(client):
    assert client.post("/login", data={"username": "reader", "password": "s3cret"}).status_code == 200
    assert client.get("/openapi.json").status_code == 404  # (Gradio's /gradio_api/ ones are behind the login)


def test_failed_logins_on_the_form_are_limited_per_client(client):
    guesser = TestClient(client.app, client=("10.0.0.66", 4321))
    for _ in range(10):
        assert guesser.post("/login", data={"username": "reader", "password": "guess"}).status_code == 400
    r = guesser.post("/login", data={"username": "reader", "password": "s3cret"})
    assert r.status_code == 429 and "too many failed logins" in r.json()["error"] and int(r.headers["retry-after"]) > 0
    # the API shares the count: the same address is held there too
    payload = {"question": "Who is the director of China Policy at the Center for American Progress?"}
    assert guesser.post("/api/ask", json=payload, auth=("reader", "s3cret")).status_code == 429
    other = TestClient(client.app, client=("10.0.0.67", 4321))
    assert other.post("/login", data={"username": "reader", "password": "s3cret"}).status_code == 200

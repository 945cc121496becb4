"""`qa chat` start-up rules: loopback by default, a password (or --insecure) for any other address."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.app import check_exposure, is_loopback, parse_auth, serve
from ui.options import ChatOptions

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses(host):
    assert is_loopback(host)
    assert check_exposure(host, None, insecure=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", ""])
def test_other_addresses_need_a_password_or_insecure(host):
    assert not is_loopback(host)
    problem = check_exposure(host, None, insecure=False)
    assert problem and "--auth" in problem and "--insecure" in problem
    assert check_exposure(host, ("u", "p"), insecure=False) is None
    assert check_exposure(host, None, insecure=True) is None


def test_parse_auth():
    assert parse_auth(None) is None and parse_auth("") is None
    assert parse_auth("me:pa:ss") == ("me", "pa:ss")
    for bad in ("me", "me:", ":pw"):
        with pytest.raises(ValueError):
            parse_auth(bad)


def _options(**kw):
    return ChatOptions(Path(".qa-index"), **kw)


def test_serve_refuses_a_public_address_without_auth(capsys, monkeypatch):
    monkeypatch.delenv("QA_AUTH", raising=False)
    assert serve(_options(host="0.0.0.0")) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0" in err and "--auth" in err


def test_serve_refuses_a_malformed_auth(capsys):
    assert serve(_options(host="0.0.0.0", auth="nopassword")) == 2
    assert "USER:PASSWORD" in capsys.readouterr().err


def test_qa_chat_command_refuses_a_public_address_without_auth():
    env = {k: v for k, v in os.environ.items() if k != "QA_AUTH"}
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "chat", "--host", "0.0.0.0", "--port", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "refusing to serve on 0.0.0.0" in proc.stderr


def test_serve_on_a_busy_port_says_so_before_loading_anything(capsys, tmp_path, monkeypatch):
    """Issue 15: `qa chat` on a busy port printed "serving …" and then failed."""
    import socket

    monkeypatch.setattr("ui.app.load_service", lambda *a, **k: pytest.fail("loaded with the port taken"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert serve(ChatOptions(tmp_path / "idx", port=port)) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1 port {port}: another program is already using it" in err
    assert "--port" in err and "serving" not in err


def test_serve_refuses_a_port_out_of_range(capsys, tmp_path):
    assert serve(ChatOptions(tmp_path / "idx", port=70000)) == 2
    assert "--port must be from 0 to 65535" in capsys.readouterr().err


class QuestionCheckingService:
    """Asks through the real question check, as the Answerer does, without a model."""

    def __init__(self):
        self.asked = []

    def ask(self, question, k=None, mode=None, retrieval_query=None, filters=None):
        from qa.question import check_k, check_question

        check_question(question)
        check_k(k)
        self.asked.append((question, k))
        raise AssertionError("not reached in these tests")


@pytest.mark.parametrize(
    "text, k, reason",
    [
        ("who \ud800 is it?", 5, "lone surrogate"),  # the chat showed a raw "TextEncodeInput must be …" toast
        ("?!? …", 5, "only punctuation"),
        ("who is it?", float("inf"), "number of passages must be an integer"),
        ("who is it?", 10**6, "number of passages must be from 1 to 50"),
    ],
)
def test_a_question_the_answerer_refuses_gets_its_reason_as_the_reply(text, k, reason):
    import orjson

    from ui.app import answer_turn

    box, history, turns = answer_turn(QuestionCheckingService(), text, [], [], "hybrid", k)
    assert box == "" and len(history) == 2 and turns[-1]["answer"] is None
    assert 'class="qa-error"' in history[1]["content"] and reason in history[1]["content"]
    orjson.dumps(history)  # what Gradio sends to the browser: a lone surrogate could not be encoded


@pytest.mark.parametrize(
    "since, until, reason",
    [
        ("1 Aug 2017", "", "&quot;Published from&quot; must be a date as YYYY-MM-DD (got &#39;1 Aug 2017&#39;)"),
        ("", "2017-02-30", "&quot;Published to&quot; must be a date as YYYY-MM-DD"),
        ("2017-09-01", "2017-08-01", "&quot;Published from&quot; 2017-09-01 is after &quot;Published to&quot; 2017-08-01"),
    ],
)
def test_a_bad_day_in_the_chat_s_date_range_gets_its_reason_as_the_reply(since, until, reason):
    from ui.app import answer_turn

    service = QuestionCheckingService()
    _, history, _ = answer_turn(service, "who is it?", [], [], "hybrid", 5, ["CNN"], since, until)
    assert 'class="qa-error"' in history[1]["content"] and reason in history[1]["content"]
    assert service.asked == []  # refused before the question was asked

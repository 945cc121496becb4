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

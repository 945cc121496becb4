"""Offline, proven: building an index and searching it opens no network connection, with nothing set beforehand.

A fresh interpreter (nothing cached, no HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE in its environment, an empty
HF_HOME) installs a socket guard before anything of ours is imported, then runs `qa index` and `qa search`
through cli.main.main. Any attempt to reach a non-loopback address is recorded and refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.defaults import DEFAULT_ARTICLES_DIR

REPO = Path(__file__).resolve().parents[2]

GUARD = r'''
import ipaddress, json, os, socket, sys

attempts = []

def _loopback(host):
    if host is None or host in ("localhost", "", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host).is_loopback
    except ValueError:
        return False

def _check(what, address):
    if isinstance(address, (str, bytes)):  # AF_UNIX path: local
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _loopback(host):
        attempts.append([what, repr(address)])
        raise OSError(f"network disabled by the test: {what} {address!r}")

_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
_create_connection, _getaddrinfo = socket.create_connection, socket.getaddrinfo

def connect(self, address):
    _check("connect", address)
    return _connect(self, address)

def connect_ex(self, address):
    _check("connect_ex", address)
    return _connect_ex(self, address)

def create_connection(address, *args, **kwargs):
    _check("create_connection", address)
    return _create_connection(address, *args, **kwargs)

def getaddrinfo(host, port, *args, **kwargs):
    _check("getaddrinfo", (host, port))
    return _getaddrinfo(host, port, *args, **kwargs)

socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo

# the guard itself works: a real attempt is caught and recorded
try:
    socket.create_connection(("huggingface.co", 443), timeout=1)
except OSError:
    pass
guard_works = attempts == [["create_connection", "('huggingface.co', 443)"]]
attempts.clear()
assert not any(name == "index" or name.startswith(("index.", "qa", "corpus", "sentence_transformers", "transformers", "torch"))
               for name in sys.modules), "something was imported before the guard"
env_before = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}

from cli.main import main

corpus, index_dir = sys.argv[1], sys.argv[2]
rc_index = main(["index", corpus, "--index", index_dir, "--quiet"])
rc_search = main(["search", "Who is the Chinese foreign ministry spokesman?", "--index", index_dir, "--json", "--k", "2"])
report = {
    "guard_works": guard_works,
    "rc": [rc_index, rc_search],
    "attempts": attempts,
    "env_before": env_before,
    "env_after": {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")},
}
print("OFFLINE-REPORT " + json.dumps(report), flush=True)
'''


@pytest.mark.slow
def test_index_and_search_open_no_network_connection(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "SENTENCE_TRANSFORMERS_"))}
    env["HF_HOME"] = str(tmp_path / "empty-hf-home")  # no cache to fall back on either
    index_dir = tmp_path / "idx"
    proc = subprocess.run(
        [sys.executable, "-c", GUARD, str(DEFAULT_ARTICLES_DIR), str(index_dir)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report_lines = [line for line in proc.stdout.splitlines() if line.startswith("OFFLINE-REPORT ")]
    assert len(report_lines) == 1, proc.stdout[-3000:]
    report = json.loads(report_lines[0].removeprefix("OFFLINE-REPORT "))
    assert report["guard_works"] is True
    assert report["env_before"] == {"HF_HUB_OFFLINE": None, "TRANSFORMERS_OFFLINE": None}
    assert report["env_after"] == {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # our code set them
    assert report["rc"] == [0, 0], proc.stderr[-3000:]
    assert report["attempts"] == []
    # the search really answered, with dense retrieval (the model loaded from the package, offline)
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("{")))
    assert result["mode"] == "hybrid" and "notice" not in result
    assert "Geng Shuang" in result["hits"][0]["text"]
    assert "dense=flat" in proc.stdout
    assert not (tmp_path / "empty-hf-home").exists() or not any((tmp_path / "empty-hf-home").rglob("*.safetensors"))

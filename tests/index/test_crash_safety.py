"""A build killed at any point leaves the previous index live, searchable and unchanged.

Two real `qa index` processes are killed with SIGKILL: one while it embeds a large corpus, one after it has
written the new version in full but before that version went live. Cheaper in-process tests then stop a save
at each of its steps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cli.main import main
from index.store import CURRENT, load_index, save_index

REPO = Path(__file__).resolve().parents[2]
QA_BIN = REPO / ".venv" / "bin" / "qa"
QUERIES = [
    "Who is the Chinese foreign ministry spokesman who criticized the “China responsibility theory”?",
    "What does Trump offer China on trade?",
]


def search_json(capsys, directory: Path, modes=("hybrid", "dense", "bm25"), queries=QUERIES) -> list[str]:
    """`qa search --json` output lines for the queries, in each mode."""
    lines = []
    for mode in modes:
        for query in queries:
            assert main(["search", query, "--index", str(directory), "--json", "--k", "5", "--mode", mode]) == 0
            out, _ = capsys.readouterr()
            lines.append(out.strip())
    assert all(json.loads(line)["hits"] for line in lines)
    return lines


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


class Reader(threading.Thread):
    """Collects a pipe's output without blocking the test."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.text = stream, ""

    def run(self):
        for chunk in iter(lambda: self.stream.read1(4096), b""):
            self.text += chunk.decode("utf-8", "replace")


def start(argv: list[str]) -> tuple[subprocess.Popen, Reader, Reader]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = Reader(proc.stdout), Reader(proc.stderr)
    out.start()
    err.start()
    return proc, out, err


def wait_for(predicate, proc: subprocess.Popen, timeout: float, what: str, err: Reader) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"the build ended (rc {proc.returncode}) before {what}:\n{err.text[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} within {timeout} s:\n{err.text[-2000:]}")
        time.sleep(0.02)


def kill(proc: subprocess.Popen) -> None:
    assert proc.poll() is None, "the build was already over: the kill would prove nothing"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture
def big_corpus(tmp_path, squad_dev) -> Path:
    """The 48 SQuAD v1.1 dev articles as .txt files: about 2,500 chunks, far more than a few seconds to embed."""
    folder = tmp_path / "big"
    folder.mkdir()
    for n, article in enumerate(squad_dev.articles):
        (folder / f"{n:03d}.txt").write_text(f"{article.title}\n\n{article.text}\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_sigkill_while_embedding_leaves_the_old_index_live(capsys, index_copy, big_corpus):
    before = search_json(capsys, index_copy)
    live = (index_copy / CURRENT).read_text()
    proc, _, err = start([str(QA_BIN), "index", str(big_corpus), "--index", str(index_copy), "--force"])
    wait_for(lambda: "embedding chunks" in err.text, proc, 240, "embedding progress", err)
    time.sleep(2.0)
    kill(proc)
    assert (index_copy / CURRENT).read_text() == live
    assert search_json(capsys, index_copy) == before  # same JSON, byte for byte
    assert main(["index", "--index", str(index_copy), "--quiet"]) == 0  # the default corpus is still the live one
    assert "is up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_sigkill_after_writing_a_version_but_before_the_switch(capsys, index_copy, tmp_path, squad_dev):
    """The build is held (a sleep) after its new version is written, then killed; a rebuild cleans up."""
    before = search_json(capsys, index_copy, modes=("hybrid",))
    live = (index_copy / CURRENT).read_text()
    small = tmp_path / "small"
    small.mkdir()
    art = next(a for a in squad_dev.articles if a.title == "Super Bowl 50")
    (small / "super-bowl-50.txt").write_text("Super Bowl 50\n\n" + art.text[:3000], encoding="utf-8")
    hold = (
        "import sys, time\n"
        "import index.store as store\n"
        "def held(path):\n"
        "    print('WRITTEN', path, flush=True)\n"
        "    time.sleep(600)\n"
        "store._fsync_tree = held\n"
        "from cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc, out, err = start([sys.executable, "-c", hold, "index", str(small), "--index", str(index_copy), "--quiet"])
    wait_for(lambda: "WRITTEN" in out.text, proc, 240, "written version", err)
    tmp_dirs = [name for name in entries(index_copy) if name.startswith(".tmp-")]
    assert len(tmp_dirs) == 1 and (index_copy / tmp_dirs[0] / "manifest.json").exists()
    kill(proc)
    assert (index_copy / CURRENT).read_text() == live
    assert search_json(capsys, index_copy, modes=("hybrid",)) == before
    # a normal rebuild of the interrupted corpus goes live and removes what the killed build left
    assert main(["index", str(small), "--index", str(index_copy), "--quiet"]) == 0
    assert "built" in capsys.readouterr().out
    names = entries(index_copy)
    assert len(names) == 2 and CURRENT in names and not any(n.startswith(".") for n in names)
    assert [a.title for a in load_index(index_copy).articles.values()] == ["Super Bowl 50"]


# ------------------------------------------------------------------------------------------- in-process


class Crash(Exception):
    pass


@pytest.mark.parametrize("step", ["write", "rename", "switch"])
def test_a_save_stopped_at_any_step_leaves_the_old_version_live(default_index, default_articles, embedder, index_copy, monkeypatch, step, capsys):
    """Stop save_index while writing files, right after renaming the new version, or at the CURRENT switch."""
    from index import store

    before = search_json(capsys, index_copy, modes=("hybrid",), queries=QUERIES[:1])
    live = (index_copy / CURRENT).read_text()
    smaller = store.build_index(default_articles[:1], embedder=embedder, progress=False, reuse=default_index)
    with monkeypatch.context() as m:
        if step == "write":
            m.setattr(store, "_write_jsonl", lambda *a, **k: (_ for _ in ()).throw(Crash()))
        elif step == "rename":
            real_rename = os.rename
            m.setattr(store.os, "rename", lambda a, b: (real_rename(a, b), (_ for _ in ()).throw(Crash()))[1])
        else:
            m.setattr(store.os, "replace", lambda a, b: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            save_index(smaller, index_copy)
    assert len(entries(index_copy)) > 2  # something was left behind
    assert (index_copy / CURRENT).read_text() == live
    assert search_json(capsys, index_copy, modes=("hybrid",), queries=QUERIES[:1]) == before
    assert load_index(index_copy).chunks == default_index.chunks
    version = save_index(smaller, index_copy)  # the next save cleans up
    assert entries(index_copy) == sorted([CURRENT, version.name])
    assert len(load_index(index_copy).articles) == 1

"""One writer at a time per index (index.write_lock): parallel `qa add` processes all keep their articles, a
second writer waits and says for whom, `--no-wait` fails at once naming the pid, and a writer killed with
SIGKILL leaves nothing that blocks the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cli.main import main
from index.lifecycle import add_to_index
from index.store import CURRENT, IndexConfig, load_index
from index.write_lock import LOCK_NAME, IndexBusy, write_lock

REPO = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from index.write_lock import write_lock\n"
    "with write_lock(Path(sys.argv[1])):\n"
    "    print('HELD', flush=True)\n"
    "    time.sleep(600)\n"
)


def race_article(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"race{n}.txt"
    path.write_text(f"Race {n}\n\nThe race {n} article is about harbour number {n} in Zorblatt.\n", encoding="utf-8")
    return path


@pytest.fixture
def holder(index_copy):
    """Another process holding the index's write lock until the test kills it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(index_copy)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "HELD"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_four_parallel_qa_add_processes_keep_all_four_articles(index_copy, holder, tmp_path):
    """Four real `qa add` processes start while another writer holds the lock, so all four meet it (each says
    whom it waits for); that writer is then killed with SIGKILL. Each of the four has read the index ahead,
    so every one after the first finds a newer version under the lock: all four articles must stay."""
    before = set(load_index(index_copy).articles)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs, errs = [], []
    for n in range(4):
        err = tmp_path / f"err{n}.txt"
        with err.open("w") as err_file:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "cli.main", "add", str(race_article(tmp_path, n)), "--index", str(index_copy), "--quiet"],
                cwd=REPO, stdout=subprocess.PIPE, stderr=err_file, text=True, env=env,
            ))
        errs.append(err)
    deadline = time.monotonic() + 240
    while not all("waiting…" in e.read_text() for e in errs):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [e.read_text() for e in errs]
        time.sleep(0.1)
    assert all(f"is being written by pid {holder.pid}, waiting…" in e.read_text() for e in errs)
    os.kill(holder.pid, signal.SIGKILL)
    outs = [p.communicate(timeout=240)[0] for p in procs]
    for proc, out, err in zip(procs, outs, errs):
        assert proc.returncode == 0 and "added 1 new article(s)" in out, err.read_text()
        assert "Traceback" not in err.read_text()
    index = load_index(index_copy)
    added = {a.title for a in index.articles.values() if a.id not in before}
    assert added == {f"Race {n}" for n in range(4)}
    assert sorted(p.name for p in index_copy.iterdir()) == sorted([CURRENT, (index_copy / CURRENT).read_text().strip()])


def test_no_wait_fails_at_once_naming_the_pid_and_a_killed_holder_blocks_nothing(index_copy, holder, tmp_path, capsys, embedder):
    live = (index_copy / CURRENT).read_text()
    article = race_article(tmp_path, 1)
    started = time.monotonic()
    assert main(["add", str(article), "--index", str(index_copy), "--no-wait", "--quiet"]) == 1
    assert main(["index", str(tmp_path), "--index", str(index_copy), "--no-wait", "--quiet"]) == 1
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert err.count(f"is being written by pid {holder.pid}") == 2 and "--no-wait" in err and "Traceback" not in err
    assert (index_copy / CURRENT).read_text() == live
    with pytest.raises(IndexBusy):
        add_to_index([article], index_copy, IndexConfig(), embedder=embedder, progress=False, wait=False)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    assert (index_copy / LOCK_NAME).exists()  # the killed writer's file is left behind, naming a dead pid
    outcome = add_to_index([article], index_copy, IndexConfig(), embedder=embedder, progress=False, wait=False)
    assert outcome.added == 1  # the kernel released its lock: the next writer goes straight in
    assert not (index_copy / LOCK_NAME).exists()


def test_a_second_writer_waits_says_for_whom_once_and_goes_on_when_the_first_is_done(tmp_path):
    directory = tmp_path / "idx"
    directory.mkdir()
    messages: list[str] = []
    order: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def first():
        with write_lock(directory):
            order.append("first in")
            first_in.set()
            release.wait(30)
            order.append("first out")

    def second():
        with write_lock(directory, notify=messages.append):
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    assert first_in.wait(30)
    assert (directory / LOCK_NAME).read_text().strip() == str(os.getpid())  # the holder's pid is recorded
    b = threading.Thread(target=second)
    b.start()
    deadline = time.monotonic() + 30
    while not messages and time.monotonic() < deadline:
        time.sleep(0.01)
    assert messages == [f"index {directory} is being written by pid {os.getpid()}, waiting…"]
    assert order == ["first in"]  # the second writer is held
    release.set()
    a.join(30)
    b.join(30)
    assert order == ["first in", "first out", "second in"] and len(messages) == 1
    assert list(directory.iterdir()) == []  # no lock file is left between writes


def test_the_lock_is_reentrant_in_a_thread_and_leaves_no_folder_it_made_for_nothing(tmp_path):
    directory = tmp_path / "new" / "idx"
    with write_lock(directory):
        with write_lock(directory, wait=False):  # add_to_index -> extend_index: the same writer
            assert (directory / LOCK_NAME).exists()
        assert (directory / LOCK_NAME).exists()  # still held by the outer block
    assert not directory.exists()  # made for the lock, nothing written: removed again

"""Soak run: many clients asking while a chat user uploads articles and a `qa add` writes to the same index.

What runs at once, on one index folder (the default corpus, built in a temporary folder):
  - the app (``ui.app``: the chat and its JSON API) on a loopback port; ``--clients`` clients each ask
    ``--questions`` default gold questions over ``POST /api/ask``, back to back;
  - an uploading user: ``--uploads`` articles handed one at a time to ``ChatService.upload``, the call the chat's
    upload button makes (as the chat does, each from its own temporary copy, which the upload deletes);
  - a command-line user: ``--adds`` articles, each added by its own ``qa add FILE --index DIR`` process, one after
    another. The first upload starts with the first ``qa add``; upload n starts as ``qa add`` n-1 ends and ``qa add``
    n begins, so every upload races a command for the index, and must keep what the commands saved before it.
New articles are the first paragraphs of SQuAD v1.1 dev articles (``$QA_DATA_DIR``, default ../shared/data).

It passes (exit status 0) when:
  - no request failed (every reply a 200 with an answer), no upload was refused, every `qa add` exited 0;
  - every answer under load equals, in everything but ``latency_ms``, the answer the same question gets asked
    alone of one of the answerers the app held during the run (the app swaps its answerer whole after each
    upload, so each answer comes from one of these index versions; all are kept and asked again after the run);
  - the index on disk at the end holds every uploaded and every added article, and a fresh process opening it
    answers a question about each of them from that article.

Example:
    $ .venv/bin/python -m bench.soak                       # 50 clients x 4 questions, 3 uploads, 3 `qa add`
    $ .venv/bin/python -m bench.soak --json bench/results/soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.load_api import ask, comparable, gold_questions, percentile
from index.offline import use_offline_defaults


@dataclass
class SoakLog:
    """What the concurrent parts saw (appended to under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[tuple[str, dict]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answerers: list = field(default_factory=list)  # every answerer the app held, in order
    writes: list[str] = field(default_factory=list)  # what the writers did, with times

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def new_articles(n: int) -> list[tuple[str, str]]:
    """(file name, text) for ``n`` articles the default corpus does not have: SQuAD v1.1 dev articles' opening
    paragraphs (about 2,000 characters), a title line first."""
    from corpus.datasets import SQUAD_V11_DEV, dataset_path
    from corpus.squad import load_squad

    path = dataset_path(SQUAD_V11_DEV)
    if not path.exists():
        raise SystemExit(f"bench.soak: no SQuAD v1.1 dev at {path} (set $QA_DATA_DIR)")
    out = []
    for article in load_squad(path).articles[:n]:
        cut = article.text.find("\n\n", 2000)
        slug = "".join(ch if ch.isalnum() else "-" for ch in article.title.lower())
        out.append((f"{slug}.txt", f"{article.title}\n\n{article.text[: cut if cut > 0 else 2000]}"))
    return out


def clients_ask(url: str, plan: list[list[str]], timeout: float, log: SoakLog, start: threading.Barrier) -> list[threading.Thread]:
    def client(questions: list[str]) -> None:
        start.wait()
        for q in questions:
            elapsed, status, body, err = ask(url, q, None, None, timeout)
            with log.lock:
                log.latencies.append(elapsed)
                if status != 200 or body is None:
                    log.errors.append(f"ask {q!r}: status {status} {err}")
                else:
                    log.answers.append((q, comparable(body)))

    return [threading.Thread(target=client, args=(qs,), name=f"client-{n}") for n, qs in enumerate(plan)]


def uploader(service, files: list[tuple[str, str]], scratch: Path, added: list[threading.Event], log: SoakLog,
             start: threading.Barrier, t0: float) -> threading.Thread:
    def run() -> None:
        start.wait()
        for n, (name, text) in enumerate(files):
            # upload n starts when `qa add` n-1 has finished, as `qa add` n starts: the two race for the index,
            # and the upload must take in the articles the command saved since the app loaded its index
            if 0 < n <= len(added):
                added[n - 1].wait()
            temp = scratch / f"upload-{name}"
            temp.write_text(text, encoding="utf-8")
            result = service.upload([(temp, name)])
            with log.lock:
                log.answerers.append(service.answerer)
                log.writes.append(f"{time.perf_counter() - t0:6.1f} s upload {name}: "
                                  + "; ".join(f"{line.ok and 'ok' or 'REFUSED'} {line.message}" for line in result.lines))
            if not all(line.ok for line in result.lines) or result.added < 1:
                log.error(f"upload {name}: " + "; ".join(line.message for line in result.lines))

    return threading.Thread(target=run, name="uploader")


def adder(index_dir: Path, files: list[Path], added: list[threading.Event], log: SoakLog, start: threading.Barrier,
          t0: float) -> threading.Thread:
    def run() -> None:
        start.wait()
        for path, done in zip(files, added):
            proc = subprocess.run([sys.executable, "-m", "cli.main", "add", str(path), "--index", str(index_dir)],
                                  capture_output=True, text=True, check=False)
            with log.lock:
                log.writes.append(f"{time.perf_counter() - t0:6.1f} s qa add {path.name}: exit {proc.returncode} "
                                  + (proc.stdout.strip().splitlines() or [""])[-1])
            if proc.returncode != 0:
                log.error(f"qa add {path.name}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
            done.set()

    return threading.Thread(target=run, name="qa-add")


def check_answers(log: SoakLog, questions: list[str]) -> tuple[int, list[str]]:
    """Answers under load not equal to the answer of any answerer the app held (asked alone, now)."""
    allowed: dict[str, list[dict]] = {q: [] for q in questions}
    for answerer in log.answerers:
        for q in questions:
            allowed[q].append(comparable(answerer.ask(q).to_json_dict()))
    bad = [q for q, got in log.answers if got not in allowed[q]]
    return len(bad), bad[:5]


def check_final(index_dir: Path, written: list[tuple[str, str]]) -> list[str]:
    """Problems with the index on disk: a written article missing, or not the source of its own answer."""
    from qa.answerer import load_answerer

    answerer = load_answerer(index_dir)
    titles = {a.title: a.id for a in answerer.retriever.index.articles.values()}
    problems = []
    for name, text in written:
        title = text.split("\n", 1)[0]
        if title not in titles:
            problems.append(f"{name}: not in the index at the end")
            continue
        hits = answerer.retriever.search(f"{title} {text.split(chr(10))[2][:150]}", k=3).hits
        if titles[title] not in {h.chunk.article_id for h in hits}:
            problems.append(f"{name}: in the index but not retrieved by its own opening words")
    return problems


def run(clients: int, per_client: int, uploads: int, adds: int, timeout: float) -> dict:
    from corpus.defaults import DEFAULT_ARTICLES_DIR
    from index.lifecycle import ensure_index
    from index.store import IndexConfig
    from ui.app import create_app, load_service, serve_in_thread

    with tempfile.TemporaryDirectory(prefix="qa-soak-") as tmp:
        tmp_path = Path(tmp)
        index_dir = tmp_path / "index"
        ensure_index([DEFAULT_ARTICLES_DIR], index_dir, IndexConfig(), progress=False)
        service = load_service(index_dir, uploads_dir=tmp_path / "uploads")
        server = serve_in_thread(create_app(service))
        articles = new_articles(uploads + adds)
        to_upload, to_add = articles[:uploads], articles[uploads:]
        add_dir = tmp_path / "cli"
        add_dir.mkdir()
        add_paths = []
        for name, text in to_add:
            (add_dir / name).write_text(text, encoding="utf-8")
            add_paths.append(add_dir / name)
        scratch = tmp_path / "scratch"
        scratch.mkdir()

        pool = gold_questions()
        plan = [[pool[(c * per_client + j) % len(pool)] for j in range(per_client)] for c in range(clients)]
        log = SoakLog(answerers=[service.answerer])
        start = threading.Barrier(clients + 2)
        t0 = time.perf_counter()
        added = [threading.Event() for _ in add_paths]
        threads = [*clients_ask(server.url, plan, timeout, log, start),
                   uploader(service, to_upload, scratch, added, log, start, t0),
                   adder(index_dir, add_paths, added, log, start, t0)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            server.stop()
        distinct = sorted({q for qs in plan for q in qs}, key=pool.index)
        mismatches, examples = check_answers(log, distinct)
        final_problems = check_final(index_dir, articles)
    ms = [1000 * x for x in log.latencies]
    return {
        "clients": clients, "questions_per_client": per_client, "requests": len(log.latencies),
        "uploads": uploads, "cli_adds": adds, "answerers_held": len(log.answerers),
        "errors": len(log.errors), "mismatches": mismatches, "final_problems": len(final_problems),
        "wall_s": round(wall, 1),
        "latency_ms": {"p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1),
                       "max": round(max(ms), 1) if ms else None},
        "writes": log.writes, "error_examples": log.errors[:5], "mismatch_examples": examples,
        "final_problem_examples": final_problems[:5], "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--questions", type=int, default=4, help="questions per client")
    p.add_argument("--uploads", type=int, default=3, help="articles uploaded through the chat's upload call")
    p.add_argument("--adds", type=int, default=3, help="articles added by `qa add` processes, one after another")
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)
    use_offline_defaults()  # before the app imports gradio
    r = run(args.clients, args.questions, args.uploads, args.adds, args.timeout)
    print(f"{r['clients']} clients x {r['questions_per_client']} questions = {r['requests']} requests, "
          f"{r['uploads']} uploads and {r['cli_adds']} `qa add` on the same index, in {r['wall_s']} s ({r['cpus']} CPUs)")
    for line in r["writes"]:
        print("  ", line)
    print(f"errors {r['errors']}; answers equal to no sequential answer {r['mismatches']} "
          f"(checked against the {r['answerers_held']} answerers the app held); "
          f"articles missing or unanswerable at the end {r['final_problems']}")
    print(f"latency under load: p50 {r['latency_ms']['p50']} ms, p95 {r['latency_ms']['p95']} ms, max {r['latency_ms']['max']} ms")
    for line in r["error_examples"] + r["mismatch_examples"] + r["final_problem_examples"]:
        print("  ", line)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return 0 if r["errors"] == 0 and r["mismatches"] == 0 and r["final_problems"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

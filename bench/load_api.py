"""Load test of the JSON API: N concurrent clients x M questions each, every answer checked against the
answer the same server gives to that question asked alone.

Questions come from the default gold set (corpus/gold/default.jsonl), taken in turn by the clients. First
every distinct question is asked once, sequentially (the reference answers, and the one-at-a-time latency);
then all clients start together, each asking its questions back to back. An error (non-200, bad JSON) or an
answer that differs from the reference in anything but ``latency_ms`` fails the run (exit status 1).

Without ``--url`` the app is started in this process on a free loopback port over an index of the default
corpus built in a temporary folder (or ``--index DIR``). Latency is what the client sees (request sent to
response read), over loopback.

Example:
    $ .venv/bin/python -m bench.load_api                          # 20 clients x 10 questions
    $ .venv/bin/python -m bench.load_api --clients 50 --questions 4 --json bench/results/load_api.json
    $ .venv/bin/python -m bench.load_api --url http://127.0.0.1:7860   # a running `qa chat`
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from index.offline import use_offline_defaults


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def ask(url: str, question: str, k: int | None, mode: str | None, timeout: float) -> tuple[float, int, dict | None, str | None]:
    payload = {"question": question}
    if k is not None:
        payload["k"] = k
    if mode is not None:
        payload["mode"] = mode
    req = urllib.request.Request(
        url.rstrip("/") + "/api/ask", data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        return time.perf_counter() - started, exc.code, None, exc.read().decode("utf-8", "replace")[:200]
    except OSError as exc:
        return time.perf_counter() - started, 0, None, f"{exc.__class__.__name__}: {exc}"
    elapsed = time.perf_counter() - started
    try:
        return elapsed, status, json.loads(body), None
    except json.JSONDecodeError as exc:
        return elapsed, status, None, f"bad JSON: {exc}"


def comparable(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "latency_ms"}


def gold_questions() -> list[str]:
    from corpus.defaults import DEFAULT_GOLD

    rows = [json.loads(line) for line in DEFAULT_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows]


def run(url: str, clients: int, per_client: int, k: int | None, mode: str | None, timeout: float) -> dict:
    pool = gold_questions()
    plan = [[pool[(c * per_client + j) % len(pool)] for j in range(per_client)] for c in range(clients)]
    distinct = sorted({q for qs in plan for q in qs}, key=pool.index)

    reference: dict[str, dict] = {}
    sequential: list[float] = []
    errors: list[str] = []
    for q in distinct:
        elapsed, status, body, err = ask(url, q, k, mode, timeout)
        if status != 200 or body is None:
            errors.append(f"sequential {q!r}: status {status} {err}")
            continue
        reference[q] = comparable(body)
        sequential.append(elapsed)

    latencies: list[float] = []
    mismatches: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(questions: list[str]) -> None:
        barrier.wait()
        for q in questions:
            elapsed, status, body, err = ask(url, q, k, mode, timeout)
            with lock:
                latencies.append(elapsed)
                if status != 200 or body is None:
                    errors.append(f"concurrent {q!r}: status {status} {err}")
                elif q in reference and comparable(body) != reference[q]:
                    mismatches.append(q)

    threads = [threading.Thread(target=client, args=(qs,)) for qs in plan]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = [1000 * x for x in latencies]
    seq_ms = [1000 * x for x in sequential]
    return {
        "clients": clients,
        "questions_per_client": per_client,
        "requests": len(latencies),
        "distinct_questions": len(distinct),
        "errors": len(errors),
        "mismatches": len(mismatches),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 2) if wall else None,
        "latency_ms": {
            "p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1),
            "max": round(max(ms), 1) if ms else None, "mean": round(statistics.fmean(ms), 1) if ms else None,
        },
        "sequential_latency_ms": {"p50": round(percentile(seq_ms, 50), 1), "p95": round(percentile(seq_ms, 95), 1)},
        "error_examples": errors[:5],
        "mismatch_examples": mismatches[:5],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running app (default: start one here)")
    p.add_argument("--index", help="index directory for the app started here (default: default corpus in a temp dir)")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--questions", type=int, default=10, help="questions per client")
    p.add_argument("--k", type=int)
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"))
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)

    use_offline_defaults()  # before the app below imports gradio
    server = None
    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        url = args.url
        if url is None:
            from corpus.defaults import DEFAULT_ARTICLES_DIR
            from index.lifecycle import ensure_index
            from index.store import IndexConfig
            from ui.app import create_app, load_service, serve_in_thread

            index_dir = Path(args.index) if args.index else Path(tmp) / "index"
            if not args.index:
                ensure_index([DEFAULT_ARTICLES_DIR], index_dir, IndexConfig(), progress=False)
            service = load_service(index_dir, uploads_dir=Path(tmp) / "uploads")
            server = serve_in_thread(create_app(service))
            url = server.url
        try:
            results = run(url, args.clients, args.questions, args.k, args.mode, args.timeout)
        finally:
            if server is not None:
                server.stop()
    results["cpus"] = os.cpu_count()
    lat, seq = results["latency_ms"], results["sequential_latency_ms"]
    print(
        f"{results['clients']} clients x {results['questions_per_client']} questions = {results['requests']} requests "
        f"({results['distinct_questions']} distinct) in {results['wall_s']} s, {results['throughput_rps']} req/s\n"
        f"errors {results['errors']}, answers differing from the sequential answer {results['mismatches']}\n"
        f"latency under load: p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms\n"
        f"latency alone:      p50 {seq['p50']} ms, p95 {seq['p95']} ms"
    )
    for line in results["error_examples"] + results["mismatch_examples"]:
        print("  ", line)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if results["errors"] == 0 and results["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Whole-question latency (`Answerer.ask`: retrieval, reading, abstention, citations) of two span models, side by
side in one run: the default gold questions asked of each in turn, so both see the same machine load. Quote the
ratio; this machine is noisy.

Example:
    $ .venv/bin/python -m bench.ask_latency --baseline /tmp/old-reader --model qa/models/reader --repeat 3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.answers import _index_for_default
from corpus.defaults import DEFAULT_GOLD
from corpus.gold_sets import load_gold_jsonl
from qa.answerer import SHIPPED_READER_DIR, build_answerer
from qa.metrics import percentile


def measure(models: dict[str, Path], index_dir: Path, repeat: int, threads: int) -> dict:
    """p50/p95 ms of ``ask`` for each model over the gold questions x ``repeat``, interleaved question by question."""
    import torch

    from index.lifecycle import open_index
    from index.store import IndexConfig

    torch.set_num_threads(threads)
    index = open_index(index_dir, IndexConfig())
    answerers = {name: build_answerer(index, reader="span", model=path) for name, path in models.items()}
    questions = [q.question for q in load_gold_jsonl(DEFAULT_GOLD)]
    for answerer in answerers.values():
        answerer.warm_up()
    times: dict[str, list[float]] = {name: [] for name in answerers}
    abstained = {name: 0 for name in answerers}
    for _ in range(repeat):
        for q in questions:
            for name, answerer in answerers.items():
                t0 = time.perf_counter()
                answer = answerer.ask(q)
                times[name].append((time.perf_counter() - t0) * 1000)
                abstained[name] += answer.abstained
    return {"questions": len(questions), "repeat": repeat, "threads": threads,
            **{name: {"model": str(models[name]), "p50_ms": round(percentile(t, 50), 1),
                      "p95_ms": round(percentile(t, 95), 1), "abstained": abstained[name] // repeat}
               for name, t in times.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--baseline", type=Path, required=True, help="the span model to compare against")
    p.add_argument("--model", type=Path, default=SHIPPED_READER_DIR, help="default: the shipped reader")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--index", type=Path, default=Path(".qa-index"), help="the default corpus index (built when missing)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    figures = measure({"baseline": args.baseline, "model": args.model}, _index_for_default(args.index),
                      args.repeat, args.threads)
    b, m = figures["baseline"], figures["model"]
    figures["ratio"] = {"p50": round(m["p50_ms"] / b["p50_ms"], 3), "p95": round(m["p95_ms"] / b["p95_ms"], 3)}
    for name in ("baseline", "model"):
        f = figures[name]
        print(f"{name:8} {f['model']}: p50 {f['p50_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms "
              f"({figures['questions']} questions x {args.repeat}, {f['abstained']} abstained)")
    print(f"model / baseline: p50 x{figures['ratio']['p50']:.2f}, p95 x{figures['ratio']['p95']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

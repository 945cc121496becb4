"""Choose the span reader's retrieval-rank prior on SQuAD v1.1 TRAIN questions (never dev).

Reading the top 5 chunks, the reader's joint softmax treats every chunk alike: on 800 SQuAD v1.1 dev questions
end to end, 118 answers came from a lower chunk while the top chunk held a gold answer (their F1 0.24, against
0.85 for answers from the top chunk). The prior weights the start probabilities of the chunk at rank r by
r ** -w (``SpanReaderConfig.rank_prior``). Here the train tuning corpus of bench/tune_fusion.py (50 seeded
articles, indexed as `qa eval` indexes SQuAD) is read once per question (hybrid, k=5), the logits are kept, and
every weight is decoded offline. Prints EM/F1 per weight and writes them to OUT (JSON).

    .venv/bin/python -m bench.tune_rank_prior --questions 1000 [--squad11-train PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.common import CACHE, train_sample
from bench.data_options import add_dataset_option
from bench.reader_report import weights_digest
from corpus.datasets import SQUAD_V11_TRAIN
from corpus.squad import load_squad
from index.lifecycle import cached_index
from qa.answerer import SHIPPED_READER_DIR
from qa.evaluation.gold_answerer import SQUAD_INDEX_CONFIG
from qa.metrics import exact_match, f1_score
from qa.reader_span import SpanReader, SpanReaderConfig
from qa.retriever import RetrievalConfig, Retriever

RESULTS = Path(__file__).resolve().parent / "results"
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(SHIPPED_READER_DIR))
    ap.add_argument("--articles", type=int, default=50)
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=13, help="the sample of bench/tune_fusion.py")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(RESULTS / "reader" / "rank_prior.json"))
    add_dataset_option(ap, SQUAD_V11_TRAIN)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    articles, questions = train_sample(load_squad(args.squad11_train), args.articles, args.questions, args.seed)
    cached = cached_index("squad-train-tune", articles, SQUAD_INDEX_CONFIG, CACHE)
    index, stats = cached.index, cached.build_stats
    retriever = Retriever(index, RetrievalConfig())
    reader = SpanReader(args.model, SpanReaderConfig(int8=False))
    print(f"{stats['articles']} train articles, {stats['chunks']} chunks; {len(questions)} questions; "
          f"model {args.model}", flush=True)
    t0 = time.perf_counter()
    scored = {w: {"em": 0.0, "f1": 0.0} for w in WEIGHTS}
    from_top = {w: 0 for w in WEIGHTS}
    for i, q in enumerate(questions, start=1):
        hits = retriever.search(q.question, k=args.k).hits
        windows = reader.tokenize(q.question, [h.chunk.text for h in hits])
        start_logits, end_logits = reader.forward(windows)
        for w in WEIGHTS:
            result = reader.decode(windows, start_logits, end_logits, hits, index.articles, w)
            if result.answer is None:
                continue
            scored[w]["em"] += exact_match(result.answer, q.answers)
            scored[w]["f1"] += f1_score(result.answer, q.answers)
            from_top[w] += result.hit_rank == 1
        if i % 200 == 0:
            print(f"  {i}/{len(questions)} questions, {time.perf_counter() - t0:.0f} s", flush=True)
    n = len(questions)
    rows = {str(w): {"exact_match": round(100 * s["em"] / n, 2), "f1": round(100 * s["f1"] / n, 2),
                     "answers_from_top_chunk": round(100 * from_top[w] / n, 1)} for w, s in scored.items()}
    best = max(WEIGHTS, key=lambda w: scored[w]["f1"])
    print(f"\n{'weight':>7s} {'EM':>6s} {'F1':>6s} {'from top chunk %':>17s}")
    for w in WEIGHTS:
        r = rows[str(w)]
        print(f"{w:7.2f} {r['exact_match']:6.2f} {r['f1']:6.2f} {r['answers_from_top_chunk']:17.1f}")
    print(f"best F1: weight {best}")
    result = {"data": args.squad11_train.name, "articles": stats["articles"], "questions": n, "seed": args.seed, "k": args.k,
              "mode": "hybrid", "model_digest": weights_digest(Path(args.model)), "by_weight": rows,
              "best_weight": best, "seconds": round(time.perf_counter() - t0, 1),
              "command": f"python -m bench.tune_rank_prior --questions {args.questions}"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

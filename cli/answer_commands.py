"""The ``qa ask``, ``qa eval`` and ``qa chat`` commands (registered by ``qa.cli``; heavy imports on use).

Example:
    $ qa ask "Who is the Chinese foreign ministry spokesman?"
    $ qa ask "Who is the Chinese foreign ministry spokesman?" --json --k 3 --mode bm25
    $ qa eval corpus/gold/default.jsonl --out runs/default
    $ qa eval /work/shared/data/squad-v1.1-dev.json.gz --limit 2000 --seed 0 --out runs/squad11
    $ qa chat --port 7860
"""

from __future__ import annotations

import argparse

import json
import sys
import textwrap
from pathlib import Path

from qa.config import Paths
from qa.retriever import MODES
from qa.types import Answer

READER_CHOICES = ("auto", "sentence", "span")


def register(sub, with_index) -> None:
    sp = with_index(sub.add_parser("ask", help="answer a question from the indexed articles, with citations"))
    sp.add_argument("question")
    sp.add_argument("--k", type=int, default=5, help="passages read and cited (default 5)")
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    sp.add_argument("--reader", choices=READER_CHOICES, default="auto", help="auto: the shipped span model if any, else sentence")
    sp.add_argument("--model", help="span reader model directory (with --reader span)")
    sp.add_argument("--int8", action=argparse.BooleanOptionalAction, default=None,
                    help="span reader with int8 linear layers (faster on the CPU); default: the precision its "
                         "threshold was calibrated with")
    sp.add_argument("--threshold", type=float, help="abstention threshold (default: the reader's calibrated one)")
    sp.add_argument("--json", action="store_true", help="print the Answer as JSON")
    sp.set_defaults(func=cmd_ask)

    sp = with_index(sub.add_parser("eval", help="evaluate against gold questions (JSONL, or SQuAD JSON)"))
    sp.add_argument("gold", help="gold JSONL, or SQuAD v1.1/v2.0 JSON (.json or .json.gz)")
    sp.add_argument("--out", help="output directory (default .qa-eval/<gold name>)")
    sp.add_argument("--json", action="store_true", help="print metrics.json to stdout")
    sp.add_argument("--k", type=int, default=5, help="passages read (default 5)")
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    sp.add_argument("--reader", choices=READER_CHOICES, default="auto")
    sp.add_argument("--model", help="span reader model directory")
    sp.add_argument("--int8", action=argparse.BooleanOptionalAction, default=None,
                    help="span reader with int8 linear layers (faster on the CPU); default: the precision its "
                         "threshold was calibrated with")
    sp.add_argument("--reader-only", action="store_true", help="read each question from its gold paragraph alone")
    sp.add_argument("--limit", type=int, help="evaluate a seeded sample of N questions")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--threshold", type=float, help="abstention threshold (default: the reader's calibrated one)")
    sp.add_argument("--cache", help="where SQuAD indexes are cached (default $QA_CACHE/eval or ~/.cache/article-qa/eval)")
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(func=cmd_eval)

    sp = with_index(sub.add_parser("chat", help="the chat app in the browser (and a JSON HTTP endpoint)"))
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    sp.add_argument("--port", type=int, default=7860)
    sp.add_argument("--auth", help="USER:PASSWORD required to use the app")
    sp.add_argument("--insecure", action="store_true", help="allow binding beyond localhost without --auth")
    sp.set_defaults(func=cmd_chat)


def cmd_ask(args) -> int:
    from qa.answerer import AnswerConfig, load_answerer
    from qa.reader_span import ReaderUnavailable

    if args.k < 1:
        raise ValueError("--k must be at least 1")
    try:
        answerer = load_answerer(Paths.from_args(args.index).index_dir, args.reader, args.model, args.int8)
    except ReaderUnavailable as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    if args.threshold is not None:
        answerer.config = AnswerConfig(args.k, args.mode, args.threshold)
    answered = answerer.ask_detailed(args.question, k=args.k, mode=args.mode)
    if answered.retrieval.notice:
        print(f"qa: {answered.retrieval.notice}", file=sys.stderr)
    if args.json:
        print(json.dumps(answered.answer.to_json_dict(), ensure_ascii=False))
    else:
        articles = answerer.retriever.index.articles
        threshold = answerer.config.abstain_threshold
        print(render_answer(answered.answer, articles[answered.answer.answer_span[0]].text if answered.answer.answer_span else None, threshold))
    return 0


def render_answer(answer: Answer, article_text: str | None, threshold: float, width: int = 100) -> str:
    """The human form: answer, its sentence with the answer marked **like this**, numbered citations."""
    lines = []
    if answer.abstained:
        lines.append(f"Not found in the articles (confidence {answer.confidence:.2f}, below the threshold {threshold:.2f}).")
        if answer.citations:
            lines.append("Closest passages:")
    else:
        cited = citing(answer)
        tag = f"  [{cited}]" if cited else ""
        lines.append(f"Answer: {answer.answer}{tag}")
        lines.append(f"Confidence: {answer.confidence:.2f}")
        if answer.sentence and answer.sentence != answer.answer:
            lines.append("Sentence: " + mark_answer(answer, article_text))
        lines.append("")
        lines.append("Sources:")
    for c in answer.citations:
        lines.append(f"  [{c.n}] {c.title} — chars {c.start}–{c.end} (score {c.score:.4f})")
        lines.extend(textwrap.wrap(" ".join(c.text.split()), width=width, initial_indent="      ", subsequent_indent="      ", max_lines=3, placeholder=" …"))
    lines.append(f"({answer.mode} retrieval, {answer.latency_ms:.0f} ms)")
    return "\n".join(lines)


def citing(answer: Answer) -> int | None:
    """The number of the first citation whose passage holds the answer span."""
    if answer.answer_span is None:
        return None
    article_id, start, end = answer.answer_span
    return next((c.n for c in answer.citations if c.article_id == article_id and c.start <= start and end <= c.end), None)


def mark_answer(answer: Answer, article_text: str | None) -> str:
    """The sentence with the answer in **bold**, placed by its offsets (not by searching its text)."""
    sentence, (_, start, end) = answer.sentence, answer.answer_span
    where = -1
    if article_text is not None:
        where = article_text.find(sentence, max(0, end - len(sentence)), start + len(sentence))
    if where < 0 or not (where <= start and end <= where + len(sentence)):
        where = start - max(0, sentence.find(answer.answer))
    a, b = start - where, end - where
    return f"{sentence[:a]}**{sentence[a:b]}**{sentence[b:]}"


def cmd_eval(args) -> int:
    from qa.evaluate import EvalConfig, run_eval, write_outputs
    from qa.reader_span import ReaderUnavailable

    gold = Path(args.gold)
    if not gold.exists():
        raise FileNotFoundError(f"no gold file at {gold}")
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    config = EvalConfig(
        k=args.k, mode=args.mode, reader=args.reader, model=args.model, int8=args.int8, reader_only=args.reader_only,
        limit=args.limit, seed=args.seed, threshold=args.threshold, progress=not args.quiet,
    )
    try:
        run = run_eval(gold, config, Paths.from_args(args.index).index_dir, Path(args.cache) if args.cache else None)
    except ReaderUnavailable as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(".qa-eval") / gold.name.split(".")[0]
    write_outputs(run, out)
    if args.json:
        print(json.dumps(run.metrics, ensure_ascii=False))
    else:
        print(summary(run.metrics))
        print(f"wrote {out}/predictions.jsonl, metrics.json, report.md")
    return 0


def summary(m: dict) -> str:
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}"

    lines = [
        f"{m['questions']} questions, {m['reader']} reader, "
        + ("gold paragraph only" if m["reader_only"] else f"{m['mode']} k={m['k']}")
        + f", threshold {m['abstain_threshold']:.3f}",
        f"EM {pct(m['exact_match'])}  F1 {pct(m['f1'])}  answer found {pct(m['answer_found'])}",
        f"abstention: {m['abstention']['abstained']} abstained, precision {pct(m['abstention']['precision'])}, recall {pct(m['abstention']['recall'])}",
    ]
    if r := m["retrieval"]:
        lines.append(f"retrieval: recall@1 {pct(r['recall@1'])}  @5 {pct(r['recall@5'])}  @20 {pct(r['recall@20'])}  MRR@10 {r['mrr@10']:.3f}")
    lat = m["latency_ms"]
    lines.append(f"latency: p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms")
    return "\n".join(lines)


def cmd_chat(args) -> int:
    import importlib

    app = importlib.import_module("ui.app")  # the chat UI: gradio is imported only for this command
    return app.main(args) or 0

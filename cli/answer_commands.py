"""``qa ask`` and ``qa eval``: answering a question, and evaluating against gold questions.

The reader and evaluation are imported when a command runs, so ``qa --help`` and ``qa search`` stay quick.

Example:
    $ qa ask "Who is the Chinese foreign ministry spokesman?"
    $ qa ask "Who is the Chinese foreign ministry spokesman?" --json --k 3 --mode bm25
    $ qa ask "What did the spokesman say?" --source ThinkProgress --since 2017-08-01
    $ qa eval corpus/gold/default.jsonl --out runs/default
    $ qa eval ../shared/data/squad-v1.1-dev.json.gz --limit 2000 --seed 0 --out runs/squad11
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cli.options import add_filter_options, add_index_option, filters_of
from cli.terminal import byline, json_line, printable
from qa.question import MAX_K, check_k, check_question
from qa.retriever import MODES
from qa.types import Answer

if TYPE_CHECKING:
    from qa.evaluation.summary import Metrics

READER_CHOICES = ("auto", "sentence", "span")


@dataclass(frozen=True)
class AskOptions:
    index_dir: Path
    question: str
    k: int = 5
    mode: str = "hybrid"
    reader: str = "auto"
    model: str | None = None
    int8: bool | None = None
    threshold: float | None = None
    json: bool = False
    source: list[str] | None = None  # only these sources (any of them)
    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None


@dataclass(frozen=True)
class EvalOptions:
    index_dir: Path
    gold: str
    out: str | None = None
    json: bool = False
    k: int = 5
    mode: str = "hybrid"
    reader: str = "auto"
    model: str | None = None
    int8: bool | None = None
    reader_only: bool = False
    limit: int | None = None
    seed: int = 0
    threshold: float | None = None
    cache: str | None = None
    quiet: bool = False
    source: list[str] | None = None
    since: str | None = None
    until: str | None = None


def register(sub) -> None:
    sp = add_index_option(sub.add_parser("ask", help="answer a question from the indexed articles, with citations"))
    sp.add_argument("question")
    sp.add_argument("--k", type=int, default=5, help=f"passages read and cited, 1 to {MAX_K} (default 5)")
    sp.add_argument("--mode", choices=MODES, default="hybrid")
    sp.add_argument("--reader", choices=READER_CHOICES, default="auto", help="auto: the shipped span model if any, else sentence")
    sp.add_argument("--model", help="span reader model directory (with --reader span)")
    sp.add_argument("--int8", action=argparse.BooleanOptionalAction, default=None,
                    help="span reader with int8 linear layers (faster on the CPU); default: the precision its "
                         "threshold was calibrated with")
    sp.add_argument("--threshold", type=float, help="abstention threshold (default: the reader's calibrated one)")
    sp.add_argument("--json", action="store_true", help="print the Answer as JSON")
    add_filter_options(sp)
    sp.set_defaults(options=AskOptions, run=run_ask)

    sp = add_index_option(sub.add_parser("eval", help="evaluate against gold questions (JSONL, or SQuAD JSON)"))
    sp.add_argument("gold", help="gold JSONL, or SQuAD v1.1/v2.0 JSON (.json or .json.gz)")
    sp.add_argument("--out", help="output directory (default .qa-eval/<gold name>)")
    sp.add_argument("--json", action="store_true", help="print metrics.json to stdout")
    sp.add_argument("--k", type=int, default=5, help=f"passages read, 1 to {MAX_K} (default 5)")
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
    add_filter_options(sp)
    sp.set_defaults(options=EvalOptions, run=run_eval)


def run_ask(options: AskOptions) -> int:
    from qa.answerer import load_answerer
    from qa.reader_span import ReaderUnavailable

    check_question(options.question)  # before loading anything: a question that cannot be asked fails at once
    check_k(options.k, "--k")
    filters = filters_of(options)
    try:
        answerer = load_answerer(options.index_dir, options.reader, options.model, options.int8, options.threshold)
    except ReaderUnavailable as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    answered = answerer.ask_detailed(options.question, k=options.k, mode=options.mode, filters=filters)
    for notice in (answered.retrieval.notice, answered.answer.notice):  # the second is in --json too
        if notice:
            print(f"qa: {printable(notice)}", file=sys.stderr)
    answer = answered.answer
    if options.json:
        print(json_line(answer.to_json_dict()))
    else:
        articles = answerer.retriever.index.articles
        article_text = articles[answer.answer_span[0]].text if answer.answer_span else None
        scope = None if filters is None else filters.describe()
        print(render_answer(answer, article_text, answerer.config.abstain_threshold, scope=scope))
    return 0


def render_answer(answer: Answer, article_text: str | None, threshold: float, width: int = 100,
                  scope: str | None = None) -> str:
    """The human form: answer, its sentence with the answer marked **like this**, numbered citations (each with
    its article's source and day); ``scope``: the filters the passages were chosen under, said on the last line.

    Every piece of article text goes through ``printable`` (before wrapping, so a sequence is never split).
    """
    lines = []
    if answer.abstained:
        lines.append(f"Not found in the articles (confidence {answer.confidence:.2f}, below the threshold {threshold:.2f}).")
        if answer.guess is not None:
            ref = "" if answer.guess.citation is None else f"  [{answer.guess.citation}]"
            guess = " ".join(printable(answer.guess.text).split())
            lines.append(f"Best guess, not an answer (low confidence {answer.guess.confidence:.2f}): “{guess}”{ref}")
        if answer.citations:
            lines.append("Closest passages:")
    else:
        cited = answer.answer_citation()
        tag = f"  [{cited.n}]" if cited else ""
        lines.append(f"Answer: {printable(answer.answer)}{tag}")
        lines.append(f"Confidence: {answer.confidence:.2f}")
        if answer.sentence and answer.sentence != answer.answer:
            lines.append("Sentence: " + printable(mark_answer(answer, article_text)))
        if answer.sources_differ:
            lines.append("Sources differ:")
            for a in answer.alternatives:
                ref = "" if a.citation is None else f"  [{a.citation}]"
                lines.append(printable(f"  {a.label()}: “{' '.join(a.text.split())}”{ref} (confidence {a.confidence:.2f})"))
        elif answer.alternatives:
            lines.append(f"{answer.sources_agreeing} sources agree.")
        lines.append("")
        lines.append("Sources:")
    for c in answer.citations:
        by = byline(c.source, c.published)
        lines.append(printable(f"  [{c.n}] {c.title}{f' — {by}' if by else ''} — chars {c.start}–{c.end} (score {c.score:.4f})"))
        lines.extend(textwrap.wrap(" ".join(printable(c.text).split()), width=width, initial_indent="      ", subsequent_indent="      ", max_lines=3, placeholder=" …"))
    only = "" if scope is None else printable(f"; only articles matching: {scope}")
    lines.append(f"({answer.mode} retrieval, {answer.latency_ms:.0f} ms{only})")
    return "\n".join(lines)


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


def run_eval(options: EvalOptions) -> int:
    from qa.evaluation import EvalConfig
    from qa.evaluation import run_eval as evaluate
    from qa.evaluation.report import write_outputs
    from qa.reader_span import ReaderUnavailable

    gold = Path(options.gold)
    if not gold.exists():
        raise FileNotFoundError(f"no gold file at {gold}")
    if options.limit is not None and options.limit < 1:
        raise ValueError("--limit must be at least 1")
    check_k(options.k, "--k")
    filters = filters_of(options)
    if filters is not None and options.reader_only:
        raise ValueError("--source, --since and --until choose what retrieval searches; --reader-only retrieves nothing")
    config = EvalConfig(
        k=options.k, mode=options.mode, reader=options.reader, model=options.model, int8=options.int8,
        reader_only=options.reader_only, limit=options.limit, seed=options.seed, threshold=options.threshold,
        progress=not options.quiet, filters=filters,
    )
    try:
        run = evaluate(gold, config, options.index_dir, Path(options.cache) if options.cache else None)
    except ReaderUnavailable as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    for qid, why in run.refused[:5]:
        print(printable(f"qa: skipped gold question {qid}: {why}"), file=sys.stderr)
    if len(run.refused) > 5:
        print(f"qa: skipped {len(run.refused) - 5} more gold questions that cannot be asked", file=sys.stderr)
    out = Path(options.out) if options.out else Path(".qa-eval") / gold.name.split(".")[0]
    write_outputs(run, out)
    if options.json:
        print(json.dumps(run.metrics.to_dict(), ensure_ascii=False))
    else:
        print(summary(run.metrics))
        if filters is not None:
            print(printable(f"retrieval restricted to articles matching: {filters.describe()}"))
        print(f"wrote {out}/predictions.jsonl, metrics.json, report.md")
    return 0


def summary(m: Metrics) -> str:
    """The few lines ``qa eval`` prints."""
    def pct(v):
        return "–" if v is None else f"{100 * v:.1f}"

    lines = [
        f"{m.questions} questions, {m.reader} reader, "
        + ("gold paragraph only" if m.reader_only else f"{m.mode} k={m.k}")
        + f", threshold {m.abstain_threshold:.3f}",
        f"EM {pct(m.scores.exact_match)}  F1 {pct(m.scores.f1)}  answer found {pct(m.scores.answer_found)}",
        f"abstention: {m.abstention.abstained} abstained, precision {pct(m.abstention.precision)}, recall {pct(m.abstention.recall)}",
    ]
    if v2 := m.squad_v2:
        splits = "  ".join(f"{name} exact {s.exact:.1f} f1 {s.f1:.1f} ({s.total})"
                           for name, s in (("HasAns", v2.has_ans), ("NoAns", v2.no_ans)) if s is not None)
        lines.append(f"SQuAD v2.0 script: exact {v2.all.exact:.1f} f1 {v2.all.f1:.1f} ({v2.all.total})  {splits}")
        lines.append(f"  best_exact {v2.best_exact:.1f} (thresh {v2.best_exact_thresh:.3f})  best_f1 {v2.best_f1:.1f} "
                     f"(thresh {v2.best_f1_thresh:.3f}); thresh: no-answer probability, 1 - confidence")
    if r := m.retrieval:
        lines.append(f"retrieval: recall@1 {pct(r.recall(1))}  @5 {pct(r.recall(5))}  @20 {pct(r.recall(20))}  MRR@10 {r.mrr:.3f}")
    lines.append(f"latency: p50 {m.latency_ms.p50:.1f} ms  p95 {m.latency_ms.p95:.1f} ms")
    return "\n".join(lines)

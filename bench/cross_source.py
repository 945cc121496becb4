"""Answers across sources: does a reply show where the articles disagree, and say so when they agree?

The gold set (``bench/data/cross_source/``, written for this benchmark: fictional events) has three stories, each
told by two or three outlets on different days that disagree on some facts and agree on others. Each question
says whether the outlets ``differ`` or ``agree`` and, for every outlet that states it, the acceptable answers
(verbatim in that outlet's article). The articles are loaded by the project's loaders and indexed by its own index
code (in memory, nothing written but the figures); every question is asked with the shipped answerer
(``qa.answerer.build_answerer``: the reader ``auto`` picks, hybrid, k = 5, the reader's calibrated threshold).

An (outlet, answer) pair is *found* when an entry of ``Answer.alternatives`` from that outlet matches one of its
answers: exact match or token F1 >= 0.5 (``qa.metrics``, SQuAD normalisation). Figures:
  differ questions  shown as differing (``Answer.sources_differ``); answered without showing it (the
                    disagreement hidden); pair recall among the alternatives, and among what the reply shows
                    (the alternatives, else the answer alone, with its source);
  agree questions   shown as agreeing (alternatives, none differing), wrongly shown as differing, one source only;
  all               F1 / EM of the main answer against the union of every outlet's answers; how many outlets'
                    articles were among the passages read (the ceiling on pair recall); how many other articles'
                    best spans the reader gave, and how many cleared the threshold.
Baseline ("single answer"): the same answers shown without alternatives, the reply before cross-source answers:
it never shows a disagreement, so every answered differ question hides one, and its pair recall counts the
answer alone. Nothing here is tuned on this set.

Example:
    $ .venv/bin/python -m bench.cross_source
    $ .venv/bin/python -m bench.cross_source --reader sentence --out /tmp/cross_source.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from corpus.loaders import load_paths
from index.embedder import Embedder, EmbedderUnavailable
from index.sources import describe_sources
from index.store import build_index
from qa.answerer import Answered, build_answerer
from qa.metrics import exact_match, f1_score
from qa.types import Answer

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "bench" / "data" / "cross_source"
ARTICLES = DATA_DIR / "articles.jsonl"
GOLD = DATA_DIR / "gold.jsonl"
RESULTS = ROOT / "bench" / "results" / "cross_source.json"
MATCH_F1 = 0.5  # an alternative matches an outlet's answer at token F1 >= 0.5 (or exact match)
EXPECTS = ("differ", "agree")


@dataclass(frozen=True)
class CrossSourceQuestion:
    id: str
    question: str
    expect: str  # "differ" or "agree": what the outlets that state it do
    answers_by_source: Mapping[str, tuple[str, ...]]  # outlet -> acceptable answers, verbatim in its article

    @property
    def all_answers(self) -> list[str]:
        return [a for answers in self.answers_by_source.values() for a in answers]


@dataclass(frozen=True)
class QuestionRow:
    """One question's reply, scored."""

    id: str
    expect: str
    question: str
    answer: str | None
    answer_source: str | None
    confidence: float
    f1: float  # the main answer against the union of every outlet's answers
    em: float
    shown: str  # "differ", "agree", "single" (answered, no alternatives) or "abstained"
    pairs: int  # expected (outlet, answer) pairs
    pairs_read: int  # ... whose outlet's article was among the passages read
    found_alternatives: int  # ... found among Answer.alternatives
    found_reply: int  # ... found in what the reply shows (alternatives, else the answer alone)
    found_single: int  # ... found by the answer alone (the baseline)
    unmatched_alternatives: int  # entries of Answer.alternatives matching no answer of their outlet (or an outlet
    # that does not state it): a wrong answer shown beside the others
    articles_read: int
    reader_alternatives: int  # other articles' best spans the reader gave
    above_threshold: int  # ... of which cleared the threshold
    alternatives: tuple[dict, ...]  # (source, text, confidence, agrees) of each entry of Answer.alternatives


def load_gold(path: Path = GOLD) -> list[CrossSourceQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["expect"] not in EXPECTS:
            raise ValueError(f"{path} line {number}: expect must be one of {EXPECTS}, got {row['expect']!r}")
        by_source = {s: tuple(a) for s, a in row["answers_by_source"].items()}
        questions.append(CrossSourceQuestion(row["id"], row["question"], row["expect"], by_source))
    return questions


def matches(prediction: str | None, answers: tuple[str, ...] | list[str]) -> bool:
    """The scoring rule of a pair: exact match, or token F1 >= MATCH_F1."""
    if not prediction:
        return False
    return bool(exact_match(prediction, list(answers))) or f1_score(prediction, list(answers)) >= MATCH_F1


def shown_as(answer: Answer) -> str:
    if answer.abstained:
        return "abstained"
    if answer.sources_differ:
        return "differ"
    return "agree" if answer.alternatives else "single"


def score_question(q: CrossSourceQuestion, answered: Answered, threshold: float, k: int) -> QuestionRow:
    answer = answered.answer
    hits = answered.retrieval.hits[:k]
    read_sources = {c.source for c in answer.citations}
    answer_source = next((c.source for c in answer.citations if c.holds(answer.answer_span)), None)
    single = [] if answer.abstained else [(answer_source, answer.answer)]
    shown = [(a.source, a.text) for a in answer.alternatives] or single

    def found(pairs: list[tuple[str | None, str | None]], source: str, answers: tuple[str, ...]) -> bool:
        return any(s == source and matches(text, answers) for s, text in pairs)

    by_source = q.answers_by_source.items()
    alternatives = [(a.source, a.text) for a in answer.alternatives]
    others = answered.candidate.alternatives
    return QuestionRow(
        id=q.id, expect=q.expect, question=q.question, answer=answer.answer, answer_source=answer_source,
        confidence=round(answer.confidence, 4),
        f1=0.0 if answer.abstained else f1_score(answer.answer, q.all_answers),
        em=0.0 if answer.abstained else exact_match(answer.answer, q.all_answers),
        shown=shown_as(answer), pairs=len(q.answers_by_source),
        pairs_read=sum(s in read_sources for s in q.answers_by_source),
        found_alternatives=sum(found(alternatives, s, a) for s, a in by_source),
        found_reply=sum(found(shown, s, a) for s, a in by_source),
        found_single=sum(found(single, s, a) for s, a in by_source),
        unmatched_alternatives=sum(not matches(t, q.answers_by_source.get(s, ())) for s, t in alternatives),
        articles_read=len({h.chunk.article_id for h in hits}),
        reader_alternatives=len(others),
        above_threshold=sum(o.answer is not None and o.confidence >= threshold for o in others),
        alternatives=tuple({"source": a.source, "text": a.text, "confidence": round(a.confidence, 4),
                            "agrees": a.agrees} for a in answer.alternatives),
    )


def _share(n: int, total: int) -> float | None:
    return None if not total else round(100.0 * n / total, 1)


def summarise(rows: list[QuestionRow]) -> dict:
    """The figures of one run: per kind of question, the reply with alternatives and the single-answer baseline."""
    out: dict = {}
    for kind in EXPECTS:
        part = [r for r in rows if r.expect == kind]
        n, pairs = len(part), sum(r.pairs for r in part)
        answered = sum(r.shown != "abstained" for r in part)
        figures = {
            "questions": n,
            "answered": answered,
            "shown_differ": sum(r.shown == "differ" for r in part),
            "shown_agree": sum(r.shown == "agree" for r in part),
            "shown_single": sum(r.shown == "single" for r in part),
            "abstained": n - answered,
            "pairs": pairs,
            "pairs_read": sum(r.pairs_read for r in part),
            "pair_recall_alternatives": _share(sum(r.found_alternatives for r in part), pairs),
            "pair_recall_reply": _share(sum(r.found_reply for r in part), pairs),
            "pair_recall_single": _share(sum(r.found_single for r in part), pairs),
            "alternatives_shown": sum(len(r.alternatives) for r in part),
            "alternatives_unmatched": sum(r.unmatched_alternatives for r in part),
            "answer_f1": _share(sum(r.f1 for r in part), n),  # mean F1, in percent
            "answer_em": _share(sum(r.em for r in part), n),
        }
        if kind == "differ":  # answered without showing the disagreement: hidden from the user
            figures["hidden"] = answered - figures["shown_differ"]
            figures["hidden_single"] = answered
        out[kind] = figures
    out["reader"] = {
        "articles_read_mean": round(sum(r.articles_read for r in rows) / max(1, len(rows)), 2),
        "reader_alternatives": sum(r.reader_alternatives for r in rows),
        "above_threshold": sum(r.above_threshold for r in rows),
        "questions_with_alternatives": sum(bool(r.alternatives) for r in rows),
    }
    return out


def table(summary: dict, setup: str) -> str:
    d, a, r = summary["differ"], summary["agree"], summary["reader"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    lines = [
        setup,
        f"{'':44}{'with alternatives':>19}{'single answer':>15}",
        f"differ ({d['questions']} questions, {d['pairs']} outlet answers, {d['pairs_read']} of them read)",
        f"{'  shown as differing':44}{d['shown_differ']:>19}{0:>15}",
        f"{'  answered, disagreement hidden':44}{d['hidden']:>19}{d['hidden_single']:>15}",
        f"{'  abstained':44}{d['abstained']:>19}{d['abstained']:>15}",
        f"{'  outlet-answer recall, alternatives (%)':44}{pct(d['pair_recall_alternatives']):>19}{'-':>15}",
        f"{'  outlet-answer recall, reply shows (%)':44}{pct(d['pair_recall_reply']):>19}"
        f"{pct(d['pair_recall_single']):>15}",
        f"{'  alternatives shown / matching no answer':44}"
        f"{str(d['alternatives_shown']) + ' / ' + str(d['alternatives_unmatched']):>19}{'-':>15}",
        f"{'  answer F1 / EM vs any outlet (%)':44}{pct(d['answer_f1']) + ' / ' + pct(d['answer_em']):>19}"
        f"{pct(d['answer_f1']) + ' / ' + pct(d['answer_em']):>15}",
        f"agree ({a['questions']} questions, {a['pairs']} outlet answers, {a['pairs_read']} of them read)",
        f"{'  shown as agreeing':44}{a['shown_agree']:>19}{0:>15}",
        f"{'  wrongly shown as differing':44}{a['shown_differ']:>19}{0:>15}",
        f"{'  one source only (no alternatives)':44}{a['shown_single']:>19}{a['answered']:>15}",
        f"{'  abstained':44}{a['abstained']:>19}{a['abstained']:>15}",
        f"{'  outlet-answer recall, reply shows (%)':44}{pct(a['pair_recall_reply']):>19}"
        f"{pct(a['pair_recall_single']):>15}",
        f"{'  alternatives shown / matching no answer':44}"
        f"{str(a['alternatives_shown']) + ' / ' + str(a['alternatives_unmatched']):>19}{'-':>15}",
        f"{'  answer F1 / EM vs any outlet (%)':44}{pct(a['answer_f1']) + ' / ' + pct(a['answer_em']):>19}"
        f"{pct(a['answer_f1']) + ' / ' + pct(a['answer_em']):>15}",
        f"reader: {r['articles_read_mean']} articles read a question; {r['reader_alternatives']} other-article "
        f"spans, {r['above_threshold']} above the threshold; {r['questions_with_alternatives']} questions with "
        "alternatives",
        f"pairs: an alternative from that outlet with exact match or token F1 >= {MATCH_F1}",
    ]
    return "\n".join(lines)


def question_lines(rows: list[QuestionRow]) -> str:
    out = []
    for r in rows:
        alts = "; ".join(f"{a['source']}: {a['text']!r} {a['confidence']:.2f}{'' if a['agrees'] else ' (differs)'}"
                         for a in r.alternatives)
        out.append(f"{r.id:20} {r.expect:6} {r.shown:9} {r.answer!r} ({r.answer_source}, {r.confidence:.2f})"
                   + (f"  | {alts}" if alts else ""))
    return "\n".join(out)


def run(articles_path: Path = ARTICLES, gold_path: Path = GOLD, reader: str = "auto", model: str | None = None,
        k: int = 5, mode: str = "hybrid", threshold: float | None = None, embedder=None) -> tuple[dict, list[QuestionRow]]:
    """Index the articles, ask every gold question, score; returns (figures with their setting, rows)."""
    report = load_paths([articles_path])
    if report.errors:
        raise SystemExit(f"cannot load {articles_path}: {report.errors}")
    if embedder is None:  # one model for the index and the answerer (each would load its own)
        try:
            embedder = Embedder()
        except EmbedderUnavailable:
            embedder = None  # BM25 alone, as the project does without the model
    index = build_index(report.articles, embedder=embedder, progress=False, sources=describe_sources([articles_path]))
    answerer = build_answerer(index, reader=reader, model=model, threshold=threshold, embedder=embedder)
    applied = answerer.config.abstain_threshold
    questions = load_gold(gold_path)
    rows = [score_question(q, answerer.ask_detailed(q.question, k=k, mode=mode), applied, k) for q in questions]
    model_path = getattr(answerer.reader, "model_path", None)
    if model_path and Path(model_path).resolve().is_relative_to(ROOT):  # not this machine's folders in the results
        model_path = str(Path(model_path).resolve().relative_to(ROOT))
    setting = {"reader": answerer.reader.name, "model": model_path, "k": k,
               "mode": mode, "threshold": round(applied, 4), "articles": len(index.articles),
               "chunks": len(index.chunks), "questions": len(questions), "match": f"exact match or F1 >= {MATCH_F1}"}
    return {"setting": setting} | summarise(rows), rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=Path, default=ARTICLES)
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--reader", default="auto", choices=("auto", "span", "sentence"))
    ap.add_argument("--model", help="a span model folder (default: the shipped one)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--mode", default="hybrid", choices=("hybrid", "dense", "bm25"))
    ap.add_argument("--threshold", type=float, help="override the reader's calibrated threshold")
    ap.add_argument("--out", type=Path, default=RESULTS, help="the figures as JSON (a .txt table beside it)")
    args = ap.parse_args(argv)
    figures, rows = run(args.articles, args.gold, args.reader, args.model, args.k, args.mode, args.threshold)
    s = figures["setting"]
    setup = (f"{s['questions']} questions over {s['articles']} articles ({s['chunks']} chunks); reader {s['reader']}, "
             f"{s['mode']} k={s['k']}, threshold {s['threshold']}")
    text = table(figures, setup)
    print(question_lines(rows), "", text, sep="\n")
    figures["command"] = " ".join(["python -m bench.cross_source", *(argv if argv is not None else sys.argv[1:])])
    figures["rows"] = [asdict(r) for r in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    print(f"\nwrote {args.out} and {args.out.with_suffix('.txt')}")


if __name__ == "__main__":
    main()

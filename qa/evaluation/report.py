"""The files of an evaluation run: predictions.jsonl, metrics.json, and the human report ``report.md`` with
tables and matplotlib PNG plots beside it.

Plots: recall@k for k = 1..retrieve_k, and the confidence histogram of answerable questions (answer found or
not) against unanswerable ones, with the abstention threshold drawn in.

Example:
    >>> run = run_eval(Path("corpus/gold/default.jsonl"), index_dir=Path(".qa-index"))   # doctest: +SKIP
    >>> write_outputs(run, Path("runs/default"))                                         # doctest: +SKIP
    [PosixPath('runs/default/predictions.jsonl'), PosixPath('runs/default/metrics.json'), ...]
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402

from qa.evaluation.run import EvalRun  # noqa: E402
from qa.evaluation.squad_v2 import SquadV2Figures  # noqa: E402

RECALL_PLOT = "recall_at_k.png"
CONFIDENCE_PLOT = "confidence_hist.png"


def write_outputs(run: EvalRun, out_dir: Path) -> list[Path]:
    """predictions.jsonl, metrics.json, report.md and its plots; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    predictions = out_dir / "predictions.jsonl"
    with predictions.open("w", encoding="utf-8") as f:
        for o in run.outcomes:
            f.write(json.dumps({"id": o.gold.id, **o.answered.answer.to_json_dict()}, ensure_ascii=False) + "\n")
    metrics = out_dir / "metrics.json"
    metrics.write_text(json.dumps(run.metrics.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [predictions, metrics, *write_report(run, out_dir)]


def write_report(run: EvalRun, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    written = []
    plots = []
    if run.metrics.retrieval is not None:
        written.append(plot_recall(run.metrics.retrieval.recall_curve, out_dir / RECALL_PLOT))
        plots.append(("Retrieval recall@k", RECALL_PLOT))
    written.append(plot_confidence(run, out_dir / CONFIDENCE_PLOT))
    plots.append(("Confidence of answerable and unanswerable questions", CONFIDENCE_PLOT))
    report = out_dir / "report.md"
    report.write_text(render_markdown(run, plots), encoding="utf-8")
    return [report, *written]


def plot_recall(curve: list[float], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 4))
    ks = list(range(1, len(curve) + 1))
    ax.plot(ks, [100 * v for v in curve], marker="o")
    ax.set_xlabel("k (retrieved chunks)")
    ax.set_ylabel("recall@k (%)")
    ax.set_ylim(0, 100)
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.set_title("A chunk holding the gold answer within the top k")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_confidence(run: EvalRun, path: Path) -> Path:
    groups = {
        "answerable, answer found": [o.answered.candidate.confidence for o in run.outcomes if o.gold.answerable and o.candidate_credit["found"]],
        "answerable, not found": [o.answered.candidate.confidence for o in run.outcomes if o.gold.answerable and not o.candidate_credit["found"]],
        "unanswerable": [o.answered.candidate.confidence for o in run.outcomes if not o.gold.answerable],
    }
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = [i / 20 for i in range(21)]
    shown = {label: values for label, values in groups.items() if values}
    colors = {"answerable, answer found": "tab:green", "answerable, not found": "tab:orange", "unanswerable": "tab:red"}
    if shown:  # grouped bars side by side: overlapping translucent bars mix into unreadable colours
        ax.hist(list(shown.values()), bins=bins, color=[colors[k] for k in shown], label=[f"{k} ({len(v)})" for k, v in shown.items()])
    ax.axvline(run.threshold, color="black", linestyle="--", label=f"threshold {run.threshold:.3f}")
    ax.set_xlabel("reader confidence (before abstention)")
    ax.set_ylabel("questions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def render_markdown(run: EvalRun, plots: list[tuple[str, str]]) -> str:
    m = run.metrics
    lines = [
        f"# Evaluation: {Path(m.gold).name}",
        "",
        f"- questions: {m.questions} of {m.questions_in_file}" + (f" (seeded sample, seed {m.seed})" if m.limit else ""),
        f"- reader: {m.reader}" + (f" ({m.model})" if m.model else "") + (", gold paragraph only" if m.reader_only else ""),
        f"- retrieval: {m.mode} (used: {', '.join(f'{k} {v}' for k, v in m.modes_used.items())}), k={m.k}",
        f"- abstention threshold: {m.abstain_threshold:.4f}",
        f"- {m.index}",
        "",
        "## Answers",
        "",
        "| set | questions | EM | F1 | answer found |",
        "|---|---:|---:|---:|---:|",
        f"| all | {m.questions} | {_pct(m.scores.exact_match)} | {_pct(m.scores.f1)} | {_pct(m.scores.answer_found)} |",
        f"| answerable | {m.has_answer.count} | {_pct(m.has_answer.scores.exact_match)} | {_pct(m.has_answer.scores.f1)} | {_pct(m.has_answer.scores.answer_found)} |",
        f"| unanswerable | {m.no_answer.count} | {_pct(m.no_answer.scores.exact_match)} | {_pct(m.no_answer.scores.f1)} | – |",
        "",
        "EM and F1 use SQuAD normalisation, maximum over gold answers; an unanswerable question counts as correct",
        "when abstained. *Answer found*: a gold answer occurs in the answer or its sentence (answerable questions).",
        "",
    ]
    if m.by_kind:
        lines += ["### By kind", "", "| kind | questions | EM | F1 | answer found | abstained | recall@5 |", "|---|---:|---:|---:|---:|---:|---:|"]
        for kind, k in m.by_kind.items():
            r5 = k.retrieval.recall(5) if k.retrieval else None
            lines.append(f"| {kind} | {k.count} | {_pct(k.scores.exact_match)} | {_pct(k.scores.f1)} | {_pct(k.scores.answer_found)} | {_pct(k.abstained)} | {_pct(r5)} |")
        lines.append("")
    lines += squad_v2_section(m.squad_v2)
    a = m.abstention
    c = m.calibration
    lines += [
        "## Abstention",
        "",
        f"- abstained on {a.abstained} questions; unanswerable questions: {a.unanswerable}",
        f"- precision {_pct(a.precision)}, recall {_pct(a.recall)} (on unanswerable questions)",
        f"- best threshold on this set ({c.criterion}): {c.best_threshold:.4f}, mean credit {_pct(c.score_at_best)}",
        "",
    ]
    if (r := m.retrieval) is not None:
        lines += [
            "## Retrieval",
            "",
            f"Over {r.judged} answerable questions with a known answer location.",
            "",
            "| recall@1 | recall@5 | recall@20 | MRR@10 |",
            "|---:|---:|---:|---:|",
            f"| {_pct(r.recall(1))} | {_pct(r.recall(5))} | {_pct(r.recall(20))} | {r.mrr:.3f} |",
            "",
        ]
    lat = m.latency_ms
    lines += ["## Latency", "", f"Per question (retrieval + reading): p50 {_ms(lat.p50)} ms, p95 {_ms(lat.p95)} ms, mean {_ms(lat.mean)} ms.", ""]
    for title, name in plots:
        lines += [f"## {title}", "", f"![{title}]({name})", ""]
    misses = [o for o in run.outcomes if o.gold.answerable and not o.found][:10]
    if misses:
        lines += ["## Examples where the answer was not found", ""]
        for o in misses:
            got = o.answered.answer.answer or "(abstained)"
            lines.append(f"- **{o.gold.id}** {o.gold.question} — gold: {' | '.join(o.gold.answers[:3])} — got: {_short(got)}")
        lines.append("")
    return "\n".join(lines)


def squad_v2_section(v2: SquadV2Figures | None) -> list[str]:
    """The official SQuAD v2.0 script's figures for the same answers, with its key names."""
    if v2 is None:
        return []
    rows = [("all", v2.all), ("HasAns", v2.has_ans), ("NoAns", v2.no_ans)]
    return [
        "## SQuAD v2.0 official figures",
        "",
        "What `evaluate-v2.0.py` reports for these answers (abstained: the empty answer) with no-answer",
        "probability 1 − confidence, in percent.",
        "",
        "| set | exact | f1 | total |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {s.exact:.2f} | {s.f1:.2f} | {s.total} |" for name, s in rows if s is not None),
        "",
        (f"- best_exact {v2.best_exact:.2f} (best_exact_thresh {v2.best_exact_thresh:.4f}), best_f1 {v2.best_f1:.2f} "
         f"(best_f1_thresh {v2.best_f1_thresh:.4f}): the best over no-answer thresholds on this very set, answering"),
        "  where the no-answer probability is at most the threshold (confidence at least 1 − threshold).",
        "",
    ]


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""``--eval-holdout FILE``: the reader on a train hold-out (``python -m training.negatives``), scored like the
official SQuAD v2.0 script.

Each question (answerable ones with their gold paragraph, unanswerable ones with a context that does not answer
them) is read by the shipped reader around the model (``training.evaluation.read_examples``: the tokenising and
decoding of ``qa ask``); its no-answer score is the reader's null gap, the chosen span's start + end logit minus
the [CLS] start + end logit of its window (``ReaderResult.signals["null_gap_logit"]``). Scored as the official
v2.0 script scores it (``qa.metrics``):
- at gap threshold 0 (answer when the span beats [CLS]): EM/F1 over all, HasAns EM/F1, NoAns accuracy (an
  unanswerable question is right only when abstained), and NoAns accuracy by kind of negative;
- at the best threshold on the gap (``best_f1``, ``best_exact``: the script's ``find_best_thresh``, the threshold
  chosen on the hold-out itself, so an upper bound for a threshold calibrated elsewhere);
- ``has_ans_f1_always``: F1 on the answerable questions when the reader never abstains (its spans alone).

Example:
    >>> examples, kinds = holdout_examples(Path("build/negatives/holdout.jsonl"))                 # doctest: +SKIP
    >>> score_holdout(["Ann", None], [2.5, -1.0], [["Ann"], []], ["answerable", "retrieval"])["f1"]
    100.0
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from training.features import Example
from training.settings import Settings


def holdout_examples(path: Path) -> tuple[list[Example], list[str]]:
    """The questions of a hold-out file as examples (no answer span needed: only read), with their kinds."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    examples = [Example(r["question"], r["context"], -1, -1, list(r.get("answers") or [])) for r in rows]
    return examples, [r["kind"] for r in rows]


def _pct(values) -> float | None:
    return round(100 * float(np.mean(values)), 2) if len(values) else None


def score_holdout(spans: list[str | None], gaps: list[float], answers: list[list[str]], kinds: list[str]) -> dict:
    """SQuAD v2.0 figures of the reader's spans and null gaps (``gaps``; -inf where nothing was read)."""
    from qa.metrics import best_threshold, exact_match, f1_score

    gap = np.asarray(gaps, dtype=float)
    has = np.array([bool(a) for a in answers])
    at_zero = [s if g > 0 else "" for s, g in zip(spans, gap)]  # the official default: null threshold 0
    em = np.array([exact_match(p, a) for p, a in zip(at_zero, answers)])
    f1 = np.array([f1_score(p, a) for p, a in zip(at_zero, answers)])
    span_em = [exact_match(s or "", a) if h else 0.0 for s, a, h in zip(spans, answers, has)]
    span_f1 = [f1_score(s or "", a) if h else 0.0 for s, a, h in zip(spans, answers, has)]
    finite = np.where(np.isfinite(gap), gap, -1e9)
    best_f1 = best_threshold(finite.tolist(), span_f1, has.tolist())
    best_em = best_threshold(finite.tolist(), span_em, has.tolist())
    abstain_best = finite < best_f1.threshold
    by_kind = {}
    for kind in sorted({k for k, h in zip(kinds, has) if not h}):
        rows = np.array([k == kind for k in kinds])
        by_kind[kind] = {"n": int(rows.sum()), "no_ans_acc": _pct(gap[rows] <= 0),
                         "no_ans_acc_best_f1_thresh": _pct(abstain_best[rows])}
    return {
        "n": len(answers), "has_ans_n": int(has.sum()), "no_ans_n": int((~has).sum()),
        "exact": _pct(em), "f1": _pct(f1),
        "has_ans_exact": _pct(em[has]), "has_ans_f1": _pct(f1[has]),
        "no_ans_acc": _pct(em[~has]),
        "best_exact": round(100 * best_em.score, 2), "best_exact_thresh": round(best_em.threshold, 4),
        "best_f1": round(100 * best_f1.score, 2), "best_f1_thresh": round(best_f1.threshold, 4),
        "has_ans_f1_best_thresh": _pct(np.where(abstain_best, 0.0, span_f1)[has]),
        "no_ans_acc_best_thresh": _pct(abstain_best[~has]),
        "has_ans_f1_always": _pct(np.asarray(span_f1)[has]),
        "no_ans_by_kind": by_kind,
    }


def evaluate_holdout(model, tokenizer, path: Path, settings: Settings, device, bf16: bool,
                     batch_size: int = 64) -> dict:
    """``score_holdout`` of the shipped reader around ``model`` on the hold-out file ``path``."""
    from training.evaluation import read_examples

    t0 = time.perf_counter()
    examples, kinds = holdout_examples(path)
    results, _ = read_examples(model, tokenizer, examples, settings, device, bf16, batch_size)
    gaps = [r.signals.get("null_gap_logit", float("-inf")) if r.answer is not None else float("-inf")
            for r in results]
    scores = score_holdout([r.answer for r in results], gaps, [e.answers for e in examples], kinds)
    return {"file": Path(path).name, **scores, "seconds": round(time.perf_counter() - t0, 1)}


def holdout_line(result: dict) -> str:
    return (f"hold-out (n={result['n']}: {result['has_ans_n']} answerable): at gap 0 F1 {result['f1']:.2f} "
            f"(HasAns F1 {result['has_ans_f1']:.2f}, NoAns acc {result['no_ans_acc']:.2f}); best-threshold F1 "
            f"{result['best_f1']:.2f} (gap {result['best_f1_thresh']:.2f}); HasAns F1 never abstaining "
            f"{result['has_ans_f1_always']:.2f}")

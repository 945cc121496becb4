"""The metrics of an evaluation run, typed: what the report, the CLI summary and the benchmarks read.

``Metrics.to_dict()`` is ``metrics.json`` (the shape the contract and earlier runs use: "recall@5",
"mrr@10", ...). Every figure is a mean over the questions it concerns; None where there were none. The
"squad_v2" block is the official SQuAD v2.0 script's output for the same answers (``qa.evaluation.squad_v2``:
its key names, in percent as it prints them).

Example:
    >>> metrics = summarize(outcomes, config, Path("gold.jsonl"), "span", 0.11, "index .qa-index")  # doctest: +SKIP
    >>> metrics.scores.f1, metrics.retrieval.recall(5), metrics.abstention.recall                     # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.evaluation.records import EvalConfig, Outcome
from qa.evaluation.squad_v2 import SquadV2Figures, predictions_of, squad_v2_figures
from qa.metrics import best_threshold, percentile

RECALL_AT = (1, 5, 20)
MRR_AT = 10


@dataclass(frozen=True)
class AnswerScores:
    exact_match: float | None
    f1: float | None
    answer_found: float | None  # over the answerable questions only

    def to_dict(self) -> dict:
        return {"exact_match": self.exact_match, "f1": self.f1, "answer_found": self.answer_found}


@dataclass(frozen=True)
class GroupScores:
    """The scores of the answerable (or of the unanswerable) questions."""

    count: int
    scores: AnswerScores
    # the reader's pick before abstention, answerable questions only: its quality apart from the threshold
    answer_found_before_abstention: float | None = None


@dataclass(frozen=True)
class Abstention:
    abstained: int
    unanswerable: int
    precision: float | None  # of the abstentions, the share on unanswerable questions
    recall: float | None  # of the unanswerable questions, the share abstained on

    def to_dict(self) -> dict:
        return {"abstained": self.abstained, "unanswerable": self.unanswerable, "precision": self.precision, "recall": self.recall}


@dataclass(frozen=True)
class RetrievalScores:
    judged: int  # answerable questions with a known answer location
    recall_curve: list[float]  # recall@k for k = 1..retrieve_k
    mrr: float | None  # MRR@10

    def recall(self, k: int) -> float | None:
        return self.recall_curve[k - 1] if k <= len(self.recall_curve) else None

    def to_dict(self) -> dict:
        return {"judged": self.judged, **{f"recall@{k}": self.recall(k) for k in RECALL_AT}, f"mrr@{MRR_AT}": self.mrr,
                "recall_curve": self.recall_curve}


@dataclass(frozen=True)
class Latency:
    p50: float | None
    p95: float | None
    mean: float | None

    def to_dict(self) -> dict:
        return {"p50": self.p50, "p95": self.p95, "mean": self.mean}


@dataclass(frozen=True)
class Calibration:
    """The best abstention threshold on this very set (by F1 credit, or "answer found" for the sentence reader)."""

    criterion: str
    best_threshold: float
    score_at_best: float
    abstain_precision_at_best: float | None
    abstain_recall_at_best: float | None

    def to_dict(self) -> dict:
        return {"criterion": self.criterion, "best_threshold": self.best_threshold, "score_at_best": self.score_at_best,
                "abstain_precision_at_best": self.abstain_precision_at_best, "abstain_recall_at_best": self.abstain_recall_at_best}


@dataclass(frozen=True)
class KindScores:
    count: int
    scores: AnswerScores
    abstained: float | None
    retrieval: RetrievalScores | None

    def to_dict(self) -> dict:
        return {"count": self.count, **self.scores.to_dict(), "abstained": self.abstained,
                "retrieval": self.retrieval.to_dict() if self.retrieval else None}


@dataclass(frozen=True)
class Metrics:
    gold: str
    questions: int
    questions_in_file: int
    limit: int | None
    seed: int
    reader: str
    model: str | None
    int8: bool | None
    reader_only: bool
    mode: str
    modes_used: dict[str, int]
    k: int
    abstain_threshold: float
    index: str
    scores: AnswerScores  # all questions
    has_answer: GroupScores
    no_answer: GroupScores
    abstention: Abstention
    retrieval: RetrievalScores | None
    latency_ms: Latency
    calibration: Calibration
    by_kind: dict[str, KindScores] | None  # only for gold sets whose questions carry a "kind"
    questions_refused: int = 0  # gold questions skipped because they cannot be asked (qa.question.check_question)
    squad_v2: SquadV2Figures | None = None  # the official SQuAD v2.0 script's figures (percentages), same answers

    def to_dict(self) -> dict:
        has_answer = {"count": self.has_answer.count, **self.has_answer.scores.to_dict(),
                      "answer_found_before_abstention": self.has_answer.answer_found_before_abstention}
        out = {
            "gold": self.gold, "questions": self.questions, "questions_in_file": self.questions_in_file,
            "questions_refused": self.questions_refused,
            "limit": self.limit, "seed": self.seed, "reader": self.reader, "model": self.model, "int8": self.int8,
            "reader_only": self.reader_only, "mode": self.mode, "modes_used": self.modes_used, "k": self.k,
            "abstain_threshold": self.abstain_threshold, "index": self.index,
            **self.scores.to_dict(),
            "has_answer": has_answer,
            "no_answer": {"count": self.no_answer.count, **self.no_answer.scores.to_dict()},
            "abstention": self.abstention.to_dict(),
            "retrieval": self.retrieval.to_dict() if self.retrieval else None,
            "latency_ms": self.latency_ms.to_dict(),
            "calibration": self.calibration.to_dict(),
        }
        if self.squad_v2 is not None:
            out["squad_v2"] = self.squad_v2.to_dict()
        if self.by_kind:
            out["by_kind"] = {kind: scores.to_dict() for kind, scores in self.by_kind.items()}
        return out


def summarize(outcomes: list[Outcome], config: EvalConfig, gold_path: Path, reader: str, threshold: float,
              index_note: str, total: int | None = None) -> Metrics:
    """The metrics of ``outcomes``; ``total``: the questions in the gold file (default: those evaluated)."""
    answerable = [o for o in outcomes if o.gold.answerable]
    unanswerable = [o for o in outcomes if not o.gold.answerable]
    criterion = "found" if reader == "sentence" else "f1"
    choice = best_threshold(
        [o.answered.candidate.confidence for o in outcomes],
        [o.candidate_credit[criterion] for o in outcomes],
        [o.gold.answerable for o in outcomes],
    )
    kinds = sorted({o.kind for o in outcomes if o.kind})
    by_kind = {
        kind: KindScores(len(group), _answer_scores(group), _mean([o.answered.answer.abstained for o in group]),
                         _retrieval([o for o in group if o.judged], config.retrieve_k))
        for kind in kinds
        for group in [[o for o in outcomes if o.kind == kind]]
    }
    return Metrics(
        gold=str(gold_path),
        questions=len(outcomes),
        questions_in_file=total if total is not None else len(outcomes),
        limit=config.limit,
        seed=config.seed,
        reader=reader,
        model=config.model,
        int8=config.int8,
        reader_only=config.reader_only,
        mode=config.mode,
        modes_used=dict(Counter(o.answered.answer.mode for o in outcomes)),
        k=1 if config.reader_only else config.k,
        abstain_threshold=threshold,
        index=index_note,
        scores=_answer_scores(outcomes),
        has_answer=GroupScores(len(answerable), _answer_scores(answerable),
                               _mean(o.candidate_credit["found"] for o in answerable)),
        no_answer=GroupScores(len(unanswerable), _answer_scores(unanswerable)),
        abstention=_abstention(outcomes),
        retrieval=_retrieval([o for o in outcomes if o.judged], config.retrieve_k),
        latency_ms=_latency(outcomes),
        calibration=Calibration("answer_found" if criterion == "found" else "f1", choice.threshold, choice.score,
                                choice.abstain_precision, choice.abstain_recall),
        by_kind=by_kind or None,
        squad_v2=squad_v2_figures(predictions_of(outcomes)),
    )


def _mean(values) -> float | None:
    values = list(values)
    return float(np.mean(values)) if values else None


def _answer_scores(outcomes: list[Outcome]) -> AnswerScores:
    answerable = [o for o in outcomes if o.gold.answerable]
    return AnswerScores(_mean(o.exact_match for o in outcomes), _mean(o.f1 for o in outcomes),
                        _mean(o.found for o in answerable))


def _abstention(outcomes: list[Outcome]) -> Abstention:
    abstained = [o for o in outcomes if o.answered.answer.abstained]
    unanswerable = [o for o in outcomes if not o.gold.answerable]
    right = [o for o in abstained if not o.gold.answerable]
    return Abstention(len(abstained), len(unanswerable), len(right) / len(abstained) if abstained else None,
                      len(right) / len(unanswerable) if unanswerable else None)


def _retrieval(judged: list[Outcome], depth: int) -> RetrievalScores | None:
    if not judged:
        return None
    ranks = [o.first_relevant for o in judged]
    curve = [_mean(r is not None and r <= k for r in ranks) for k in range(1, depth + 1)]
    mrr = _mean(1.0 / r if r is not None and r <= MRR_AT else 0.0 for r in ranks)
    return RetrievalScores(len(judged), curve, mrr)


def _latency(outcomes: list[Outcome]) -> Latency:
    values = [o.answered.answer.latency_ms for o in outcomes]
    return Latency(percentile(values, 50), percentile(values, 95), _mean(values))

"""The figures of the official SQuAD v2.0 evaluation script (``evaluate-v2.0.py``), from an evaluation's outcomes.

What the script would print given our ``predictions.jsonl`` as its predictions (the answer, ``""`` when
abstained) and ``1 - confidence`` as its no-answer probabilities: ``exact``/``f1``/``total`` over all questions,
the same for the answerable (``HasAns_*``) and the unanswerable (``NoAns_*``) ones, and ``best_exact``/``best_f1``
with their thresholds (``*_thresh``, a no-answer probability: answering where it is at most that, i.e. where the
confidence is at least ``1 - thresh``). Percentages, as the script prints them.

The raw per-question scores are the script's ``get_raw_scores`` (``qa.metrics``: its normalisation, gold
answers that normalise to nothing dropped, the maximum over the gold answers, an unanswerable question's one
gold answer ``""``). The script's ``apply_no_ans_threshold`` at its default ``--na-prob-thresh 1.0`` changes
nothing here (a no-answer probability is never above 1), so the figures are those of the predictions as given;
``find_best_thresh`` is followed step by step, ties in file order included, so the figures match the script's.

Example:
    >>> figures = squad_v2_figures([Prediction(True, ["Paris"], "paris", 0.1), Prediction(False, [], "", 0.9)])
    >>> figures.all.exact, figures.has_ans.total, figures.best_f1, figures.best_f1_thresh
    (100.0, 1, 100.0, 0.1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.evaluation.records import Outcome
from qa.metrics import exact_match, f1_score


@dataclass(frozen=True)
class Prediction:
    """One question as the script sees it."""

    has_answer: bool
    answers: list[str]  # gold answers ([] for an unanswerable question)
    text: str  # the prediction; "" is "no answer"
    na_prob: float  # the no-answer probability


@dataclass(frozen=True)
class Split:
    """The script's ``make_eval_dict`` over some questions: percentages and a count."""

    exact: float
    f1: float
    total: int


@dataclass(frozen=True)
class SquadV2Figures:
    all: Split
    has_ans: Split | None  # None when there was no answerable question (the script then prints no HasAns_*)
    no_ans: Split | None
    best_exact: float
    best_exact_thresh: float
    best_f1: float
    best_f1_thresh: float

    def to_dict(self) -> dict:
        """The script's output, with its key names and in its order."""
        out = {"exact": self.all.exact, "f1": self.all.f1, "total": self.all.total}
        for prefix, split in (("HasAns", self.has_ans), ("NoAns", self.no_ans)):
            if split is not None:
                out |= {f"{prefix}_exact": split.exact, f"{prefix}_f1": split.f1, f"{prefix}_total": split.total}
        return out | {"best_exact": self.best_exact, "best_exact_thresh": self.best_exact_thresh,
                      "best_f1": self.best_f1, "best_f1_thresh": self.best_f1_thresh}


def predictions_of(outcomes: Sequence[Outcome]) -> list[Prediction]:
    """The outcomes as the script's input: each answer as given (abstained: ""), no-answer prob 1 - confidence."""
    return [Prediction(o.gold.answerable, list(o.gold.answers) if o.gold.answerable else [],
                       o.answered.answer.answer or "", 1.0 - o.answered.answer.confidence) for o in outcomes]


def squad_v2_figures(predictions: Sequence[Prediction]) -> SquadV2Figures | None:
    """The script's figures for ``predictions`` (in file order: it breaks threshold ties by it); None for none."""
    if not predictions:
        return None
    exact = [exact_match(p.text, p.answers) for p in predictions]
    f1 = [f1_score(p.text, p.answers) for p in predictions]
    best_exact, best_exact_thresh = _best_threshold(predictions, exact)
    best_f1, best_f1_thresh = _best_threshold(predictions, f1)
    return SquadV2Figures(
        all=_split(exact, f1, range(len(predictions))),
        has_ans=_split(exact, f1, [i for i, p in enumerate(predictions) if p.has_answer]),
        no_ans=_split(exact, f1, [i for i, p in enumerate(predictions) if not p.has_answer]),
        best_exact=best_exact, best_exact_thresh=best_exact_thresh, best_f1=best_f1, best_f1_thresh=best_f1_thresh,
    )


def _split(exact: list[float], f1: list[float], chosen) -> Split | None:
    chosen = list(chosen)
    if not chosen:
        return None
    return Split(100.0 * sum(exact[i] for i in chosen) / len(chosen), 100.0 * sum(f1[i] for i in chosen) / len(chosen),
                 len(chosen))


def _best_threshold(predictions: Sequence[Prediction], scores: list[float]) -> tuple[float, float]:
    """The script's ``find_best_thresh``: start from "no answer" everywhere (every unanswerable question right),
    then answer the questions one by one in order of no-answer probability, keeping the best running score."""
    current = best = sum(1 for p in predictions if not p.has_answer)
    best_thresh = 0.0
    for i in sorted(range(len(predictions)), key=lambda i: predictions[i].na_prob):  # stable: file order on ties
        p = predictions[i]
        # answering an answerable question earns its score; a non-empty answer to an unanswerable one costs 1
        current += scores[i] if p.has_answer else (-1 if p.text else 0)
        if current > best:
            best, best_thresh = current, p.na_prob
    return 100.0 * best / len(predictions), best_thresh

"""Answer metrics with the official SQuAD normalisation: exact match, token F1, "answer found", thresholds.

``normalize_answer``, ``exact_match`` and ``f1_score`` follow the official SQuAD v2.0 evaluation script:
lower-case, drop punctuation and the articles a/an/the, collapse whitespace; an empty prediction or an empty
gold answer scores 1 only when both are empty. Scores are the maximum over the gold answers. An unanswerable
question has the single gold answer "" (so abstaining, i.e. predicting "", is the only correct reply).

Example:
    >>> exact_match("The Eiffel Tower!", ["eiffel tower"])
    1.0
    >>> round(f1_score("in Paris, France", ["Paris"]), 3)
    0.5
    >>> answer_found("Geng Shuang", "Chinese spokesman Geng Shuang said on Tuesday.", ["on Tuesday"])
    True
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split() if text else []


def _em_one(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1_one(prediction: str, gold: str) -> float:
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        # As the official script: an empty side scores 1 only when both are empty (abstained on no-answer).
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _golds(answers: list[str]) -> list[str]:
    # Gold answers that normalise to nothing are dropped, as in the official script; none left = no answer.
    kept = [a for a in answers if normalize_answer(a)]
    return kept or [""]


def exact_match(prediction: str | None, answers: list[str]) -> float:
    """1.0 when the prediction equals any gold answer after normalisation; ``None`` means abstained ("")."""
    return max(_em_one(prediction or "", g) for g in _golds(answers))


def f1_score(prediction: str | None, answers: list[str]) -> float:
    """Token-overlap F1, the maximum over the gold answers."""
    return max(_f1_one(prediction or "", g) for g in _golds(answers))


def _normalize_loose(text: str) -> str:
    """``normalize_answer`` that also drops non-ASCII punctuation (curly quotes, guillemets, dashes).

    EM and F1 keep the official (ASCII-only) rule so that SQuAD figures compare with published ones; "answer
    found" is our own figure, and news text quotes with ‘ ’ “ ” « »: a sentence saying ‘China responsibility
    theory’ does hold the answer "China responsibility theory".
    """
    text = "".join(" " if unicodedata.category(ch).startswith("P") and ch not in _PUNCTUATION else ch for ch in text)
    return normalize_answer(text)


def answer_found(answer: str | None, sentence: str | None, answers: list[str]) -> bool:
    """True when a gold answer occurs inside the returned answer or its sentence (both normalised), on word
    boundaries.

    The fair figure for a sentence-level reader, whose answer is a whole sentence: EM cannot reward it.
    """
    return any(contains_answer(text, answers) for text in (answer, sentence) if text)


def contains_answer(text: str, answers: list[str]) -> bool:
    """A gold answer occurs in ``text`` (loosely normalised, on word boundaries)."""
    haystack = f" {_normalize_loose(text)} "
    return any(f" {g} " in haystack for g in map(_normalize_loose, answers) if g)


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    score: float  # the mean credit at that threshold (the criterion maximised)
    abstain_precision: float | None
    abstain_recall: float | None


def best_threshold(confidences: list[float], credit: list[float], answerable: list[bool],
                   answerable_share: float | None = None) -> ThresholdChoice:
    """The abstention threshold maximising the mean credit over all questions.

    A question whose confidence is below the threshold is abstained on: credit 1 when it is unanswerable, 0
    otherwise. Above it the reader's answer earns ``credit[i]`` (F1 for a span reader, "answer found" for the
    sentence reader) when answerable, 0 when not. This is the SQuAD v2.0 "best F1 threshold" criterion.

    ``answerable_share``: weigh the questions so that answerable ones carry this share of the total weight (the
    mean credit expected where that share of the questions asked is answerable), instead of the set's own share.
    Why: the best threshold depends on how often "no answer" is right, and SQuAD v2.0 dev is half unanswerable,
    far more than the questions a reader of their own articles asks. ``score`` is then the weighted mean.
    """
    conf = np.asarray(confidences, dtype=float)
    is_answerable = np.asarray(answerable, dtype=bool)
    weight = np.ones(conf.size)
    if answerable_share is not None and conf.size:
        if not 0.0 <= answerable_share <= 1.0:
            raise ValueError(f"answerable_share must lie in [0, 1], not {answerable_share}")
        n_ans, n_unans = int(is_answerable.sum()), int((~is_answerable).sum())
        if n_ans and n_unans:  # a set with one class has nothing to re-weigh
            weight = np.where(is_answerable, answerable_share * conf.size / n_ans,
                              (1.0 - answerable_share) * conf.size / n_unans)
    gain = np.where(is_answerable, np.asarray(credit, dtype=float), 0.0) * weight
    unans = ~is_answerable
    if conf.size == 0:
        return ThresholdChoice(0.0, 0.0, None, None)
    order = np.argsort(conf, kind="stable")
    conf_sorted, gain_sorted, unans_sorted = conf[order], gain[order], (unans * weight)[order]
    # Threshold just above the i-th smallest confidence abstains on the first i+1 questions (i = -1: none).
    abstain_credit = np.concatenate([[0.0], np.cumsum(unans_sorted)])
    answer_credit = gain_sorted.sum() - np.concatenate([[0.0], np.cumsum(gain_sorted)])
    totals = (abstain_credit + answer_credit) / conf.size
    # Only cut between distinct confidences: equal confidences cannot be separated by a threshold.
    valid = np.concatenate([[True], np.append(conf_sorted[1:] > conf_sorted[:-1], True)])
    totals = np.where(valid, totals, -np.inf)
    best = int(np.argmax(totals))
    if best == 0:
        threshold = 0.0
    elif best == conf.size:
        threshold = float(conf_sorted[-1]) + 1e-6  # abstain on all
    else:
        threshold = float((conf_sorted[best - 1] + conf_sorted[best]) / 2)
    abstained = conf < threshold
    n_abstained, n_unans = int(abstained.sum()), int(unans.sum())
    precision = float((abstained & unans).sum() / n_abstained) if n_abstained else None
    recall = float((abstained & unans).sum() / n_unans) if n_unans else None
    return ThresholdChoice(threshold, float(totals[best]), precision, recall)

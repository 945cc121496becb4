"""SQuAD metrics on hand-worked cases, and the abstention threshold sweep."""

from __future__ import annotations

import pytest

from qa.metrics import (
    answer_found,
    best_threshold,
    exact_match,
    f1_score,
    normalize_answer,
    percentile,
)


def test_normalisation_drops_case_punctuation_articles_and_extra_spaces():
    assert normalize_answer("The  Cat, in a HAT!") == "cat in hat"
    assert normalize_answer("An apple.") == "apple"
    assert normalize_answer("theory") == "theory"  # "the" only as a whole word
    assert normalize_answer("U.S.-China") == "uschina"  # punctuation removed, as the official script does


def test_exact_match():
    assert exact_match("The Eiffel Tower!", ["eiffel tower"]) == 1.0
    assert exact_match("Eiffel Tower in Paris", ["Eiffel Tower"]) == 0.0
    assert exact_match("Denver Broncos", ["Broncos", "Denver Broncos", "the Denver Broncos"]) == 1.0


def test_f1_hand_worked():
    # prediction tokens [in, paris, france], gold [paris]: precision 1/3, recall 1 -> F1 0.5
    assert f1_score("in Paris, France", ["Paris"]) == pytest.approx(0.5)
    # repeated tokens count once per occurrence: [x, x, y] vs [x, y]: 2 shared, P 2/3, R 1 -> 0.8
    assert f1_score("x x y", ["x y"]) == pytest.approx(0.8)
    # the best of several gold answers: [denver, broncos] vs [broncos] -> 2/3; vs [denver, broncos] -> 1
    assert f1_score("Denver Broncos", ["Broncos", "the Denver Broncos"]) == 1.0
    assert f1_score("Denver Broncos", ["Broncos"]) == pytest.approx(2 / 3)
    assert f1_score("Carolina Panthers", ["Denver Broncos"]) == 0.0


def test_empty_prediction_and_unanswerable_questions():
    assert f1_score(None, ["Paris"]) == 0.0 and exact_match("", ["Paris"]) == 0.0  # abstained on an answerable
    assert f1_score(None, []) == 1.0 and exact_match(None, []) == 1.0  # abstained on an unanswerable
    assert f1_score("Paris", []) == 0.0 and exact_match("Paris", []) == 0.0  # answered an unanswerable
    assert exact_match(None, ["the"]) == 1.0  # a gold answer that normalises to nothing means "no answer"


def test_answer_found_in_answer_or_sentence_on_word_boundaries():
    assert answer_found("Geng Shuang", "Spokesman Geng Shuang said so on Tuesday.", ["on Tuesday"])
    assert answer_found("It was the Broncos.", None, ["Broncos"])
    assert not answer_found("The party ended.", None, ["art"])  # not inside another word
    assert not answer_found(None, None, ["Paris"])
    assert not answer_found("Paris", "Paris", [])
    # news text quotes with curly quotes: they do not hide the answer
    assert answer_found("the so-called ‘China responsibility theory.’", None, ["China responsibility theory"])


def test_best_threshold_separates_answerable_from_unanswerable():
    choice = best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], [False, False, True, True])
    assert choice.threshold == pytest.approx(0.5)
    assert choice.score == 1.0 and choice.abstain_precision == 1.0 and choice.abstain_recall == 1.0


def test_best_threshold_weighs_partial_credit_and_never_splits_ties():
    # All answerable: abstaining only loses credit, so never abstain.
    assert best_threshold([0.2, 0.4], [0.5, 1.0], [True, True]).threshold == 0.0
    # Low-confidence answerable worth 0.2 vs unanswerable at the same confidence: cannot be separated.
    tied = best_threshold([0.3, 0.3, 0.9], [0.2, 0.0, 1.0], [True, False, True])
    assert tied.threshold in (0.0, pytest.approx(0.6))
    # abstaining on both 0.3s: 1 (unanswerable) + 1 (0.9 answered) = 2/3; answering all: 0.2 + 0 + 1 = 1.2/3
    assert tied.threshold == pytest.approx(0.6) and tied.score == pytest.approx(2 / 3)
    # A wrong answer earns nothing and an unanswerable question is only right when abstained: abstain on all.
    top = best_threshold([0.5, 0.9], [0.0, 0.0], [True, False])
    assert top.threshold > 0.9 and top.score == pytest.approx(0.5) and top.abstain_recall == 1.0


def test_percentile():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([], 95) is None


def test_best_threshold_for_another_share_of_answerable_questions():
    # an answerable question (0.2) sits between two unanswerable ones (0.1, 0.3)
    conf, credit, answerable = [0.1, 0.2, 0.3, 0.9], [0, 1, 0, 1], [False, True, False, True]
    mostly_answerable = best_threshold(conf, credit, answerable, answerable_share=0.9)
    assert mostly_answerable.threshold == pytest.approx(0.15)  # keeps the answer at 0.2
    assert mostly_answerable.score == pytest.approx((0.2 + 1.8 + 1.8) / 4)  # weights 1.8 answerable, 0.2 not
    assert mostly_answerable.abstain_precision == 1.0 and mostly_answerable.abstain_recall == 0.5  # unweighted
    assert best_threshold(conf, credit, answerable, answerable_share=0.1).threshold == pytest.approx(0.6)
    # the set's own share (one half) is the unweighted criterion
    assert best_threshold(conf, credit, answerable, 0.5) == best_threshold(conf, credit, answerable)
    with pytest.raises(ValueError, match="answerable_share"):
        best_threshold(conf, credit, answerable, answerable_share=1.5)

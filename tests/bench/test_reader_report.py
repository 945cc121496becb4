"""bench.reader_report: steps saved and skipped, redone when the weights change; the table in the card;
the cross-fitted threshold estimate. Run on the default gold set with a tiny random span model."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from tiny_span import build_tiny_span_model

from bench import reader_report as rr
from corpus.defaults import DEFAULT_GOLD
from qa.evaluation import EvalConfig, run_eval
from qa.reader_span import CALIBRATION_FILE

CARD = "# A model\n\n## Metrics\n<!-- results:start -->\nPLACEHOLDER-TABLE\n<!-- results:end -->\n\n## Licence\nApache-2.0\n"


def report(model, out, index, *extra):
    return rr.main(["--model", str(model), "--out", str(out), "--index", str(index), "--steps", "gold",
                    "--threads", "1", "--quiet", *extra])


def test_gold_step_is_saved_skipped_and_redone_for_new_weights(span_model_copy, index_copy, tmp_path, capsys):
    model = span_model_copy
    out = tmp_path / "results"
    (model / CALIBRATION_FILE).write_text(json.dumps({"abstain_threshold": 0.02}))
    (model / "MODEL_CARD.md").write_text(CARD)

    assert report(model, out, index_copy) == 0
    first = capsys.readouterr().out
    assert "== gold: running" in first
    record = json.loads((out / "gold" / rr.STEP_FILE).read_text())
    assert record["digest"] == rr.weights_digest(model) and record["settings"]["threshold"] == 0.02
    scores = record["figures"]["calibrated"]
    assert scores["questions"] == 55 and 0 <= scores["f1"] <= 100 and scores["threshold"] == 0.02
    metrics = json.loads((out / "gold" / "metrics.json").read_text())
    assert metrics["reader"] == "span" and metrics["questions"] == 55

    card = (model / "MODEL_CARD.md").read_text()
    assert "| default news gold set, hybrid k=5, calibrated threshold | 55 |" in card
    assert "PLACEHOLDER-TABLE" not in card and card.startswith("# A model") and card.endswith("## Licence\nApache-2.0\n")
    assert (out / "summary.md").read_text() in card

    assert report(model, out, index_copy) == 0  # the same weights and threshold: nothing to redo
    assert "== gold: done before" in capsys.readouterr().out

    (model / CALIBRATION_FILE).write_text(json.dumps({"abstain_threshold": 0.5}))
    assert report(model, out, index_copy) == 0  # another threshold: redone
    assert "== gold: running" in capsys.readouterr().out

    build_tiny_span_model(model, seed=1)  # other weights: redone
    assert report(model, out, index_copy) == 0
    assert "== gold: running" in capsys.readouterr().out
    assert json.loads((out / "gold" / rr.STEP_FILE).read_text())["digest"] == rr.weights_digest(model)


@pytest.fixture(scope="module")
def run(tiny_span_model, default_index_dir):
    """The default gold set read by a tiny random span model (shared: the tests below only re-score it)."""
    return run_eval(DEFAULT_GOLD, EvalConfig(reader="span", model=str(tiny_span_model), progress=False),
                    index_dir=default_index_dir)


def test_card_without_markers_is_left_alone(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# no markers\n")
    assert not rr.write_into_card(card, "table\n")
    assert card.read_text() == "# no markers\n"
    assert not rr.write_into_card(tmp_path / "missing.md", "table\n")


def test_cross_fitted_run_scores_each_half_with_one_threshold(run):
    crossed = rr.cross_fitted(run, seed=0)
    assert sorted(o.gold.id for o in crossed.outcomes) == sorted(o.gold.id for o in run.outcomes)
    half = len(run.outcomes) // 2
    for part in (crossed.outcomes[:half], crossed.outcomes[half:]):  # second half of the run, then the first
        abstained = [o.answered.candidate.confidence for o in part if o.answered.answer.abstained]
        answered = [o.answered.candidate.confidence for o in part if not o.answered.answer.abstained]
        # one threshold per half: every abstention is less confident than every answer in that half
        assert not abstained or not answered or max(abstained) < min(answered)
    m = crossed.metrics.to_dict()
    assert m["questions"] == 55 and m["abstention"]["unanswerable"] == 8
    assert 0 <= m["f1"] <= 1


def test_with_confidence_rescores_the_run_with_another_signal(run):
    assert all(set(o.answered.candidate.signals) == {"joint", "joint_log", "null_gap", "null_gap_logit"} for o in run.outcomes)
    gap = rr.with_confidence(run, "null_gap")
    assert [o.answered.candidate.confidence for o in gap.outcomes] == [
        o.answered.candidate.signals["null_gap"] for o in run.outcomes]
    assert [o.answered.answer.confidence for o in gap.outcomes] == [
        min(1.0, o.answered.candidate.signals["null_gap"]) for o in run.outcomes]
    # the calibration of the re-scored run is the one of its own confidences
    assert gap.metrics.calibration.best_threshold == rr.best_threshold(
        [o.answered.candidate.signals["null_gap"] for o in run.outcomes],
        [o.candidate_credit["f1"] for o in run.outcomes],
        [o.gold.answerable for o in run.outcomes]).threshold


def test_platt_scaling_makes_null_gap_a_probability_without_changing_its_order(run):
    scaled, a, b = rr.platt_scaled(run, "null_gap", "null_gap_logit")
    gaps = [o.answered.candidate.signals["null_gap_logit"] for o in run.outcomes]
    probs = [o.answered.candidate.signals["null_gap"] for o in scaled.outcomes]
    assert all(0 < p < 1 for p in probs)
    assert probs == pytest.approx([1 / (1 + math.exp(-(a * g + b))) for g in gaps])
    right = [o.gold.answerable and o.candidate_credit["f1"] >= 0.5 for o in run.outcomes]
    # fitted to the share of right answers: the mean probability matches it (logistic regression's property)
    assert sum(probs) / len(probs) == pytest.approx(sum(right) / len(right), abs=0.02)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no span model"):
        rr.main(["--model", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")])


def test_answerable_share_of_the_default_gold_set():
    assert rr.answerable_share(DEFAULT_GOLD) == pytest.approx(47 / 55)


def test_weighted_f1_mixes_answerable_and_unanswerable_f1(run):
    m = run.metrics
    assert rr.weighted_f1(m, 0.8) == pytest.approx(100 * (0.8 * m.has_answer.scores.f1 + 0.2 * m.no_answer.scores.f1), abs=0.01)
    only_answerable = replace(m, no_answer=replace(m.no_answer, count=0))
    assert rr.weighted_f1(only_answerable, 0.8) is None


def test_threshold_fitted_for_more_answerable_questions_abstains_less(run):
    own = rr.fitted_threshold(run, None)
    mostly = rr.fitted_threshold(run, 0.99)
    abstained = lambda t: sum(o.answered.candidate.confidence < t for o in run.outcomes)  # noqa: E731
    assert abstained(own) > 0  # the set's own mix (8 of 55 unanswerable) abstains on some
    assert mostly < own and abstained(mostly) < abstained(own)
    crossed = rr.cross_fitted(run, seed=0, share=0.99)
    assert crossed.metrics.abstention.abstained < rr.cross_fitted(run, seed=0).metrics.abstention.abstained


def test_joint_null_combines_both_signals_into_one_probability(run):
    scaled, weights, shift = rr.logistic_scaled(run, "joint_null", ("joint_log", "null_gap_logit"))
    assert len(weights) == 2
    for o, s in zip(run.outcomes, scaled.outcomes):
        signals = o.answered.candidate.signals
        z = weights[0] * signals["joint_log"] + weights[1] * signals["null_gap_logit"] + shift
        assert s.answered.candidate.signals["joint_null"] == pytest.approx(1 / (1 + math.exp(-z)))
    right = [o.gold.answerable and o.candidate_credit["f1"] >= 0.5 for o in run.outcomes]
    probs = [o.answered.candidate.signals["joint_null"] for o in scaled.outcomes]
    assert sum(probs) / len(probs) == pytest.approx(sum(right) / len(right), abs=0.02)


def test_a_reader_calibrated_on_joint_null_reads_with_it(tiny_span_model, default_index_dir, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_span_model, model)
    (model / CALIBRATION_FILE).write_text(json.dumps({
        "confidence": "joint_null", "abstain_threshold": 0.5, "joint_null_weights": [0.5, 0.25],
        "joint_null_shift": -1.0}))
    from qa.reader_span import SpanReader

    reader = SpanReader(model)
    assert reader.confidence == "joint_null" and reader.abstain_threshold == 0.5
    gold = run_eval(DEFAULT_GOLD, EvalConfig(reader="span", model=str(model), limit=3, progress=False),
                    index_dir=default_index_dir)
    for o in gold.outcomes:
        s = o.answered.candidate.signals
        expected = 1 / (1 + math.exp(-(0.5 * s["joint_log"] + 0.25 * s["null_gap_logit"] - 1.0)))
        assert o.answered.candidate.confidence == pytest.approx(expected)
    # without its weights the confidence cannot be given: a clear error, not a silent other confidence
    (model / CALIBRATION_FILE).write_text(json.dumps({"confidence": "joint_null", "abstain_threshold": 0.5}))
    from qa.reader_span import ReaderUnavailable

    with pytest.raises(ReaderUnavailable, match="joint_null"):
        SpanReader(model)


def test_reader_only_v2_figures_report_both_mixes_and_the_official_script(run):
    figures = rr.reader_only_v2_figures(run, share=0.85)
    assert figures["squad_v2"]["total"] == 55 and figures["squad_v2"]["NoAns_total"] == 8
    assert figures["cross_fitted_v2_own_share"]["questions"] == 55
    assert figures["cross_fitted"]["weighted_f1"] is not None
    # no abstention: every unanswerable question is wrong, so NoAns contributes nothing
    assert figures["no_abstention"]["abstained"] == 0

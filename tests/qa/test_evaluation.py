"""Evaluation: gold JSONL over the project index, SQuAD JSON over its own cached index, outputs and metrics."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from corpus.defaults import DEFAULT_GOLD
from corpus.gold_sets import GoldQuestion
from index.chunk import Chunk
from qa.evaluation import EvalConfig, apply_threshold, run_eval, sample
from qa.evaluation.report import write_outputs
from qa.evaluation.scoring import is_relevant
from qa.evaluation.summary import _retrieval

PARAGRAPHS = {
    "Volcanoes": [
        "Mount Etna is an active volcano on the east coast of Sicily. It is one of the tallest active volcanoes in Europe.",
        "Etna erupted violently in 1669, when lava reached the city of Catania and destroyed parts of it.",
    ],
    "Rivers": [
        "The Danube flows through ten countries, more than any other river in the world. It rises in the Black Forest.",
        "The river ends in the Danube Delta on the coast of the Black Sea, in Romania and Ukraine.",
    ],
}
QUESTIONS = [
    ("v1", 0, 0, "On which island is Mount Etna?", "Sicily"),
    ("v2", 0, 1, "Which city did lava from Etna reach in 1669?", "Catania"),
    ("r1", 1, 0, "Through how many countries does the Danube flow?", "ten"),
    ("r2", 1, 1, "Into which sea does the Danube flow?", "Black Sea"),
    ("x1", 1, 1, "Which river flows through the Sahara desert?", None),  # unanswerable (SQuAD v2.0)
]


def write_squad(path: Path) -> Path:
    data = []
    for title, paragraphs in PARAGRAPHS.items():
        data.append({"title": title, "paragraphs": [{"context": p, "qas": []} for p in paragraphs]})
    for qid, a, p, question, answer in QUESTIONS:
        para = data[a]["paragraphs"][p]
        if answer is None:
            para["qas"].append({"id": qid, "question": question, "answers": [], "is_impossible": True})
        else:
            para["qas"].append({"id": qid, "question": question, "answers": [{"text": answer, "answer_start": para["context"].index(answer)}], "is_impossible": False})
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump({"version": "v2.0", "data": data}, f)
    return path


@pytest.fixture(scope="module")
def squad_file(tmp_path_factory) -> Path:
    return write_squad(tmp_path_factory.mktemp("squad") / "tiny-v2.json.gz")


@pytest.fixture(scope="module")
def gold_run(default_index_dir):
    return run_eval(DEFAULT_GOLD, EvalConfig(limit=12, seed=3, progress=False), index_dir=default_index_dir)


def test_gold_jsonl_run_writes_predictions_metrics_and_report(gold_run, tmp_path):
    written = write_outputs(gold_run, tmp_path)
    names = {p.name for p in written}
    assert {"predictions.jsonl", "metrics.json", "report.md", "recall_at_k.png", "confidence_hist.png"} <= names
    lines = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [row["id"] for row in lines] == [o.gold.id for o in gold_run.outcomes] and len(lines) == 12
    for row in lines:  # the Answer JSON, with the reader's guess only on an abstained answer
        assert set(row) - {"guess", "alternatives"} == {"id", "question", "answer", "abstained", "confidence", "sentence", "answer_span", "citations", "mode", "latency_ms"}
        assert "guess" not in row or row["abstained"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["questions"] == 12 and metrics["questions_in_file"] == 55
    for png in ("recall_at_k.png", "confidence_hist.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "report.md").read_text()
    assert "| recall@1 |" in report and "![" in report and "### By kind" in report


def test_gold_metrics_are_consistent_with_the_outcomes(gold_run):
    m = gold_run.metrics.to_dict()
    outcomes = gold_run.outcomes
    assert m["exact_match"] == pytest.approx(sum(o.exact_match for o in outcomes) / len(outcomes))
    unanswerable = [o for o in outcomes if not o.gold.answerable]
    assert m["no_answer"]["count"] == len(unanswerable) == m["abstention"]["unanswerable"]
    assert set(m["by_kind"]) <= {"factoid", "paraphrase", "unanswerable"}
    assert sum(k["count"] for k in m["by_kind"].values()) == 12
    r = m["retrieval"]
    assert r["judged"] == len(outcomes) - len(unanswerable)
    assert 0 <= r["recall@1"] <= r["recall@5"] <= r["recall@20"] <= 1 and len(r["recall_curve"]) == 20
    assert m["latency_ms"]["p50"] <= m["latency_ms"]["p95"]
    for o in outcomes:  # an unanswerable question is right exactly when abstained
        if not o.gold.answerable:
            assert o.exact_match == float(o.answered.answer.abstained)


def test_seeded_sample_is_repeatable():
    questions = [GoldQuestion(str(i), f"q{i}", ["a"]) for i in range(50)]
    assert [q.id for q in sample(questions, 10, 1)] == [q.id for q in sample(questions, 10, 1)]
    assert [q.id for q in sample(questions, 10, 1)] != [q.id for q in sample(questions, 10, 2)]
    assert len(sample(questions, None, 0)) == 50


def test_relevance_follows_where_the_gold_says_the_answer_is():
    chunk = Chunk("a:0", "a", 100, 200, "x" * 100)
    squad = GoldQuestion("s", "?", ["Paris"], True, "a", [150])
    assert is_relevant(chunk, squad)
    assert not is_relevant(Chunk("a:1", "a", 0, 152, "x" * 152), squad)  # cuts the answer
    assert not is_relevant(Chunk("b:0", "b", 100, 200, "x" * 100), squad)  # another article
    jsonl = GoldQuestion("j", "?", ["Geng Shuang"], True, "a")
    assert is_relevant(Chunk("a:2", "a", 0, 30, "Spokesman Geng Shuang said."), jsonl)
    assert not is_relevant(Chunk("b:2", "b", 0, 30, "Spokesman Geng Shuang said."), jsonl)
    anywhere = GoldQuestion("k", "?", ["Geng Shuang"])
    assert is_relevant(Chunk("b:2", "b", 0, 30, "Spokesman Geng Shuang said."), anywhere)


def test_recall_and_mrr_from_first_relevant_ranks():
    outcomes = [SimpleNamespace(first_relevant=r) for r in (1, 3, None, 12)]
    r = _retrieval(outcomes, 20)
    assert (r.recall(1), r.recall(5), r.recall(20)) == (0.25, 0.5, 0.75)
    assert r.mrr == pytest.approx((1 + 1 / 3) / 4)  # rank 12 is past 10: counts 0
    as_json = r.to_dict()
    assert (as_json["recall@1"], as_json["recall@5"], as_json["recall@20"]) == (0.25, 0.5, 0.75)
    assert as_json["mrr@10"] == r.mrr and len(as_json["recall_curve"]) == 20


def test_squad_file_is_its_own_corpus_indexed_once(squad_file, tmp_path, embedder):
    cache = tmp_path / "cache"
    first = run_eval(squad_file, EvalConfig(progress=False), cache_dir=cache, embedder=embedder)
    assert first.index_note.startswith("built")
    second = run_eval(squad_file, EvalConfig(progress=False), cache_dir=cache, embedder=embedder)
    assert second.index_note.startswith("reused")
    m = second.metrics.to_dict()
    assert m["questions"] == 5 and m["has_answer"]["count"] == 4 and m["no_answer"]["count"] == 1
    assert m["retrieval"]["recall@5"] == 1.0  # two short articles: every answer paragraph is retrieved
    assert m["answer_found"] >= 0.5
    for o in second.outcomes:  # chunks never cross a paragraph
        for c in o.answered.answer.citations:
            assert "\n\n" not in c.text


def test_abstaining_on_everything_gets_the_unanswerable_right(squad_file, tmp_path, embedder):
    run = run_eval(squad_file, EvalConfig(threshold=1.01, progress=False), cache_dir=tmp_path, embedder=embedder)
    m = run.metrics.to_dict()
    assert m["abstention"] == {"abstained": 5, "unanswerable": 1, "precision": 0.2, "recall": 1.0}
    assert m["no_answer"]["exact_match"] == 1.0 and m["has_answer"]["f1"] == 0.0
    assert m["exact_match"] == pytest.approx(0.2)
    # The sweep still sees the reader's answers: answering everything finds more than abstaining.
    assert m["calibration"]["best_threshold"] < 1.0
    # Re-thresholding the recorded candidates equals running again with that threshold.
    again = run_eval(squad_file, EvalConfig(threshold=0.0, progress=False), cache_dir=tmp_path, embedder=embedder)
    moved = apply_threshold(run, 0.0)
    for key in ("exact_match", "f1", "answer_found", "abstention", "has_answer", "no_answer"):
        assert moved.metrics.to_dict()[key] == again.metrics.to_dict()[key]
    assert [o.answered.answer.answer for o in moved.outcomes] == [o.answered.answer.answer for o in again.outcomes]


def test_reader_only_reads_the_gold_paragraph(squad_file, tmp_path, embedder):
    run = run_eval(squad_file, EvalConfig(reader_only=True, progress=False), cache_dir=tmp_path, embedder=embedder)
    assert run.metrics.retrieval is None and run.metrics.modes_used == {"gold-paragraph": 5}
    for o in run.outcomes:
        (c,) = o.answered.answer.citations
        assert (c.start, c.end) == o.gold.paragraph
        if o.answered.answer.answer_span:
            _, s, e = o.answered.answer.answer_span
            assert c.start <= s < e <= c.end


def test_a_gold_question_that_cannot_be_asked_is_skipped_and_counted(default_index_dir, tmp_path):
    """SQuAD train holds a 25,651-character question: it is reported and skipped, the rest still evaluated."""
    gold = tmp_path / "gold.jsonl"
    rows = [{"id": "ok", "question": "Who is the Chinese foreign ministry spokesman?", "answers": ["Geng Shuang"]},
            {"id": "long", "question": "who " * 1000, "answers": ["x"]},
            {"id": "marks", "question": "?!?", "answers": ["x"]}]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = run_eval(gold, EvalConfig(progress=False), index_dir=default_index_dir)
    assert [o.gold.id for o in run.outcomes] == ["ok"]
    assert dict(run.refused).keys() == {"long", "marks"} and "too long" in dict(run.refused)["long"]
    metrics = run.metrics.to_dict()
    assert metrics["questions"] == 1 and metrics["questions_in_file"] == 3 and metrics["questions_refused"] == 2

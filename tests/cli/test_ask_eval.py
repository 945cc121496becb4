"""`qa ask`, `qa eval` and `qa chat` as a user runs them (in-process through cli.main.main)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import sys
import types
from pathlib import Path

import pytest

from cli.main import main
from corpus.defaults import DEFAULT_GOLD
from index.store import load_index
from qa.answerer import SHIPPED_READER_DIR
from ui.options import ChatOptions

DEFAULT_READER = "span" if (SHIPPED_READER_DIR / "config.json").exists() else "sentence"
QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the China responsibility theory?"
ANSWER_KEYS = {"question", "answer", "abstained", "confidence", "sentence", "answer_span", "citations", "mode", "latency_ms"}
CITATION_KEYS = {"n", "article_id", "title", "source", "published", "url", "start", "end", "text", "score"}


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder):
    """Each command would load the embedding model again (seconds); hand it the session's copy instead."""
    monkeypatch.setattr("qa.answerer.Embedder", lambda config: embedder)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_has_the_architecture_shape(capsys, default_index_dir):
    code, out, _ = run(capsys, "ask", QUESTION, "--index", str(default_index_dir), "--json")
    assert code == 0
    answer = json.loads(out)
    assert set(answer) == ANSWER_KEYS and answer["question"] == QUESTION and answer["mode"] == "hybrid"
    assert [c["n"] for c in answer["citations"]] == [1, 2, 3, 4, 5]
    assert all(set(c) == CITATION_KEYS for c in answer["citations"])
    index = load_index(default_index_dir)
    span = answer["answer_span"]
    assert not answer["abstained"] and set(span) == {"article_id", "start", "end"}
    assert index.articles[span["article_id"]].text[span["start"] : span["end"]] == answer["answer"]
    for c in answer["citations"]:
        assert index.articles[c["article_id"]].text[c["start"] : c["end"]] == c["text"]


def test_ask_json_honours_k_and_mode(capsys, default_index_dir):
    code, out, _ = run(capsys, "ask", QUESTION, "--index", str(default_index_dir), "--json", "--k", "2", "--mode", "bm25")
    answer = json.loads(out)
    assert code == 0 and len(answer["citations"]) == 2 and answer["mode"] == "bm25"


def test_ask_human_form_marks_the_answer_and_numbers_the_sources(capsys, default_index_dir, tiny_span_model):
    code, out, _ = run(capsys, "ask", QUESTION, "--index", str(default_index_dir), "--reader", "span", "--model", str(tiny_span_model))
    assert code == 0
    assert out.startswith("Answer: ") and "Sources:" in out
    assert re.search(r"\[1\] .+ — chars \d+–\d+", out) and "[5]" in out
    answer = out.splitlines()[0].removeprefix("Answer: ").rsplit("  [", 1)[0]
    sentence = next((line for line in out.splitlines() if line.startswith("Sentence: ")), None)
    if sentence is not None:  # a short span: its sentence is shown with the answer in bold
        assert f"**{answer}**" in sentence


def test_ask_abstains_in_words_and_still_lists_passages(capsys, default_index_dir):
    code, out, _ = run(capsys, "ask", "What is the boiling point of mercury?", "--index", str(default_index_dir), "--threshold", "0.999")
    assert code == 0
    assert out.startswith("Not found in the articles") and "Closest passages:" in out and "[1]" in out
    # the reader's best candidate, on one line of its own, labelled as a guess
    guess = out.splitlines()[1]
    assert re.fullmatch(r"Best guess, not an answer \(low confidence 0\.\d\d\): “.+”(  \[[1-5]\])?", guess), guess


def test_ask_json_adds_the_guess_only_when_abstained(capsys, default_index_dir):
    code, out, _ = run(capsys, "ask", "What is the boiling point of mercury?", "--index", str(default_index_dir), "--json", "--threshold", "0.999")
    answer = json.loads(out)
    assert code == 0 and answer["abstained"] and set(answer) == ANSWER_KEYS | {"guess"}
    guess = answer["guess"]
    assert set(guess) == {"text", "confidence", "article_id", "start", "end", "sentence", "citation"}
    assert load_index(default_index_dir).articles[guess["article_id"]].text[guess["start"] : guess["end"]] == guess["text"]
    assert guess["confidence"] == answer["confidence"] < 0.999


def test_the_guess_line_is_printable_and_one_line():
    from cli.answer_commands import render_answer
    from qa.types import Answer, Guess

    evil = "Geng\x1b]0;pwned\x07 Shuang\n\x1b[2Jsaid"
    answer = Answer("q?", None, True, 0.2, None, None, guess=Guess(evil, 0.2, "a", 0, len(evil), None, None))
    lines = render_answer(answer, None, threshold=0.5).splitlines()
    assert lines[1] == "Best guess, not an answer (low confidence 0.20): “Geng Shuang said”"


def test_ask_without_an_index_says_how_to_build_one(capsys, tmp_path):
    code, _, err = run(capsys, "ask", QUESTION, "--index", str(tmp_path / "none"))
    assert code == 1 and "qa index" in err


def test_eval_gold_jsonl_writes_outputs_and_prints_metrics(capsys, default_index_dir, tmp_path):
    out_dir = tmp_path / "run"
    code, out, _ = run(capsys, "eval", str(DEFAULT_GOLD), "--index", str(default_index_dir), "--limit", "5", "--seed", "1", "--out", str(out_dir), "--json", "--quiet")
    assert code == 0
    metrics = json.loads(out)
    assert metrics["questions"] == 5 and metrics["seed"] == 1 and metrics["reader"] == DEFAULT_READER
    assert len((out_dir / "predictions.jsonl").read_text().splitlines()) == 5
    assert json.loads((out_dir / "metrics.json").read_text()) == metrics
    assert (out_dir / "report.md").exists()


def test_eval_reads_at_the_calibrated_precision_unless_told(capsys, default_index_dir, tiny_span_model, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_span_model, model)
    (model / "reader_calibration.json").write_text('{"confidence": "joint", "abstain_threshold": 0.01, "int8": true}')
    base = ["eval", str(DEFAULT_GOLD), "--index", str(default_index_dir), "--reader", "span", "--model", str(model),
            "--limit", "2", "--out", str(tmp_path / "run"), "--json", "--quiet"]
    for flag, int8 in (([], True), (["--no-int8"], False), (["--int8"], True)):
        code, out, _ = run(capsys, *base, *flag)
        assert code == 0 and json.loads(out)["int8"] is int8, flag


def test_eval_human_summary(capsys, default_index_dir, tmp_path):
    code, out, _ = run(capsys, "eval", str(DEFAULT_GOLD), "--index", str(default_index_dir), "--limit", "3", "--out", str(tmp_path), "--quiet", "--mode", "bm25", "--k", "3")
    assert code == 0 and "EM " in out and "retrieval: recall@1" in out and f"wrote {tmp_path}" in out
    v2 = json.loads((tmp_path / "metrics.json").read_text())["squad_v2"]
    assert f"SQuAD v2.0 script: exact {v2['exact']:.1f} f1 {v2['f1']:.1f} (3)" in out
    assert f"best_f1 {v2['best_f1']:.1f} (thresh {v2['best_f1_thresh']:.3f})" in out
    assert json.loads((tmp_path / "metrics.json").read_text())["modes_used"] == {"bm25": 3}


def test_eval_rejects_a_missing_gold_file(capsys, tmp_path):
    code, _, err = run(capsys, "eval", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no gold file" in err


def test_chat_passes_its_options_to_the_ui(monkeypatch, capsys):
    seen = []
    fake = types.ModuleType("ui.app")
    fake.serve = lambda options: seen.append(options) or 0
    monkeypatch.setitem(sys.modules, "ui.app", fake)
    monkeypatch.delenv("QA_INDEX", raising=False)
    code, _, _ = run(capsys, "chat")
    assert code == 0
    assert seen[-1] == ChatOptions(Path(".qa-index"), "127.0.0.1", 7860, None, False)
    run(capsys, "chat", "--host", "0.0.0.0", "--port", "8000", "--auth", "me:secret", "--insecure", "--index", "idx")
    assert seen[-1] == ChatOptions(Path("idx"), "0.0.0.0", 8000, "me:secret", True)


@pytest.mark.parametrize(
    "argv, message",
    [
        ([os.fsdecode(b"\xff\xfe who")], "the question is not valid text"),  # `qa ask $'\xff\xfe who'`: a traceback
        (["?!? ..."], "only punctuation"),
        (["who " * 600], "too long"),
        ([QUESTION, "--k", "0"], "--k must be from 1 to 50 (got 0)"),
        ([QUESTION, "--k", "51"], "--k must be from 1 to 50 (got 51)"),
        ([QUESTION, "--k", "9" * 40], "--k must be from 1 to 50 (got a 40-digit number)"),
    ],
    ids=["undecodable-bytes", "punctuation", "too-long", "k0", "k51", "k-huge"],
)
def test_ask_refuses_a_question_or_k_that_cannot_be_asked_before_loading(capsys, tmp_path, argv, message):
    code, out, err = run(capsys, "ask", *argv, "--index", str(tmp_path / "no-index-needed"))
    assert code == 2 and out == ""
    assert err.startswith("qa: ") and message in err and "Traceback" not in err


def test_ask_with_a_5000_digit_k_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["ask", QUESTION, "--k", "9" * 5000])
    assert info.value.code == 2 and "invalid int value" in capsys.readouterr().err


def test_eval_refuses_k_over_the_limit(capsys, tmp_path):
    code, _, err = run(capsys, "eval", str(DEFAULT_GOLD), "--k", "51", "--out", str(tmp_path))
    assert code == 2 and "--k must be from 1 to 50" in err


def test_ask_says_on_stderr_when_the_time_budget_ran_out(capsys, default_index_dir, tiny_span_model, monkeypatch):
    from qa.answerer import AnswerConfig
    from qa.reader_span import SpanReaderConfig

    monkeypatch.setattr("qa.answerer.AnswerConfig", functools.partial(AnswerConfig, time_budget_s=0.0))
    monkeypatch.setattr("qa.reader_span.SpanReaderConfig", functools.partial(SpanReaderConfig, batch_size=1))
    code, out, err = run(capsys, "ask", QUESTION, "--index", str(default_index_dir), "--json",
                         "--reader", "span", "--model", str(tiny_span_model))
    answer = json.loads(out)
    assert code == 0 and "time budget of 0 s ran out" in answer["notice"] and f"qa: {answer['notice']}" in err


def test_ask_with_an_index_path_that_is_a_file_says_so(capsys, tmp_path):
    not_a_folder = tmp_path / "index.txt"
    not_a_folder.write_text("x")
    code, _, err = run(capsys, "ask", QUESTION, "--index", str(not_a_folder))
    assert code == 1 and err.startswith(f"qa: cannot use {not_a_folder}") and "Not a directory" in err  # was a traceback

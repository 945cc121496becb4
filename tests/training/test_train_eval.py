"""Training's dev evaluation is the shipped reader's: ``qa.reader_span.SpanReader`` tokenises and decodes it.

The scores printed while training must be the scores of the reader that ships, so ``training.evaluation`` wraps
the model in ``SpanReader.around`` instead of decoding on its own; here it must agree with a ``SpanReader`` that
loads the same model from its directory, question by question.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from qa.metrics import exact_match, f1_score
from qa.reader_span import SpanReader, SpanReaderConfig
from training.evaluation import dev_examples, evaluate, gold_paragraph_hit
from training.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_dev_scores_are_those_of_the_shipped_reader(tiny_span_model, squad_file, tokenizer):
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(str(tiny_span_model), local_files_only=True)
    settings = Settings(max_length=48, stride=8, max_question_tokens=12)
    examples = dev_examples(squad_file, 40)
    shipped = SpanReader(tiny_span_model, SpanReaderConfig(max_length=48, stride=8, max_question_tokens=12,
                                                           int8=False))
    for example in examples[:10]:  # question by question: the very answer of the shipped reader
        answer = shipped.read(example.question, *gold_paragraph_hit(example)).answer
        one = evaluate(model, tokenizer, [example], settings, torch.device("cpu"), bf16=False)
        assert one["f1"] == round(100 * f1_score(answer, example.answers), 2)
        assert one["exact_match"] == round(100 * exact_match(answer, example.answers), 2)

    result = evaluate(model, tokenizer, examples, settings, torch.device("cpu"), bf16=False)
    fresh = SpanReader(tiny_span_model, shipped.config)
    answers = [fresh.read(e.question, *gold_paragraph_hit(e)).answer for e in examples]
    assert result["n"] == 40 and result["windows"] == fresh.timings.windows > 40  # paragraphs of several windows
    f1 = float(np.mean([f1_score(a, e.answers) for a, e in zip(answers, examples)]))
    assert result["f1"] == round(100 * f1, 2)


def test_help_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "training", "--help"], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "python -m training" in done.stdout and "--average-with" in done.stdout and "--eval-model" in done.stdout

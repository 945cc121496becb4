"""The training loop: length-grouped batches, AdamW with a linear schedule, checkpoints, logs, early stops.

A step: forward under ``torch.autocast(device, bfloat16)`` when bf16 is on; loss = mean of the cross-entropies
of the start and end logits (in float32); gradient clipping; AdamW; the scheduler. The position (epoch, step in
epoch) is stored in every checkpoint, so a resumed run takes exactly the batches an uninterrupted run would take.
``run`` stops early on ``--stop-at-step``, ``--time-limit`` or ``stop_requested`` (a signal), checkpoints, and says
so in its ``TrainResult``.

Example:
    >>> trainer = Trainer(model, tokenizer, features, settings, args, out, log, device, base, train, key)  # doctest: +SKIP
    >>> trainer.restore(ckpt); result = trainer.run(); result.complete                                     # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from training.batches import epoch_batches, kept_windows, make_batch, steps_per_epoch
from training.checkpoints import (
    CHECKPOINT_FORMAT,
    RunLog,
    atomic_torch_save,
    checkpoint_path,
    list_checkpoints,
    rng_state,
    set_rng_state,
)
from training.features import Features
from training.model import linear_schedule, param_groups, word_embeddings
from training.settings import Settings


def batch_digest(windows: np.ndarray) -> str:
    return hashlib.sha1(np.asarray(windows, dtype=np.int64).tobytes()).hexdigest()[:12]


def clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass(frozen=True)
class TrainResult:
    global_step: int
    total_steps: int
    complete: bool
    stop_reason: str | None
    examples_per_s: float | None  # windows a second over this run's steps after the first few
    checkpoint: Path | None


class Trainer:
    """One run's training loop over ``features``: its state is what a checkpoint stores (``state``/``restore``);
    ``stop_requested`` (set by a signal handler) ends it after the current step, with a checkpoint."""

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
        self.data_facts: dict = {}  # more about the data, stored in every checkpoint (run.py: the negatives)

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
            **self.data_facts,
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
        path = checkpoint_path(self.out, self.global_step)
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

"""Checkpoint files, RNG states, the run lock and the run log of a run directory (``--out``).

``OUT/ckpt-<step>.pt`` holds model, optimizer, scheduler, RNG states (python, numpy, torch), position and
settings; it is written to a temporary file, flushed and renamed (``os.replace``), so a checkpoint file is always
whole. Killing the process at any moment loses at most the steps since the last checkpoint; the next run in the
same ``--out`` resumes from it (a checkpoint that cannot be read is moved aside for the one before it).

Example:
    >>> with RunLock(out):                                    # doctest: +SKIP
    ...     ckpt, path = load_latest_checkpoint(out, RunLog(out / LOG_FILE))
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

CHECKPOINT_FORMAT = 1
CHECKPOINT_RE = re.compile(r"^ckpt-(\d{8})\.pt$")
LOG_FILE = "train_log.jsonl"


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


def checkpoint_path(out: Path, step: int) -> Path:
    return out / f"ckpt-{step:08d}.pt"


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

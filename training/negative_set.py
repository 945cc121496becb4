"""A negatives file of ``python -m training.negatives`` as training reads it: its rows, its ``meta.json`` (mix,
counts, seed, hold-out articles), its digest, and the unanswerable ``Example`` s a run trains on.

A run with ``--negatives FILE --negative-share S`` trains on its answerable questions (those of the hold-out
articles left out) plus ``needed(n, S)`` unanswerable examples, so that S of the training *examples* are
unanswerable; they are taken evenly spread over the file (whose lines are shuffled, so the kinds keep the mix).

Example:
    >>> negatives = load_negative_set(Path("build/negatives/negatives.jsonl"))   # doctest: +SKIP
    >>> needed(6000, 0.4)
    4000
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from training.features import Example, evenly_spread

META_FILE = "meta.json"  # written beside the negatives file by training.negatives


@dataclass(frozen=True)
class NegativeSet:
    path: Path
    sha256: str
    meta: dict
    rows: tuple[dict, ...]

    @property
    def holdout_titles(self) -> frozenset[str]:
        return frozenset((self.meta.get("holdout") or {}).get("articles") or [])

    def picked(self, n: int) -> list[dict]:
        """``n`` rows (all when there are fewer), evenly spread over the file."""
        return evenly_spread(list(self.rows), n) if n > 0 else []

    def examples(self, n: int) -> list[Example]:
        """``n`` unanswerable examples: the ``picked`` rows, no answer."""
        return [Example(r["question"], r["context"], -1, -1, []) for r in self.picked(n)]

    def for_share(self, answerable: int, share: float) -> list[Example]:
        """The unanswerable examples to add to ``answerable`` ones so that ``share`` of all are unanswerable."""
        want = needed(answerable, share)
        if want > len(self.rows):
            print(f"warning: --negative-share {share} asks for {want} unanswerable examples, {self.path} holds "
                  f"{len(self.rows)}: all are used (make more with python -m training.negatives --questions)",
                  file=sys.stderr)
        return self.examples(want)

    def key(self, share: float) -> dict:
        """What the features cache key takes from the negatives: the file, the share, the hold-out."""
        holdout = hashlib.sha256("\n".join(sorted(self.holdout_titles)).encode()).hexdigest()
        return {"sha256": self.sha256, "share": share, "holdout": holdout}

    def facts(self, used: int, answerable: int) -> dict:
        """What a checkpoint (and so ``training.json`` and the model card) records of the negatives."""
        n = self.meta.get("negatives") or {}
        rows = self.picked(used)
        kinds = {k: sum(r["kind"] == k for r in rows) for k in n.get("counts", {})}
        return {"file": self.path.name, "sha256": self.sha256, "seed": self.meta.get("seed"),
                "mix": self.meta.get("mix"), "file_counts": n.get("counts"), "source": self.meta.get("source"),
                "used": used, "used_counts": kinds, "answerable": answerable,
                "share": round(used / max(1, used + answerable), 4),
                "holdout_articles": sorted(self.holdout_titles)}


def needed(answerable: int, share: float) -> int:
    """Unanswerable examples to add to ``answerable`` ones so that ``share`` of all are unanswerable."""
    return round(answerable * share / (1 - share)) if share > 0 else 0


def load_negative_set(path: Path) -> NegativeSet:
    """The negatives file and its ``meta.json``; refused when they do not belong together or a row comes from a
    hold-out article."""
    path = Path(path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    meta_path = path.with_name(META_FILE)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: --negatives {path}: cannot read {meta_path} ({exc})") from None
    recorded = (meta.get("negatives") or {}).get("sha256")
    if recorded != digest:
        raise SystemExit(f"error: --negatives {path}: its sha256 is not the one {meta_path} records: "
                         "the file changed since it was written (run python -m training.negatives again)")
    rows = tuple(json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip())
    held = frozenset((meta.get("holdout") or {}).get("articles") or [])
    leaked = [r["id"] for r in rows if r.get("article_title") in held or r.get("context_title") in held]
    if leaked:
        raise SystemExit(f"error: --negatives {path}: {len(leaked)} rows come from hold-out articles "
                         f"(first {leaked[0]})")
    return NegativeSet(path, digest, meta, rows)

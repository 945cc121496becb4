"""Where things live, from the command line and the environment (no global state: a value object)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from corpus.defaults import DEFAULT_ARTICLES_DIR


def default_index_dir() -> Path:
    return Path(os.environ.get("QA_INDEX", ".qa-index"))


@dataclass(frozen=True)
class Paths:
    index_dir: Path
    default_corpus: Path = DEFAULT_ARTICLES_DIR

    @classmethod
    def from_args(cls, index: str | None) -> "Paths":
        return cls(Path(index) if index else default_index_dir())

"""Reading a dataset's text file, plain or gzipped, for the gold-set and SQuAD readers (and the benchmarks).

Example:
    >>> read_text("corpus/gold/default.jsonl").splitlines()[0][:7]   # doctest: +SKIP
    '{"id": '
"""

from __future__ import annotations

import gzip
from pathlib import Path


def read_text(path: str | Path) -> str:
    """A UTF-8 text file, gunzipped when it is gzip (by its magic bytes, not its name)."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8-sig")

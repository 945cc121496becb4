"""Where the command line finds the index: ``--index``, else ``$QA_INDEX``, else ``.qa-index`` here.

Example:
    >>> index_dir(None)                         # doctest: +SKIP
    PosixPath('.qa-index')
"""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "QA_INDEX"
DEFAULT_INDEX = ".qa-index"


def index_dir(given: str | None) -> Path:
    """The index directory: ``given`` (from ``--index``), else ``$QA_INDEX``, else ``.qa-index``."""
    return Path(given) if given else Path(os.environ.get(INDEX_ENV, DEFAULT_INDEX))

"""Plain text (.txt): the text exactly as stored; the title is its headline or its first sentence.

Example:
    >>> load_text(Path("storm.txt"), b"Storm hits the coast\\n\\nThe storm arrived.").title
    'Storm hits the coast'
"""

from __future__ import annotations

from pathlib import Path

from corpus.article import Article
from corpus.loaders.common import decode_text
from corpus.loaders.titles import title_for


def load_text(path: Path, data: bytes) -> Article:
    text = decode_text(data)
    return Article.from_text(text, title=title_for(text), path=str(path))

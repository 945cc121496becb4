"""Where the default corpus and its gold questions live (shipped inside the package).

Example:
    >>> from corpus.loaders import load_paths
    >>> report = load_paths([DEFAULT_ARTICLES_DIR])   # doctest: +SKIP
"""

from pathlib import Path

DEFAULT_ARTICLES_DIR = Path(__file__).parent / "articles"
DEFAULT_GOLD = Path(__file__).parent / "gold" / "default.jsonl"

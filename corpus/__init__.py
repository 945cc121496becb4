"""Articles and their loading."""

from corpus.article import Article, text_fingerprint

__all__ = ["Article", "text_fingerprint"]

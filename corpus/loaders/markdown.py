"""Markdown (.md): the source text unaltered, after its front matter if it has one; the title is the front
matter's, else the first ``# heading`` outside code fences.

Example:
    >>> markdown_title("```\\n# a comment\\n```\\n# The Title #\\n\\nBody.")
    'The Title'
"""

from __future__ import annotations

import re
from pathlib import Path

from corpus.article import Article
from corpus.loaders.common import Failure, decode_text
from corpus.loaders.front_matter import split_front_matter
from corpus.loaders.titles import title_for

_MD_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_title(text: str) -> str | None:
    """The first ``# heading`` outside code fences, without its ``#`` marks."""
    in_fence = False
    for line in text.splitlines():
        if _MD_FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _MD_H1.match(line)):
            return match.group(1).strip()
    return None


def load_markdown(path: Path, data: bytes) -> Article:
    meta, text = split_front_matter(decode_text(data))
    if not text.strip():
        raise Failure("no text after the front matter")
    # without an H1, a "## subheading" first line still makes a title, minus its marks
    title = meta.pop("title", "") or markdown_title(text) or re.sub(r"^#+\s*", "", title_for(text))
    return Article.from_text(text, title=title, path=str(path), **meta)

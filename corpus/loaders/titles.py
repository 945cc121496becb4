"""Titles for articles whose file gives none: the opening headline, else the first sentence, shortened.

Example:
    >>> title_for("Storm hits the coast\\n\\nThe storm arrived at dawn.")
    'Storm hits the coast'
    >>> title_for("The storm arrived at dawn. Then it rained.")
    'The storm arrived at dawn'
"""

from __future__ import annotations

import re

HEADLINE_MAX_WORDS = 20
HEADLINE_MAX_CHARS = 200
DERIVED_TITLE_WORDS = 12
_LINE = re.compile(r"[^\r\n]*")
_CLOSING_QUOTES = "\"'”’»)]"
_SENTENCE_ENDS = (".", "?", "!", ":", ";", "…")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[A-Z0-9])")


def _first_line_and_rest(text: str) -> tuple[str, str]:
    """The first non-blank line (stripped) and everything after it."""
    start = len(text) - len(text.lstrip())
    match = _LINE.match(text, start)
    return match.group().strip(), text[match.end():]


def ends_like_sentence(line: str) -> bool:
    """True when ``line`` ends with . ? ! : ; … possibly followed by closing quotes or brackets."""
    return line.rstrip(_CLOSING_QUOTES).endswith(_SENTENCE_ENDS)


def headline_of(text: str) -> str | None:
    """The first line when it reads as a headline (short, no closing punctuation, text follows)."""
    line, rest = _first_line_and_rest(text)
    if not line or not rest.strip():
        return None
    if len(line) > HEADLINE_MAX_CHARS or len(line.split()) > HEADLINE_MAX_WORDS:
        return None
    return None if ends_like_sentence(line) else line


def derive_title(text: str, max_words: int = DERIVED_TITLE_WORDS) -> str:
    """A title from the first sentence, cut to ``max_words`` words with "…"."""
    line, _ = _first_line_and_rest(text)
    match = _SENTENCE_END.search(line)
    sentence = line[: match.start() + 1] if match else line
    words = sentence.split()
    if len(words) > max_words:
        return " ".join(words[:max_words]).rstrip(",;:—–-") + "…"
    return " ".join(words).rstrip(".") or "Untitled"


def title_for(text: str) -> str:
    """The headline if the text opens with one, else a title derived from the first sentence."""
    return headline_of(text) or derive_title(text)

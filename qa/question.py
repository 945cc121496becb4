"""What a question (and its ``k``) must be before anything reads it: the one check the API, the CLI and the chat share.

``check_question`` refuses, with a message that says why:
  - an empty question (or only spaces);
  - text that is not valid Unicode: a lone surrogate (U+D800..U+DFFF) comes from a JSON escape like ``"\\ud800"``
    or from command-line bytes that are not UTF-8 (Python keeps them as U+DC80..U+DCFF); no tokenizer or
    encoder can take it, and it cannot be written back as UTF-8;
  - a question longer than ``MAX_QUESTION_CHARS`` characters (the reader reads only its first 64 tokens anyway);
  - a question without a letter or a digit (only punctuation, symbols or spaces): there is nothing to look for.
``check_k`` accepts a whole number of passages from 1 to ``MAX_K``.

Both raise ``ValueError``, which every caller already turns into its own clear refusal: a 400 in the API,
``qa: …`` and exit 2 in the CLI, an error line in the chat.

Example:
    >>> check_question("  Who is the spokesman?  ")
    'Who is the spokesman?'
    >>> check_question("?!")
    Traceback (most recent call last):
    ...
    ValueError: the question has no words: it is only punctuation or symbols
    >>> check_k(5.0)
    5
"""

from __future__ import annotations

import math
import unicodedata

MAX_QUESTION_CHARS = 2000
MAX_K = 50  # passages read and cited for one question (the API, the CLI, the chat)


def check_question(question: object) -> str:
    """``question`` stripped of surrounding spaces; ``ValueError`` saying why it cannot be asked."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be text, not {type(question).__name__}")  # noqa: TRY004 user input: one error type
    text = question.strip()
    if not text:
        raise ValueError("the question is empty")
    bad = next((i for i, ch in enumerate(text) if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if bad is not None:
        raise ValueError(
            f"the question is not valid text: character {bad + 1} (U+{ord(text[bad]):04X}) is a lone surrogate, "
            "not a character (bytes that are not UTF-8, or a broken \\u escape)"
        )
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is too long ({len(text)} characters; the limit is {MAX_QUESTION_CHARS})")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in text):
        raise ValueError("the question has no words: it is only punctuation or symbols")
    return text


def check_k(k: object, name: str = "k") -> int:
    """``k`` as an int from 1 to ``MAX_K`` (a whole float such as 5.0 is accepted); ``ValueError`` otherwise.
    ``name`` is how the caller calls it (``--k``, ``"k"``), so the message points at what the user typed."""
    if isinstance(k, float) and math.isfinite(k) and k.is_integer():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"{name} must be an integer from 1 to {MAX_K}")  # noqa: TRY004 user input: one error type
    if not 1 <= k <= MAX_K:
        shown = str(k) if abs(k) < 10**12 else f"a {_digits(k)}-digit number"
        raise ValueError(f"{name} must be from 1 to {MAX_K} (got {shown})")
    return k


def _digits(n: int) -> int:
    """How many digits ``n`` has, without ``str(n)`` (slow for a huge int, and refused past 4,300 digits)."""
    digits = max(1, int(abs(n).bit_length() * math.log10(2)))
    return digits + 1 if abs(n) >= 10**digits else digits

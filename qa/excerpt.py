"""A bounded piece of a long text around a span: what a reply shows of a long passage or sentence.

A reply never carries a whole passage of unbounded size (a text without sentence breaks can be one huge
passage): it carries at most ``limit`` characters around the answer, cut at spaces when there is one near the
cut, verbatim (``text[a:b]``), so offsets still point into the article.

Example:
    >>> text = "one two three four five six seven eight nine ten"
    >>> a, b = excerpt_bounds(text, 0, len(text), (14, 18), limit=20)
    >>> text[a:b]
    'three four five'
"""

from __future__ import annotations

SNAP_CHARS = 40  # how far a cut may move to fall on a space


def excerpt_bounds(text: str, start: int, end: int, around: tuple[int, int] | None, limit: int) -> tuple[int, int]:
    """``(a, b)`` within ``[start, end)`` of ``text``, ``b - a <= limit``: the whole range when it fits, else a
    window centred on ``around`` (a ``(start, end)`` span, kept whole when it fits) or the range's beginning."""
    if end - start <= limit:
        return start, end
    s, e = around if around is not None else (start, start)
    s, e = max(start, min(s, end)), max(start, min(e, end))
    a = max(start, min((s + e) // 2 - limit // 2, end - limit))
    b = a + limit
    if a > start:  # start after a space near the cut, never past the span
        space = text.find(" ", a, min(s, a + SNAP_CHARS))
        a = space + 1 if space >= 0 else a
    if b < end:  # end at a space near the cut, never before the span
        space = text.rfind(" ", max(e, b - SNAP_CHARS), b)
        b = space if space > a else b
    return a, b

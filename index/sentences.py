"""Sentence and paragraph boundaries with character offsets (no text is ever altered).

Example:
    >>> text = "Mr. Li spoke. U.S. aid rose 5.2% on Monday! Why?"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Mr. Li spoke.', 'U.S. aid rose 5.2% on Monday!', 'Why?']
"""

from __future__ import annotations

import re

# Abbreviations after which a period does not end a sentence (lower-cased, without the final dot).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen gov sen rep rev col lt sgt capt cmdr adm pres vs etc inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec no fig approx dept est u.s u.k u.n e.g i.e a.m p.m".split()
)
# A sentence ends with . ! ? (or …) plus any closing quotes/brackets, then whitespace. French style puts a
# (no-break) space before a closing guillemet: "C’est fini. »" ends after the ».
_END = re.compile(r"[.!?…]+(?:[\"'”’»)\]]|[ \u00a0\u202f]+»)*(?=\s|$)")
# A blank line: only whitespace (a no-break space left by HTML too) between two line feeds.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
# Lines that are not article prose (photo credits) never go into a chunk.
_NON_PROSE_LINE = re.compile(r"^\s*(CREDIT|Credit|PHOTO|Photo credit)\s*:.*$", re.MULTILINE)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the paragraphs (blank-line separated), trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        spans.extend(_trimmed(text, pos, m.start()))
        pos = m.end()
    spans.extend(_trimmed(text, pos, len(text)))
    return spans


def prose_segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split [start, end) around non-prose lines (photo credits), trimmed."""
    out: list[tuple[int, int]] = []
    pos = start
    # "^" matches only at a line start, and ``start`` may sit after a line's indentation: search from the line.
    line_start = text.rfind("\n", 0, start) + 1
    for m in _NON_PROSE_LINE.finditer(text, line_start, end):
        out.extend(_trimmed(text, pos, m.start()))
        pos = max(pos, m.end())
    out.extend(_trimmed(text, pos, end))
    return out


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of text[start:end]. A line break also ends a sentence (news text puts one paragraph a line)."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line_start, line_end in _lines(text, start, end):
        s = line_start
        for m in _END.finditer(text, line_start, line_end):
            if _is_false_end(text, s, m.start(), m.end(), line_end):
                continue
            spans.extend(_trimmed(text, s, m.end()))
            s = m.end()
        spans.extend(_trimmed(text, s, line_end))
    return spans


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    while pos < end:
        nl = text.find("\n", pos, end)
        if nl == -1:
            out.append((pos, end))
            break
        out.append((pos, nl))
        pos = nl + 1
    return out


def _is_false_end(text: str, sent_start: int, dot: int, after: int, line_end: int) -> bool:
    """True when the punctuation at ``dot`` does not end a sentence (abbreviation, initial, lower-case next)."""
    if text[dot] != ".":
        return _next_is_lower(text, after, line_end)
    word_start = dot
    while word_start > sent_start and not text[word_start - 1].isspace() and text[word_start - 1] not in "(\"“«‘'":
        word_start -= 1
    word = text[word_start:dot].lower()
    if word in _ABBREVIATIONS:
        # "U.S." at the end of a sentence is still an end when a capitalised common word follows; keep it
        # simple and treat it as an end only when the next word starts a quote or a new capitalised clause.
        return not (word in {"u.s", "u.k", "u.n"} and _next_starts_sentence_strongly(text, after, line_end))
    if len(word) == 1 and word.isalpha():  # an initial: "John F. Kennedy"
        return True
    return _next_is_lower(text, after, line_end)


def _next_char(text: str, pos: int, end: int) -> str:
    while pos < end and text[pos].isspace():
        pos += 1
    return text[pos] if pos < end else ""


def _next_is_lower(text: str, pos: int, end: int) -> bool:
    ch = _next_char(text, pos, end)
    return bool(ch) and (ch.islower() or ch in ",;:")


def _next_starts_sentence_strongly(text: str, pos: int, end: int) -> bool:
    j = pos
    while j < end and text[j].isspace():
        j += 1
    m = re.match(r"(The|But|And|In|On|It|He|She|They|We|This|That|A|An|“|\"|«)\b", text[j:end])
    return m is not None


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []

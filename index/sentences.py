"""Sentence and paragraph boundaries with character offsets (no text is ever altered).

Every function here takes time linear in the text it is given (an article may be tens of megabytes).

Example:
    >>> text = "Mr. Li spoke. U.S. aid rose 5.2% on Monday! Why?"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Mr. Li spoke.', 'U.S. aid rose 5.2% on Monday!', 'Why?']
    >>> line = "one two three four five"
    >>> [line[s:e] for s, e in bounded_spans(line, [(0, len(line))], max_chars=9, max_words=5)]
    ['one two', 'three', 'four five']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

# Abbreviations after which a period does not end a sentence (lower-cased, without the final dot).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen gov sen rep rev col lt sgt capt cmdr adm pres vs etc inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec no fig approx dept est u.s u.k u.n e.g i.e a.m p.m".split()
)
# A sentence ends with . ! ? (or …) plus any closing quotes/brackets, then whitespace. French style puts a
# (no-break) space before a closing guillemet: "C’est fini. »" ends after the ».  The run of marks and what
# follows it are matched apart: one pattern, tried from every mark of a long run, backtracked over the rest of
# the run each time (a 60 KB line of dots took 230 s).
_MARKS = re.compile(r"[.!?…]+")
_AFTER_MARKS = re.compile(r"(?:[\"'”’»)\]]|[ \u00a0\u202f]+»)*(?=\s|$)")
# A blank line: only whitespace (a no-break space left by HTML too) between two line feeds.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
# Lines that are not article prose (photo credits) never go into a chunk. Only horizontal space before the
# word: a "\s*" there ran from every line start over all the blank lines after it (quadratic on a text of
# blank lines), and the segments, trimmed, are the same.
_NON_PROSE_LINE = re.compile(r"^[^\S\n]*(CREDIT|Credit|PHOTO|Photo credit)\s*:.*$", re.MULTILINE)
_SPACES = re.compile(r"\s*")
_LINE = re.compile(r"\S[^\n]*")
_STRONG_START = re.compile(r"(The|But|And|In|On|It|He|She|They|We|This|That|A|An|“|\"|«)\b")


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
        for dot, after in _ends(text, line_start, line_end):
            if _is_false_end(text, s, dot, after, line_end):
                continue
            spans.extend(_trimmed(text, s, after))
            s = after
        spans.extend(_trimmed(text, s, line_end))
    return spans


def _ends(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(first mark, end) of each run of marks in [start, end) that may end a sentence, closing quotes included."""
    for run in _MARKS.finditer(text, start, end):
        after = _AFTER_MARKS.match(text, run.end(), end)
        if after is not None:
            yield run.start(), after.end()


def bounded_spans(text: str, spans: list[tuple[int, int]], max_chars: int, max_words: int) -> list[tuple[int, int]]:
    """``spans`` (trimmed), each one longer than ``max_chars`` split at whitespace into pieces of at most
    ``max_words`` words and ``max_chars`` characters; a word longer than ``max_chars`` is cut hard."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if end - start <= max_chars:
            out.append((start, end))
        else:
            out.extend(_pieces(text, start, end, max_chars, max_words))
    return out


@lru_cache(maxsize=16)
def _piece_pattern(max_words: int) -> re.Pattern[str]:
    """Up to ``max_words`` words; group 1 is the whitespace before the last word (unset for a single word)."""
    return re.compile(rf"\S+(?:(\s+)\S+){{0,{max_words - 1}}}")


def _pieces(text: str, start: int, end: int, max_chars: int, max_words: int) -> list[tuple[int, int]]:
    # The regex engine walks the words (a Python loop over ten million words would take seconds); each step
    # looks at no more than the piece it returns plus the whitespace after it, so the whole is linear.
    pattern = _piece_pattern(max(1, max_words))
    out: list[tuple[int, int]] = []
    pos = start  # the span is trimmed: pos is at a word
    while pos < end:
        limit = min(end, pos + max_chars)
        m = pattern.match(text, pos, limit)
        stop = m.end()
        if stop == limit < end and not text[limit].isspace() and m.start(1) != -1:
            stop = m.start(1)  # the last word runs on past the bound: it starts the next piece, whole
        # (a lone word running past the bound stays cut at the bound: it cannot be split anywhere better)
        out.append((pos, stop))
        pos = _SPACES.match(text, stop, end).end()
    return out


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Each line of [start, end) that holds a word, from its first one (the regex skips blank lines in C: a
    Python loop over a text of millions of empty lines took seconds a megabyte)."""
    for m in _LINE.finditer(text, start, end):
        yield m.start(), m.end()


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
    # Matched in place: a slice text[j:end] copied the rest of the line at every "U.S." (quadratic).
    return _STRONG_START.match(text, _SPACES.match(text, pos, end).end(), end) is not None


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []

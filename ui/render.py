"""HTML for the chat: answers, highlighted sentences, citations, the article list, upload reports.

Every piece of text that comes from outside the code (article text and titles, sources, file names,
questions, error messages) goes through ``escape`` before it is put into HTML. ``escape`` turns the HTML
specials into entities *and* the characters Markdown or LaTeX would act on (``* _ [ ] ` $ # ~ | \\ : @``),
so neither the chat's Markdown renderer nor its HTML sanitiser ever sees markup that came from the data;
the browser shows the literal characters. The output never contains a newline: the chat's Markdown parser
treats a one-line message that starts with ``<div`` as a raw HTML block and leaves it alone. A lone surrogate
(from a broken ``\ud800`` escape) becomes U+FFFD: it could not be encoded, and the whole reply would fail.

An abstained reply says so, lists the closest passages, and offers the reader's best candidate (``Answer.guess``)
collapsed in a ``<details>`` labelled as a low-confidence guess, not an answer; it is never marked in a passage.

A citation shows its text as the answerer bounded it (``Citation.excerpt``): an excerpt of a long passage is
marked with "…" where it was cut, and its position still gives the whole passage. Its summary line names the
article's source and publication day. A reply to a question asked with filters says what it was limited to.

Pure functions: no Gradio, no I/O.

Example:
    >>> escape('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> highlight("said Geng Shuang, a spokesman", [(5, 16)])
    'said <mark>Geng Shuang</mark>, a spokesman'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from qa.types import Answer, Citation

NOT_FOUND = "Not found in the articles."
GUESS_LABEL = "Best guess (low confidence, {confidence}) \u2014 not an answer"
GUESS_NOTE = "The reader's most likely words, below its confidence threshold: the articles may not say this."

_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
}
# Markdown, GFM autolinks and LaTeX delimiters: shown as themselves, never interpreted.
for _ch in "\\`*_[]{}#~|$:@!":
    _ENTITIES[_ch] = f"&#{ord(_ch)};"
_TABLE = str.maketrans(_ENTITIES)
_TABLE.update({code: "\ufffd" for code in range(0xD800, 0xE000)})  # lone surrogates: unencodable


def escape(text: object) -> str:
    """Text -> HTML that displays exactly that text (newlines become ``<br>``)."""
    out = str(text).translate(_TABLE)
    return out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def highlight(text: str, ranges: Iterable[tuple[int, int]]) -> str:
    """Escaped ``text`` with each ``(start, end)`` range wrapped in ``<mark>`` (overlaps merged)."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in ranges):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, pos = [], 0
    for start, end in merged:
        parts.append(escape(text[pos:start]))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    parts.append(escape(text[pos:]))
    return "".join(parts)


def occurrences(text: str, needle: str | None) -> list[tuple[int, int]]:
    """Every non-overlapping occurrence of ``needle`` in ``text`` as ``(start, end)``."""
    if not needle:
        return []
    out, pos = [], text.find(needle)
    while pos >= 0:
        out.append((pos, pos + len(needle)))
        pos = text.find(needle, pos + len(needle))
    return out


def citation_answer_ranges(citation: Citation, answer: Answer) -> list[tuple[int, int]]:
    """Where the answer lies in a citation's text: the exact span when the citation holds it, else its words."""
    if answer.abstained or not answer.answer:
        return []
    if citation.holds(answer.answer_span):
        _, start, end = answer.answer_span
        return [(start - citation.text_offset, end - citation.text_offset)]
    return occurrences(citation.text, answer.answer)


def sentence_answer_range(answer: Answer) -> tuple[int, int] | None:
    """Where the answer lies in ``answer.sentence``: located through the citation holding the span when
    possible (so a repeated word marks the right occurrence), else its first occurrence."""
    sentence, text = answer.sentence, answer.answer
    if not sentence or not text:
        return None
    cited = answer.answer_citation()
    if cited is not None and answer.answer_span is not None:
        _, start, end = answer.answer_span
        base = cited.text_offset
        for s, e in occurrences(cited.text, sentence):
            if base + s <= start and end <= base + e:
                return start - base - s, end - base - s
    found = sentence.find(text)
    return (found, found + len(text)) if found >= 0 else None


def format_position(citation: Citation) -> str:
    shown = "" if citation.text_start is None else f", an excerpt of {citation.end - citation.start:,}"
    return f"chars {citation.start}\u2013{citation.end}{shown}"


def render_citation(citation: Citation, answer: Answer, open_: bool = False) -> str:
    passage = highlight(citation.text, citation_answer_ranges(citation, answer))
    if citation.text_offset > citation.start:
        passage = "&#8230; " + passage
    if citation.text_offset + len(citation.text) < citation.end:
        passage += " &#8230;"
    meta = [f'<span class="qa-source">{escape(citation.source)}</span>'] if citation.source else []
    if citation.published:
        meta.append(f'<span class="qa-published">{escape(citation.published)}</span>')
    meta.append(escape(format_position(citation)))
    meta.append(f"score {citation.score:.3f}")
    opened = " open" if open_ else ""
    return (
        f'<details class="qa-cite"{opened}>'
        f'<summary><span class="qa-n">&#91;{int(citation.n)}&#93;</span> '
        f'<span class="qa-title">{escape(citation.title)}</span> '
        f'<span class="qa-where">{" &#183; ".join(meta)}</span></summary>'
        f'<div class="qa-passage">{passage}</div>'
        f"</details>"
    )


def format_confidence(confidence: float) -> str:
    return f"{max(0.0, min(1.0, float(confidence))) * 100:.0f}%"


def render_answer(answer: Answer, followup_note: str | None = None, notice: str | None = None,
                  scope: str | None = None) -> str:
    """The assistant's reply: answer in bold, its sentence with the answer marked, confidence, citations;
    ``scope``: the filters the passages were chosen under ("source CNN; published from ...")."""
    parts = ['<div class="qa-reply">']
    if followup_note:
        parts.append(f'<p class="qa-followup">&#8618; {escape(followup_note)}</p>')
    if scope:
        parts.append(f'<p class="qa-scope">Only articles matching: {escape(scope)}</p>')
    if answer.abstained or not answer.answer:
        parts.append(f'<p class="qa-answer qa-notfound"><strong>{escape(NOT_FOUND)}</strong></p>')
    else:
        cited = answer.answer_citation()
        ref = f' <span class="qa-ref">&#91;{int(cited.n)}&#93;</span>' if cited is not None else ""
        parts.append(f'<p class="qa-answer"><strong>{escape(answer.answer)}</strong>{ref}</p>')
        if answer.sentence and answer.sentence.strip() != answer.answer.strip():  # a sentence reader's answer is its sentence
            where = sentence_answer_range(answer)
            sentence = highlight(answer.sentence, [where] if where else [])
            parts.append(f'<blockquote class="qa-sentence">{sentence}</blockquote>')
        parts.append(render_sources(answer))
    conf = format_confidence(answer.confidence)
    meta = [f'confidence <b class="qa-conf">{conf}</b>', escape(answer.mode), f"{answer.latency_ms:.0f} ms"]
    parts.append(f'<p class="qa-meta">{" &#183; ".join(meta)}</p>')
    for said in (notice, answer.notice):
        if said:
            parts.append(f'<p class="qa-notice">{escape(said)}</p>')
    parts.append(render_guess(answer))
    if answer.citations:
        head = "Closest passages" if answer.abstained or not answer.answer else "Sources"
        parts.append(f'<div class="qa-cites"><p class="qa-cites-head">{head}</p>')
        parts.extend(render_citation(c, answer) for c in answer.citations)
        parts.append("</div>")
    elif answer.abstained:
        parts.append('<p class="qa-meta">No passage came close.</p>')
    parts.append("</div>")
    return "".join(parts)


def render_sources(answer: Answer) -> str:
    """Where the articles read answer otherwise, each one's answer with its source and day; where they agree, how
    many do ("" when fewer than two articles answer)."""
    if not answer.sources_differ:
        n = answer.sources_agreeing
        return f'<p class="qa-agree">{n} sources agree.</p>' if n > 1 else ""
    items = []
    for a in answer.alternatives:
        ref = "" if a.citation is None else f' <span class="qa-ref">&#91;{int(a.citation)}&#93;</span>'
        items.append(f'<li>{escape(a.label())}: <strong>{escape(a.text)}</strong>{ref} '
                     f'<span class="qa-alt-conf">({format_confidence(a.confidence)})</span></li>')
    return f'<div class="qa-differ"><p>Sources differ:</p><ul>{"".join(items)}</ul></div>'


def render_guess(answer: Answer) -> str:
    """An abstained answer's best candidate, collapsed and labelled as a guess ("" when answered or none)."""
    guess = answer.guess
    if not answer.abstained or guess is None:
        return ""
    label = GUESS_LABEL.format(confidence=format_confidence(guess.confidence))
    ref = "" if guess.citation is None else f' <span class="qa-ref">&#91;{int(guess.citation)}&#93;</span>'
    body = [f'<p class="qa-guess-text">&#8220;{escape(guess.text)}&#8221;{ref}</p>']
    if guess.sentence and guess.sentence.strip() != guess.text.strip():
        body.append(f'<blockquote class="qa-guess-sentence">{escape(guess.sentence)}</blockquote>')
    where = "" if guess.citation is None else f" From passage &#91;{int(guess.citation)}&#93;."
    body.append(f'<p class="qa-meta">{escape(GUESS_NOTE)}{where}</p>')
    return f'<details class="qa-guess"><summary>{escape(label)}</summary><div class="qa-guess-body">{"".join(body)}</div></details>'


def render_question(question: str) -> str:
    return f'<div class="qa-question">{escape(question)}</div>'


def render_error(message: str) -> str:
    return f'<div class="qa-reply"><p class="qa-error">{escape(message)}</p></div>'


@dataclass(frozen=True)
class ArticleRow:
    title: str
    source: str | None
    chunks: int
    file: str | None = None
    published: str | None = None  # YYYY-MM-DD


def render_articles(rows: Sequence[ArticleRow], limit: int = 200) -> str:
    """The corpus as a numbered list of titles (escaped), with source, file name and passage count."""
    if not rows:
        return '<div class="qa-articles"><p>No articles in the index.</p></div>'
    items = []
    for row in rows[:limit]:
        meta = [escape(part) for part in (row.source, row.published) if part]
        if row.file:
            meta.append(escape(row.file))
        meta.append(f"{row.chunks} passage{'s' if row.chunks != 1 else ''}")
        items.append(
            f'<li><span class="qa-art-title">{escape(row.title)}</span>'
            f'<span class="qa-art-meta">{" &#183; ".join(meta)}</span></li>'
        )
    more = f'<p class="qa-meta">and {len(rows) - limit} more</p>' if len(rows) > limit else ""
    count = f"{len(rows)} article{'s' if len(rows) != 1 else ''}"
    return f'<div class="qa-articles"><p class="qa-count">{count}</p><ol>{"".join(items)}</ol>{more}</div>'


@dataclass(frozen=True)
class UploadLine:
    name: str
    ok: bool
    message: str


def render_upload_report(lines: Sequence[UploadLine]) -> str:
    if not lines:
        return ""
    items = []
    for line in lines:
        cls, mark = ("qa-ok", "&#10003;") if line.ok else ("qa-bad", "&#10007;")
        items.append(f'<li class="{cls}">{mark} <b>{escape(line.name)}</b>: {escape(line.message)}</li>')
    return f'<ul class="qa-uploads">{"".join(items)}</ul>'

"""The gold question type shared by every gold-set reader (JSONL gold sets, SQuAD).

Example:
    >>> q = GoldQuestion("q1", "Who spoke?", ["Geng Shuang"], article_id="933a152f61c8bef2")
    >>> q.answerable, q.answer_starts
    (True, [])
"""

from __future__ import annotations

from dataclasses import dataclass, field

ParagraphSpans = dict[str, list[tuple[int, int]]]  # article id -> (start, end) of each of its paragraphs


@dataclass
class GoldQuestion:
    """A question with its accepted answers.

    ``answer_starts[i]``, when known, is where ``answers[i]`` starts in the article's text, and
    ``paragraph`` is the (start, end) span of the paragraph holding the answers (SQuAD only).
    """

    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    answerable: bool = True
    article_id: str | None = None
    answer_starts: list[int] = field(default_factory=list)
    paragraph: tuple[int, int] | None = None

"""SQuAD v1.1 / v2.0 JSON (plain or gzipped) as articles plus gold questions.

Each SQuAD article (one title) becomes one ``Article`` whose text is its paragraphs joined by a blank line
("\\n\\n"), paragraphs unaltered. ``paragraph_spans[article_id]`` gives each paragraph's (start, end) in that
text, so chunks can stay inside a paragraph, and every answer start is shifted to point into the joined
text: ``article.text[s:s + len(answer)] == answer``. ``is_impossible`` questions are unanswerable.

Example:
    >>> from corpus.datasets import SQUAD_V20_DEV, dataset_path
    >>> squad = load_squad(dataset_path(SQUAD_V20_DEV))                  # doctest: +SKIP
    >>> len(squad.articles), len(squad.questions)                       # doctest: +SKIP
    (35, 11873)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from corpus.article import Article
from corpus.gold_question import GoldQuestion, ParagraphSpans
from corpus.text_file import read_text

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass
class SquadSet:
    """Articles, their paragraph spans, and the questions of one SQuAD file."""

    articles: list[Article]
    questions: list[GoldQuestion]
    paragraph_spans: ParagraphSpans
    version: str | None = None
    by_id: dict[str, Article] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.by_id:
            self.by_id = {a.id: a for a in self.articles}

    @property
    def paragraph_count(self) -> int:
        return sum(len(spans) for spans in self.paragraph_spans.values())


def load_squad(path: str | Path) -> SquadSet:
    """Read a SQuAD JSON file; raise ValueError with the question id when an answer is misplaced."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError(f"{path}: not SQuAD JSON (no top-level 'data' list)")
    articles: list[Article] = []
    questions: list[GoldQuestion] = []
    spans: ParagraphSpans = {}
    for entry in data["data"]:
        article, paragraph_spans = _article(entry, path)
        if article.id not in spans:  # two entries with the very same text share one article
            articles.append(article)
            spans[article.id] = paragraph_spans
        for paragraph, span in zip(entry["paragraphs"], paragraph_spans):
            questions.extend(_questions(paragraph, article, span, path))
    return SquadSet(articles, questions, spans, version=data.get("version"))


def _article(entry: dict, path: str | Path) -> tuple[Article, list[tuple[int, int]]]:
    contexts = [p["context"] for p in entry["paragraphs"]]
    spans: list[tuple[int, int]] = []
    position = 0
    for context in contexts:
        spans.append((position, position + len(context)))
        position += len(context) + len(PARAGRAPH_SEPARATOR)
    text = PARAGRAPH_SEPARATOR.join(contexts)
    title = str(entry.get("title", "")).replace("_", " ").strip() or "Untitled"
    return Article.from_text(text, title=title, source="Wikipedia", path=str(path)), spans


def _questions(
    paragraph: dict, article: Article, span: tuple[int, int], path: str | Path
) -> list[GoldQuestion]:
    offset = span[0]
    questions = []
    for qa in paragraph["qas"]:
        answerable = not qa.get("is_impossible", False)
        answers = [a["text"] for a in qa["answers"]] if answerable else []
        starts = [a["answer_start"] + offset for a in qa["answers"]] if answerable else []
        for answer, start in zip(answers, starts):
            if article.text[start:start + len(answer)] != answer:
                raise ValueError(f"{path}: question {qa['id']}: answer {answer!r} is not at answer_start")
        if answerable and not answers:
            raise ValueError(f"{path}: question {qa['id']} is answerable but has no answers")
        questions.append(GoldQuestion(qa["id"], qa["question"], answers, answerable, article.id, starts, span))
    return questions

"""Gold questions: the JSONL format of ARCHITECTURE.md, and a loader that also accepts SQuAD JSON.

One JSONL line a question:
``{"id": "q1", "question": "...", "answers": ["..."], "answerable": true, "article_id": "..."}``
(``answerable`` defaults to true; ``article_id`` and ``answer_starts`` are optional). The default set is the
data file ``corpus/gold/default.jsonl`` (``corpus.defaults.DEFAULT_GOLD``); this module is named apart from
that folder, so a module and a data folder no longer share one name.

Example:
    >>> questions, articles, spans = load_gold("corpus/gold/default.jsonl")   # doctest: +SKIP
    >>> questions, articles, spans = load_gold("squad-v2.0-dev.json.gz")       # doctest: +SKIP
    >>> len(articles), len(spans)                                             # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

from corpus.article import Article
from corpus.gold_question import GoldQuestion, ParagraphSpans
from corpus.squad import load_squad
from corpus.text_file import read_text

# GoldQuestion, ParagraphSpans and read_text are re-exported: callers take everything gold from here
__all__ = ["GoldQuestion", "ParagraphSpans", "load_gold", "load_gold_jsonl", "read_text"]


def load_gold(path: str | Path) -> tuple[list[GoldQuestion], list[Article] | None, ParagraphSpans | None]:
    """Gold questions from JSONL, or from SQuAD JSON (``.json``/``.json.gz``) with its own articles."""
    name = Path(path).name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        return load_gold_jsonl(path), None, None
    if name.endswith((".json", ".json.gz")):
        squad = load_squad(path)
        return squad.questions, squad.articles, squad.paragraph_spans
    raise ValueError(f"{path}: unknown gold format (expected .jsonl, or SQuAD .json / .json.gz)")


def load_gold_jsonl(path: str | Path) -> list[GoldQuestion]:
    """Read JSONL gold questions; a bad line raises ValueError naming the file and the line."""
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = _gold_from_record(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {number}: invalid JSON ({exc.msg})") from None
        except ValueError as exc:
            raise ValueError(f"{path} line {number}: {exc}") from None
        if question.id in seen:
            raise ValueError(f"{path} line {number}: duplicate id {question.id!r} (first on line {seen[question.id]})")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise ValueError(f"{path}: no gold questions in the file")
    return questions


def _gold_from_record(record: object) -> GoldQuestion:
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    qid = record.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise ValueError("id must be a non-empty string")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("question must be a non-empty string")
    answers = record.get("answers", [])
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise ValueError("answers must be a list of non-empty strings")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ValueError("answerable must be true or false")
    if answerable and not answers:
        raise ValueError("an answerable question needs at least one answer")
    if not answerable and answers:
        raise ValueError("answerable is false but answers are given")
    article_id = record.get("article_id")
    if article_id is not None and not isinstance(article_id, str):
        raise ValueError("article_id must be a string")
    starts = record.get("answer_starts", [])
    valid_starts = isinstance(starts, list) and all(type(s) is int and s >= 0 for s in starts)
    if not valid_starts or (starts and len(starts) != len(answers)):
        raise ValueError("answer_starts must be a list of offsets, one per answer")
    return GoldQuestion(qid, question, answers, answerable, article_id, starts)

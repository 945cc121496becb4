"""The kinds of unanswerable training examples made from an answerable SQuAD question.

- ``retrieval``: chunks the project's own hybrid retriever returns for the question (``qa.retriever``) that hold no
  gold answer: what the reader meets at run time when the articles do not say.
- ``answer_removed``: the gold paragraph without the sentence(s) holding the answer (``index.sentences``
  splits), the other sentences kept verbatim: same topic, same words, no answer (close to SQuAD v2.0's kind).
- ``question_swapped``: a paragraph of another article that shares the question's key terms (BM25 over all
  paragraphs, ``index.bm25``), holding no gold answer.
- ``entity_swapped``: the gold paragraph itself, with the question changed: a name or number of the question that
  the paragraph mentions is replaced by one of the same shape from a question of another article, which the
  paragraph does not mention ("When did Tesla move?" -> "When did Edison move?"). The paragraph still holds a
  plausible answer of the right type, as in SQuAD v2.0's entity-swap questions.

"Holds no gold answer" is ``qa.metrics.contains_answer``: every gold answer text, SQuAD-normalised (and curly
punctuation dropped), looked for on word boundaries; a chunk of the question's own article must also stay clear
of the answer's characters.

Example:
    >>> q = Source("q1", "Who built the mill?", "Mills", "Ann built the mill. It burnt. It was rebuilt in 1901. "
    ...            "Now it is a museum of the town.", ["Ann"], [0], "a1", (0, 85))
    >>> answer_removed(q, min_sentences=2, min_chars=20)
    'It burnt. It was rebuilt in 1901. Now it is a museum of the town.'
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from index.sentences import sentence_spans
from qa.metrics import contains_answer

KINDS = ("retrieval", "answer_removed", "question_swapped", "entity_swapped")
# A capitalised run of words not opening the question, or a number: what entity_swapped replaces.
_NAME = re.compile(r"(?<=\s)(?:[A-Z][\w'’.-]*)(?:\s+(?:of|the|de|von|van|and)?\s*[A-Z][\w'’.-]*)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


@dataclass(frozen=True)
class Source:
    """An answerable question with its gold paragraph (``context``) and where that lies in its article."""

    id: str
    question: str
    title: str
    context: str
    answers: list[str]
    answer_starts: list[int]  # of each answer, in ``context``
    article_id: str
    paragraph: tuple[int, int]  # the context's (start, end) in the article's text


def holds_answer(text: str, answers: list[str]) -> bool:
    return contains_answer(text, answers)


def answer_removed(source: Source, min_sentences: int = 2, min_chars: int = 150) -> str | None:
    """The gold paragraph without every sentence that an answer's characters touch, the kept sentences joined by
    one space; None when an answer text still occurs in it, or fewer than ``min_sentences`` sentences or
    ``min_chars`` characters are left."""
    spans = sentence_spans(source.context)
    answer_spans = [(s, s + len(a)) for a, s in zip(source.answers, source.answer_starts)]
    kept = [(s, e) for s, e in spans if not any(s < a1 and a0 < e for a0, a1 in answer_spans)]
    if len(kept) == len(spans) or len(kept) < min_sentences:
        return None
    text = " ".join(source.context[s:e] for s, e in kept)
    if len(text) < min_chars or holds_answer(text, source.answers):
        return None
    return text


class ParagraphSearch:
    """BM25 over every paragraph of a SQuAD set, for ``question_swapped``: the best paragraphs of other articles
    for a question. ``paragraphs``: (article id, title, text) of each."""

    def __init__(self, paragraphs: list[tuple[str, str, str]]):
        from index.bm25 import BM25Index

        self.paragraphs = paragraphs
        self.article = np.array([a for a, _, _ in paragraphs], dtype=object)
        self.bm25 = BM25Index.from_texts([text for _, _, text in paragraphs])

    def swapped(self, source: Source, allowed: np.ndarray, n: int, depth: int = 20) -> list[tuple[str, str]]:
        """(title, text) of up to ``n`` best-scoring ``allowed`` paragraphs of other articles holding no gold
        answer, among the ``depth`` best."""
        mask = allowed & (self.article != source.article_id)
        rows, _ = self.bm25.search(self.bm25.tokenize(source.question), depth, mask=mask)
        found = []
        for row in rows:
            _, title, text = self.paragraphs[row]
            if not holds_answer(text, source.answers):
                found.append((title, text))
                if len(found) == n:
                    break
        return found


def clean_hit(hit, source: Source) -> bool:
    """A retrieved chunk that holds no gold answer text and, in the question's own article, none of the gold
    answers' characters either."""
    chunk = hit.chunk
    if chunk.article_id == source.article_id:
        p0 = source.paragraph[0]
        if any(chunk.start < p0 + s + len(a) and p0 + s < chunk.end
               for a, s in zip(source.answers, source.answer_starts)):
            return False
    return not holds_answer(chunk.text, source.answers)


def retrieval_negatives(retriever, sources: list[Source], allowed_ids: set[str], k: int, n: int,
                        titles: dict[str, str]) -> list[list[tuple[str, str]]]:
    """For each source, (title, chunk text) of up to ``n`` of its top-``k`` hybrid hits among the articles
    ``allowed_ids`` that are clean (``clean_hit``), best ranked first (from its own article and from others,
    as they come)."""
    results = retriever.search_batch([s.question for s in sources], k=k, mode="hybrid", article_ids=allowed_ids)
    out = []
    for source, result in zip(sources, results):
        clean = [h for h in result.hits if clean_hit(h, source)][:n]
        out.append([(titles[h.chunk.article_id], h.chunk.text) for h in clean])
    return out


def question_entities(question: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each name ("name") and number ("number") in a question."""
    found = [("name", m.start(), m.end()) for m in _NAME.finditer(question)]
    found += [("number", m.start(), m.end()) for m in _NUMBER.finditer(question)]
    return sorted(found, key=lambda e: e[1])


def entity_pool(sources: list[Source]) -> dict[str, list[tuple[str, str]]]:
    """Every name and number of the sources' questions, by kind, with the article it comes from."""
    pool: dict[str, list[tuple[str, str]]] = {"name": [], "number": []}
    for s in sources:
        for kind, a, b in question_entities(s.question):
            pool[kind].append((s.question[a:b], s.article_id))
    return pool


def entity_swapped(source: Source, pool: dict[str, list[tuple[str, str]]], tries: int = 20) -> str | None:
    """The question with one of its names or numbers that the paragraph mentions replaced by one of the same kind
    from another article's question that the paragraph does not mention (the choice seeded by the question's id);
    None when the question has no such entity or no replacement was found."""
    lower = source.context.lower()
    entities = [(k, a, b) for k, a, b in question_entities(source.question) if source.question[a:b].lower() in lower]
    if not entities:
        return None
    seed = zlib.crc32(source.id.encode("utf-8"))
    kind, a, b = entities[seed % len(entities)]
    candidates = pool.get(kind) or []
    for i in range(min(tries, len(candidates))):
        text, article = candidates[(seed // 7 + i * 7919) % len(candidates)]
        if article != source.article_id and text.lower() not in lower and text != source.question[a:b]:
            return source.question[:a] + text + source.question[b:]
    return None

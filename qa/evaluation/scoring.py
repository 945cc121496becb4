"""Scoring one answered gold question: EM, F1, "answer found", and where the first relevant chunk ranked.

A chunk is relevant when it holds a gold answer where the gold says it is: its span contains
answer_start..+len (SQuAD, or JSONL with answer_starts), or it is a chunk of the gold article whose text
contains the answer (JSONL with article_id), or any chunk containing it. Unanswerable: correct = abstained.

Example:
    >>> outcome = score(gold, None, answerer.ask_detailed(gold.question), first_relevant=1, judged=True)  # doctest: +SKIP
    >>> outcome.f1, outcome.found                                                                         # doctest: +SKIP
    (1.0, True)
"""

from __future__ import annotations

from corpus.gold_sets import GoldQuestion
from index.chunk import Chunk
from qa.answerer import Answered
from qa.evaluation.records import Outcome
from qa.metrics import answer_found, contains_answer, exact_match, f1_score
from qa.retriever import RetrievalResult
from qa.types import Hit


def score(gold: GoldQuestion, kind: str | None, answered: Answered, first_relevant: int | None, judged: bool) -> Outcome:
    answer, candidate = answered.answer, answered.candidate
    golds = gold.answers if gold.answerable else []
    return Outcome(
        gold=gold,
        kind=kind,
        answered=answered,
        exact_match=exact_match(answer.answer, golds),
        f1=f1_score(answer.answer, golds),
        found=gold.answerable and not answer.abstained and answer_found(answer.answer, answer.sentence, golds),
        first_relevant=first_relevant,
        judged=judged,
        candidate_credit={
            "f1": f1_score(candidate.answer, golds) if gold.answerable else 0.0,
            "found": float(gold.answerable and answer_found(candidate.answer, answered.candidate_sentence, golds)),
        },
    )


def is_relevant(chunk: Chunk, gold: GoldQuestion) -> bool:
    """Does the chunk hold a gold answer where the gold says it is?"""
    if gold.article_id is not None and chunk.article_id != gold.article_id:
        return False
    if gold.answer_starts:
        return any(chunk.start <= s and s + len(a) <= chunk.end for a, s in zip(gold.answers, gold.answer_starts))
    return contains_answer(chunk.text, gold.answers)


def first_relevant(gold: GoldQuestion, hits: list[Hit]) -> int | None:
    """The rank of the first relevant hit, or None."""
    return next((hit.rank for hit in hits if is_relevant(hit.chunk, gold)), None)


def gold_passage(articles, gold: GoldQuestion) -> RetrievalResult:
    """The gold paragraph as the only hit (the whole gold article when no paragraph is known): reader-only
    evaluation reads it instead of retrieving."""
    if gold.article_id is None or gold.article_id not in articles:
        raise ValueError(f"question {gold.id}: --reader-only needs the gold article (article_id) in the index")
    article = articles[gold.article_id]
    start, end = gold.paragraph or (0, len(article.text))
    chunk = Chunk(f"{article.id}:gold:{start}", article.id, start, end, article.text[start:end])
    return RetrievalResult(gold.question, [Hit(chunk, 1.0, 1, "hybrid")], "gold-paragraph")

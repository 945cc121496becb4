"""Run an evaluation: answer every (sampled) gold question, score it, summarise the metrics.

Per question: the answer (k chunks read), EM and F1 (SQuAD normalisation), "answer found", and the rank of
the first relevant chunk among ``retrieve_k`` retrieved (recall@1/5/20, MRR@10). ``reader_only`` reads each
question from its gold paragraph alone (reading comprehension, as SQuAD reports readers).

Example:
    >>> run = run_eval(Path("corpus/gold/default.jsonl"), EvalConfig(limit=10), index_dir=Path(".qa-index"))  # doctest: +SKIP
    >>> run.metrics.scores.f1, run.metrics.retrieval.recall(5)                                             # doctest: +SKIP
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from corpus.gold_sets import GoldQuestion, load_gold
from index.embedder import Embedder
from qa.answerer import Answerer, decide
from qa.evaluation.gold_answerer import answerer_for_gold, read_kinds
from qa.evaluation.records import EvalConfig, Outcome
from qa.evaluation.scoring import first_relevant, gold_passage, score
from qa.evaluation.summary import Metrics, summarize
from qa.question import check_question


@dataclass(frozen=True)
class EvalRun:
    gold_path: Path
    config: EvalConfig
    reader: str
    threshold: float
    outcomes: list[Outcome]
    metrics: Metrics
    index_note: str = ""
    refused: tuple[tuple[str, str], ...] = ()  # (question id, why) for gold questions that cannot be asked


def askable(questions: list[GoldQuestion]) -> tuple[list[GoldQuestion], tuple[tuple[str, str], ...]]:
    """The gold questions ``check_question`` accepts, and (id, reason) for the rest: one unaskable question
    (SQuAD train holds a 25,651-character one) is reported and skipped, not allowed to stop a whole run."""
    kept, refused = [], []
    for q in questions:
        try:
            check_question(q.question)
        except ValueError as exc:
            refused.append((q.id, str(exc)))
        else:
            kept.append(q)
    return kept, tuple(refused)


def sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    """A seeded sample of ``limit`` questions, in file order (all of them without a limit)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    chosen = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in chosen]


def run_eval(
    gold_path: Path,
    config: EvalConfig = EvalConfig(),
    index_dir: Path | None = None,
    cache_dir: Path | None = None,
    answerer: Answerer | None = None,
    embedder: Embedder | None = None,
) -> EvalRun:
    """Answer every (sampled) gold question and compute the metrics (with ``answerer`` when given)."""
    gold_path = Path(gold_path)
    if answerer is None:
        setup = answerer_for_gold(gold_path, config, index_dir, cache_dir, embedder)
        answerer, questions, kinds, note = setup.answerer, setup.questions, setup.kinds, setup.note
    else:
        questions, _, _ = load_gold(gold_path)
        kinds, note = read_kinds(gold_path), "given answerer"
    questions_in_file = len(questions)
    questions, refused = askable(questions)
    chosen = sample(questions, config.limit, config.seed)
    answerer.retriever.allowed_articles(None, config.filters)  # filters no article passes: say so before any work
    answerer.warm_up()  # latency figures are for a warm process
    outcomes = [
        evaluate_one(answerer, q, kinds.get(q.id), config)
        for q in tqdm(chosen, desc="evaluating", unit="q", disable=not config.progress)
    ]
    # the precision the reader ran at (None asked for "as calibrated"); not a span reader: no int8
    config = replace(config, int8=bool(getattr(answerer.reader, "int8", False)))
    run = make_run(gold_path, config, answerer.reader.name, answerer.config.abstain_threshold, outcomes, note,
                   questions_in_file, len(refused))
    return replace(run, refused=refused)


def make_run(gold_path: Path, config: EvalConfig, reader: str, threshold: float, outcomes: list[Outcome],
             index_note: str, total: int | None, refused: int = 0) -> EvalRun:
    """An EvalRun with its metrics; ``total``: the questions in the gold file, ``refused`` of them not askable."""
    metrics = replace(summarize(outcomes, config, gold_path, reader, threshold, index_note, total), questions_refused=refused)
    return EvalRun(gold_path, config, reader, threshold, outcomes, metrics, index_note)


def evaluate_one(answerer: Answerer, gold: GoldQuestion, kind: str | None, config: EvalConfig) -> Outcome:
    if config.reader_only:
        answered = answerer.answer_hits(gold.question, gold_passage(answerer.retriever.index.articles, gold), 1)
    else:
        answered = answerer.ask_detailed(gold.question, k=config.k, mode=config.mode, retrieve_k=config.retrieve_k,
                                         filters=config.filters)
    judged = gold.answerable and not config.reader_only
    first = first_relevant(gold, answered.retrieval.hits) if judged else None
    return score(gold, kind, answered, first, judged)


def apply_threshold(run: EvalRun, threshold: float) -> EvalRun:
    """The run as it would have been with another abstention threshold (the reader's candidates are kept, so
    this equals re-running with ``threshold``, latency aside)."""
    outcomes = []
    for o in run.outcomes:
        a = o.answered
        answer = decide(a.answer, a.candidate, a.candidate_sentence, threshold)
        outcomes.append(score(o.gold, o.kind, replace(a, answer=answer), o.first_relevant, o.judged))
    rerun = make_run(run.gold_path, replace(run.config, threshold=threshold), run.reader, threshold, outcomes,
                    run.index_note, run.metrics.questions_in_file, run.metrics.questions_refused)
    return replace(rerun, refused=run.refused)

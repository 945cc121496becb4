"""Evaluate the answerer against gold questions (JSONL, or SQuAD v1.1/v2.0 JSON) and write the results.

For a SQuAD file its own articles are the corpus: an index for them (paragraph-respecting chunks) is built once
in a cache directory keyed by the file's fingerprint and the index settings, and reused on re-runs. For gold
JSONL the index at ``--index`` is used. ``reader_only`` reads each question from its gold paragraph alone
(reading comprehension, as SQuAD reports readers).

Per question: the answer (k chunks read), EM and F1 (SQuAD normalisation; unanswerable: correct = abstained),
"answer found" (a gold answer inside the answer or its sentence), and the rank of the first relevant chunk
among ``retrieve_k`` retrieved (recall@1/5/20, MRR@10). A chunk is relevant when it holds a gold answer where
the gold says it is: its span contains answer_start..+len (SQuAD, or JSONL with answer_starts), or it is a
chunk of the gold article whose text contains the answer (JSONL with article_id), or any chunk containing it.

Example:
    >>> run = run_eval(Path("corpus/gold/default.jsonl"), EvalConfig(limit=10), index_dir=Path(".qa-index"))  # doctest: +SKIP
    >>> write_outputs(run, Path("runs/default"))                                                           # doctest: +SKIP
    >>> run.metrics["f1"], run.metrics["retrieval"]["recall@5"]                                            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from corpus import Article
from corpus.gold import GoldQuestion, load_gold, read_text
from index.chunk import Chunk
from index.chunker import ChunkerConfig
from index.embedder import Embedder, EmbedderUnavailable
from index.store import CorpusIndex, IndexConfig, IndexProblem, build_index, load_index, save_index
from qa.answerer import Answered, Answerer, AnswerConfig, decide, load_answerer, make_reader
from qa.metrics import answer_found, best_threshold, contains_answer, exact_match, f1_score, percentile
from qa.retriever import RetrievalConfig, RetrievalResult, Retriever
from qa.types import Hit

RECALL_AT = (1, 5, 20)
MRR_AT = 10
# SQuAD articles are chunked without crossing a paragraph (ARCHITECTURE.md).
SQUAD_INDEX_CONFIG = IndexConfig(chunker=ChunkerConfig(respect_paragraphs=True))


@dataclass(frozen=True)
class EvalConfig:
    k: int = 5  # chunks read
    mode: str = "hybrid"
    retrieve_k: int = 20  # chunks retrieved for recall@20 (the reader reads the first k)
    reader: str = "auto"
    model: str | None = None
    int8: bool | None = None  # span reader with int8 linear layers; None: as its calibration was fitted
    reader_only: bool = False
    limit: int | None = None
    seed: int = 0
    threshold: float | None = None  # overrides the reader's calibrated threshold
    progress: bool = True


@dataclass
class Outcome:
    """One evaluated question."""

    gold: GoldQuestion
    kind: str | None
    answered: Answered
    exact_match: float
    f1: float
    found: bool
    first_relevant: int | None  # rank of the first relevant retrieved chunk; None: none in retrieve_k
    judged: bool  # whether retrieval could be judged (answerable with a target)
    candidate_credit: dict[str, float]  # the reader's candidate, abstention aside: {"f1": .., "found": ..}


@dataclass
class EvalRun:
    gold_path: Path
    config: EvalConfig
    reader: str
    threshold: float
    outcomes: list[Outcome]
    metrics: dict = field(default_factory=dict)
    index_note: str = ""


def cache_root() -> Path:
    return Path(os.environ.get("QA_CACHE", Path.home() / ".cache" / "article-qa"))


def read_kinds(path: Path) -> dict[str, str]:
    """The optional ``kind`` of each JSONL gold question (factoid, paraphrase, unanswerable, ...)."""
    kinds = {}
    for line in read_text(path).splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row, dict) and isinstance(row.get("kind"), str):
                kinds[str(row["id"])] = row["kind"]
    return kinds


def squad_index(
    path: Path,
    articles: list[Article],
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
    subset: str = "",
) -> tuple[CorpusIndex, Path, bool]:
    """The index of a SQuAD file's articles: (index, its directory, reused?). Built once per file and settings.

    ``subset`` names a selection of the file's articles (bench scripts index a sample of SQuAD train).
    """
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    key = json.dumps([SQUAD_INDEX_CONFIG.settings(), subset], sort_keys=True)
    settings = hashlib.sha256(key.encode()).hexdigest()[:8]
    directory = (cache_dir or cache_root() / "eval") / f"squad-{digest}-{settings}"
    try:
        index = load_index(directory, SQUAD_INDEX_CONFIG)
        if set(index.articles) == {a.id for a in articles}:
            return index, directory, True
    except IndexProblem:
        pass
    index = build_index(articles, SQUAD_INDEX_CONFIG, embedder=embedder, progress=progress, sources=[{"path": str(Path(path).resolve()), "sha256": digest}])
    save_index(index, directory)
    return index, directory, False


def sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    """A seeded sample of ``limit`` questions, in file order (all of them without a limit)."""
    if limit is None or limit >= len(questions):
        return list(questions)
    chosen = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in chosen]


def build_answerer(
    gold_path: Path, config: EvalConfig, index_dir: Path | None, cache_dir: Path | None = None, embedder: Embedder | None = None
) -> tuple[Answerer, list[GoldQuestion], dict[str, str], str]:
    """The answerer for this gold file, its questions, their kinds and a note on the index used.

    ``embedder``: an already loaded model to use for a SQuAD file's index (loaded here when not given).
    """
    questions, articles, _ = load_gold(gold_path)
    if articles is None:  # gold JSONL: the project's index
        if index_dir is None:
            raise ValueError("gold JSONL needs an index (--index)")
        answerer = load_answerer(index_dir, config.reader, config.model, config.int8)
        note = f"index {index_dir}"
        kinds = read_kinds(gold_path)
    else:
        embedder = embedder or _try_embedder()
        index, directory, reused = squad_index(gold_path, articles, cache_dir, embedder, config.progress)
        retriever = Retriever(index, RetrievalConfig(), embedder=embedder)
        answerer = Answerer(retriever, make_reader(config.reader, retriever.embedder, config.model, config.int8))
        note = f"{'reused' if reused else 'built'} SQuAD index {directory}"
        kinds = {}
    if config.threshold is not None:
        answerer.config = AnswerConfig(answerer.config.k, answerer.config.mode, config.threshold)
    return answerer, questions, kinds, note


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
        answerer, questions, kinds, note = build_answerer(gold_path, config, index_dir, cache_dir, embedder)
    else:
        questions, _, _ = load_gold(gold_path)
        kinds = read_kinds(gold_path) if gold_path.name.lower().endswith((".jsonl", ".jsonl.gz")) else {}
        note = "given answerer"
    chosen = sample(questions, config.limit, config.seed)
    answerer.warm_up()  # latency figures are for a warm process
    outcomes = [
        evaluate_one(answerer, q, kinds.get(q.id), config)
        for q in tqdm(chosen, desc="evaluating", unit="q", disable=not config.progress)
    ]
    # the precision the reader ran at (None asked for "as calibrated"); not a span reader: no int8
    config = replace(config, int8=bool(getattr(answerer.reader, "int8", False)))
    run = EvalRun(gold_path, config, answerer.reader.name, answerer.config.abstain_threshold, outcomes, index_note=note)
    run.metrics = summarize(run, total=len(questions))
    return run


def evaluate_one(answerer: Answerer, gold: GoldQuestion, kind: str | None, config: EvalConfig) -> Outcome:
    if config.reader_only:
        answered = answerer.answer_hits(gold.question, _gold_passage(answerer, gold), 1)
    else:
        answered = answerer.ask_detailed(gold.question, k=config.k, mode=config.mode, retrieve_k=config.retrieve_k)
    judged = gold.answerable and not config.reader_only
    first = _first_relevant(answerer.retriever.index, gold, answered.retrieval.hits) if judged else None
    return score(gold, kind, answered, first, judged)


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


def apply_threshold(run: EvalRun, threshold: float) -> EvalRun:
    """The run as it would have been with another abstention threshold (the reader's candidates are kept, so
    this equals re-running with ``threshold``, latency aside)."""
    outcomes = []
    for o in run.outcomes:
        a = o.answered
        answer = decide(a.answer, a.candidate, a.candidate_sentence, threshold)
        outcomes.append(score(o.gold, o.kind, replace(a, answer=answer), o.first_relevant, o.judged))
    new = EvalRun(run.gold_path, replace(run.config, threshold=threshold), run.reader, threshold, outcomes, index_note=run.index_note)
    new.metrics = summarize(new, total=run.metrics.get("questions_in_file"))
    return new


def _gold_passage(answerer: Answerer, gold: GoldQuestion) -> RetrievalResult:
    """The gold paragraph as the only hit (the whole gold article when no paragraph is known)."""
    articles = answerer.retriever.index.articles
    if gold.article_id is None or gold.article_id not in articles:
        raise ValueError(f"question {gold.id}: --reader-only needs the gold article (article_id) in the index")
    article = articles[gold.article_id]
    start, end = gold.paragraph or (0, len(article.text))
    chunk = Chunk(f"{article.id}:gold:{start}", article.id, start, end, article.text[start:end])
    return RetrievalResult(gold.question, [Hit(chunk, 1.0, 1, "hybrid")], "gold-paragraph")


def _first_relevant(index: CorpusIndex, gold: GoldQuestion, hits: list[Hit]) -> int | None:
    for hit in hits:
        if is_relevant(hit.chunk, gold):
            return hit.rank
    return None


def is_relevant(chunk: Chunk, gold: GoldQuestion) -> bool:
    """Does the chunk hold a gold answer where the gold says it is?"""
    if gold.article_id is not None and chunk.article_id != gold.article_id:
        return False
    if gold.answer_starts:
        return any(chunk.start <= s and s + len(a) <= chunk.end for a, s in zip(gold.answers, gold.answer_starts))
    return contains_answer(chunk.text, gold.answers)


def summarize(run: EvalRun, total: int | None = None) -> dict:
    outcomes, config = run.outcomes, run.config
    answerable = [o for o in outcomes if o.gold.answerable]
    unanswerable = [o for o in outcomes if not o.gold.answerable]
    criterion = "found" if run.reader == "sentence" else "f1"
    choice = best_threshold(
        [o.answered.candidate.confidence for o in outcomes],
        [o.candidate_credit[criterion] for o in outcomes],
        [o.gold.answerable for o in outcomes],
    )
    metrics = {
        "gold": str(run.gold_path),
        "questions": len(outcomes),
        "questions_in_file": total if total is not None else len(outcomes),
        "limit": config.limit,
        "seed": config.seed,
        "reader": run.reader,
        "model": config.model,
        "int8": config.int8,
        "reader_only": config.reader_only,
        "mode": config.mode,
        "modes_used": dict(Counter(o.answered.answer.mode for o in outcomes)),
        "k": 1 if config.reader_only else config.k,
        "abstain_threshold": run.threshold,
        "index": run.index_note,
        **_answer_scores(outcomes),
        "has_answer": {
            "count": len(answerable),
            **_answer_scores(answerable),
            # the reader's pick before abstention: its quality apart from the threshold
            "answer_found_before_abstention": _mean(o.candidate_credit["found"] for o in answerable),
        },
        "no_answer": {"count": len(unanswerable), **_answer_scores(unanswerable)},
        "abstention": _abstention(outcomes),
        "retrieval": _retrieval([o for o in outcomes if o.judged], config.retrieve_k),
        "latency_ms": _latency(outcomes),
        "calibration": {
            "criterion": "answer_found" if criterion == "found" else "f1",
            "best_threshold": choice.threshold,
            "score_at_best": choice.score,
            "abstain_precision_at_best": choice.abstain_precision,
            "abstain_recall_at_best": choice.abstain_recall,
        },
    }
    kinds = sorted({o.kind for o in outcomes if o.kind})
    if kinds:
        metrics["by_kind"] = {
            kind: {
                "count": len(group),
                **_answer_scores(group),
                "abstained": _mean([o.answered.answer.abstained for o in group]),
                "retrieval": _retrieval([o for o in group if o.judged], config.retrieve_k),
            }
            for kind in kinds
            for group in [[o for o in outcomes if o.kind == kind]]
        }
    return metrics


def _mean(values) -> float | None:
    values = list(values)
    return float(np.mean(values)) if values else None


def _answer_scores(outcomes: list[Outcome]) -> dict:
    answerable = [o for o in outcomes if o.gold.answerable]
    return {
        "exact_match": _mean(o.exact_match for o in outcomes),
        "f1": _mean(o.f1 for o in outcomes),
        "answer_found": _mean(o.found for o in answerable),  # over answerable questions only
    }


def _abstention(outcomes: list[Outcome]) -> dict:
    abstained = [o for o in outcomes if o.answered.answer.abstained]
    unanswerable = [o for o in outcomes if not o.gold.answerable]
    right = [o for o in abstained if not o.gold.answerable]
    return {
        "abstained": len(abstained),
        "unanswerable": len(unanswerable),
        "precision": len(right) / len(abstained) if abstained else None,
        "recall": len(right) / len(unanswerable) if unanswerable else None,
    }


def _retrieval(judged: list[Outcome], depth: int) -> dict | None:
    if not judged:
        return None
    ranks = [o.first_relevant for o in judged]
    curve = [_mean(r is not None and r <= k for r in ranks) for k in range(1, depth + 1)]
    out = {"judged": len(judged)}
    for k in RECALL_AT:
        out[f"recall@{k}"] = curve[k - 1] if k <= depth else None
    out[f"mrr@{MRR_AT}"] = _mean(1.0 / r if r is not None and r <= MRR_AT else 0.0 for r in ranks)
    out["recall_curve"] = curve
    return out


def _latency(outcomes: list[Outcome]) -> dict:
    values = [o.answered.answer.latency_ms for o in outcomes]
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "mean": _mean(values)}


def _try_embedder() -> Embedder | None:
    try:
        return Embedder(SQUAD_INDEX_CONFIG.embedder)
    except EmbedderUnavailable:
        return None


def write_outputs(run: EvalRun, out_dir: Path) -> list[Path]:
    """predictions.jsonl, metrics.json, report.md and its plots; returns the paths written."""
    from qa.report import write_report  # matplotlib: only when writing a report

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    predictions = out_dir / "predictions.jsonl"
    with predictions.open("w", encoding="utf-8") as f:
        for o in run.outcomes:
            f.write(json.dumps({"id": o.gold.id, **o.answered.answer.to_json_dict()}, ensure_ascii=False) + "\n")
    metrics = out_dir / "metrics.json"
    metrics.write_text(json.dumps(run.metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [predictions, metrics, *write_report(run, out_dir)]

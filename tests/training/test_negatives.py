"""Unanswerable training examples (training.negatives, negative_kinds, negative_set) and training on them: no
negative holds a gold answer; answer_removed drops exactly the answer's sentence and keeps the rest verbatim;
hold-out articles stay out of the negatives and the training examples; unanswerable windows are labelled [CLS];
the features key follows the negatives file and the share; meta.json counts what the files hold; a run on
negatives resumes exactly and records them; the hold-out is scored like SQuAD v2.0.

A synthetic SQuAD set of 8 articles whose answers (names, years) occur once in the whole set.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_training import TINY, run, town_squad, weights

from index.sentences import sentence_spans
from qa.metrics import contains_answer
from training.features import build_features, features_key, training_examples
from training.holdout import score_holdout
from training.negative_kinds import (
    KINDS,
    ParagraphSearch,
    Source,
    answer_removed,
    entity_pool,
    entity_swapped,
    question_entities,
    retrieval_negatives,
)
from training.negative_set import load_negative_set, needed
from training.negatives import kind_targets, main, squad_sources
from training.settings import EXIT_STOPPED_EARLY, Settings

FIRST = ["Alma", "Boris", "Clara", "Dmitri", "Elena", "Felix", "Gisela", "Horst", "Irma", "Jakob", "Katya", "Lorenz"]
LAST = ["Abend", "Brandt", "Claes", "Dorn", "Eckart", "Falk", "Grau", "Hesse"]
PLACES = ["bridge", "tower", "market", "harbour", "chapel", "library"]
TOWNS = ["Lyon", "Porto", "Bergen", "Graz", "Turin", "Ghent", "Cork", "Split"]


def unique_squad(path: Path, seed: int = 0) -> Path:
    """8 articles (a town each) x 2 paragraphs of 6 sentences; every name and year occurs once in the set; 3
    questions a paragraph (48 in all), on the first, middle and last sentence."""
    rng = random.Random(seed)
    names = [f"{f} {last}" for f in FIRST for last in LAST]
    rng.shuffle(names)
    years = iter(rng.sample(range(1500, 1990), 96))
    people = iter(names)
    facts = [[[(next(people), place, town, next(years)) for place in PLACES] for _ in range(2)] for town in TOWNS]
    return town_squad(path, facts, asked=(0, 2, 5))


@pytest.fixture(scope="module")
def squad(tmp_path_factory):
    from corpus.squad import load_squad

    path = unique_squad(tmp_path_factory.mktemp("unique") / "train.json")
    return path, load_squad(path)


@pytest.fixture(scope="module")
def built(squad, tmp_path_factory):
    """A negatives set of the synthetic file without retrieval (no embedding model): 2 hold-out articles."""
    path, _ = squad
    out = tmp_path_factory.mktemp("negatives") / "negatives.jsonl"
    assert main(["--train", str(path), "--out", str(out), "--questions", "20", "--per-question", "1",
                 "--mix", "answer_removed=0.5,question_swapped=0.5", "--holdout-articles", "0.25",
                 "--holdout-questions", "4", "--seed", "5"]) == 0
    return out


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def gold_of(squad_set) -> dict[str, list[str]]:
    return {q.id: q.answers for q in squad_set.questions}


def test_answer_removed_drops_the_answer_sentence_and_keeps_the_rest_verbatim(squad):
    _, squad_set = squad
    for source in squad_sources(squad_set)[:12]:
        text = answer_removed(source, min_sentences=2, min_chars=150)
        assert text is not None and not contains_answer(text, source.answers)
        sentences = [source.context[s:e] for s, e in sentence_spans(source.context)]
        holding = [s for s in sentences if source.answers[0] in s]
        assert len(holding) == 1 and holding[0] not in text
        assert text == " ".join(s for s in sentences if s != holding[0])
    # too little left: refused
    assert answer_removed(squad_sources(squad_set)[0], min_sentences=6) is None
    assert answer_removed(squad_sources(squad_set)[0], min_chars=10_000) is None
    # an answer that also occurs in another sentence: refused
    first = squad_sources(squad_set)[0]
    again = Source(first.id, first.question, first.title, first.context + f" {first.answers[0]} was remembered.",
                   first.answers, first.answer_starts, first.article_id, first.paragraph)
    assert answer_removed(again) is None


def test_negatives_hold_no_gold_answer_and_meta_counts_match(built, squad):
    _, squad_set = squad
    gold = gold_of(squad_set)
    meta = json.loads(built.with_name("meta.json").read_text())
    rows = rows_of(built)
    assert len(rows) == meta["negatives"]["total"] == 20
    counts = {k: sum(r["kind"] == k for r in rows) for k in KINDS}
    assert counts == meta["negatives"]["counts"] == {"retrieval": 0, "answer_removed": 10, "question_swapped": 10, "entity_swapped": 0}
    assert meta["seed"] == 5 and meta["mix"]["answer_removed"] == 0.5 and meta["source"]["file"] == "train.json"
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert not contains_answer(r["context"], gold[r["source_question_id"]])
        assert set(r) >= {"id", "kind", "question", "context", "source_question_id", "article_title"}
        if r["kind"] == "question_swapped":
            assert r["context_title"] != r["article_title"]
        else:
            assert r["context_title"] == r["article_title"]

    holdout = rows_of(built.with_name("holdout.jsonl"))
    assert meta["holdout"]["answerable"] == sum(r["kind"] == "answerable" for r in holdout) == 4
    assert meta["holdout"]["unanswerable"] == sum(r["kind"] != "answerable" for r in holdout) == 4
    for r in holdout:
        if r["kind"] == "answerable":
            assert r["answers"] == gold[r["id"]] and r["answers"][0] in r["context"]
        else:
            assert r["answers"] == [] and not contains_answer(r["context"], gold[r["source_question_id"]])
    # Hold-out articles: all of the hold-out's questions and contexts, none of the negatives'.
    held = set(meta["holdout"]["articles"])
    assert len(held) == 2
    assert all(r["article_title"] in held and r["context_title"] in held for r in holdout)
    assert not any(r["article_title"] in held or r["context_title"] in held for r in rows)
    assert kind_targets(7, {"retrieval": 0.4, "answer_removed": 0.3, "question_swapped": 0.3}) == {
        "retrieval": 3, "answer_removed": 2, "question_swapped": 2, "entity_swapped": 0}


def test_retrieval_negatives_are_hits_without_the_answer(squad, embedder):
    from index.store import build_index
    from qa.evaluation.gold_answerer import SQUAD_INDEX_CONFIG
    from qa.retriever import Retriever

    _, squad_set = squad
    index = build_index(squad_set.articles, SQUAD_INDEX_CONFIG, embedder=embedder, progress=False)
    retriever = Retriever(index, embedder=embedder)
    sources = squad_sources(squad_set)
    titles = {a.id: a.title for a in squad_set.articles}
    allowed = {a.id for a in squad_set.articles[:6]}
    found = retrieval_negatives(retriever, sources[:18], allowed, k=6, n=3, titles=titles)
    assert sum(map(len, found)) >= 18
    own = other = 0
    for source, negatives in zip(sources, found):
        for title, text in negatives:
            assert not contains_answer(text, source.answers)
            assert title in {titles[a] for a in allowed}
            own += title == source.title
            other += title != source.title
            chunk = next(c for c in index.chunks if c.text == text)
            if chunk.article_id == source.article_id:  # not over the answer's characters
                answer_at = source.paragraph[0] + source.answer_starts[0]
                assert chunk.end <= answer_at or chunk.start >= answer_at + len(source.answers[0])
    assert own and other  # from the question's own article and from others

    search = ParagraphSearch([(a.id, a.title, a.text[p0:p1]) for a in squad_set.articles
                              for p0, p1 in squad_set.paragraph_spans[a.id]])
    swapped = search.swapped(sources[0], np.ones(len(search.paragraphs), dtype=bool), n=2)
    assert len(swapped) == 2 and all(t != sources[0].title for t, _ in swapped)


def test_training_examples_leave_the_holdout_out_and_label_negatives_cls(built, squad, tokenizer):
    path, squad_set = squad
    negatives = load_negative_set(built)
    held = negatives.holdout_titles
    settings = Settings(max_length=48, stride=8, max_question_tokens=12, negative_share=0.4)
    examples, n_answerable = training_examples(path, settings, negatives)
    held_questions = {q.question for q in squad_set.questions if squad_set.by_id[q.article_id].title in held}
    assert n_answerable == 48 - len(held_questions) == 36
    assert needed(36, 0.4) == 24 and len(examples) - n_answerable == 20  # all the file holds: 20
    assert not any(e.question in held_questions for e in examples[:n_answerable])
    assert all(e.answer_start == -1 and not e.answers for e in examples[n_answerable:])

    features = build_features(tokenizer, examples, settings, progress=None, n_answerable=n_answerable)
    unanswerable = features.example >= n_answerable
    assert unanswerable.sum() >= 20 and features.n_answerable == n_answerable
    assert not features.start[unanswerable].any() and not features.end[unanswerable].any()
    assert (features.start[~unanswerable] > 0).sum() >= n_answerable  # the answerable ones keep their spans

    # --keep-negative drops answerable examples' windows without the answer, never the unanswerable ones
    from dataclasses import replace

    from training.batches import kept_windows
    kept = kept_windows(features, replace(settings, keep_negative=0.0))
    assert set(np.nonzero(unanswerable)[0]) <= set(kept.tolist())
    assert set(kept.tolist()) == set(np.nonzero(unanswerable | (features.start > 0))[0].tolist())


def test_features_key_follows_the_negatives_file_share_and_holdout(built, squad, tokenizer, tmp_path):
    path, _ = squad
    settings = Settings(negative_share=0.4)
    negatives = load_negative_set(built)
    plain = features_key(tokenizer, path, settings)
    key = features_key(tokenizer, path, settings, negatives)
    assert plain == features_key(tokenizer, path, settings) and key != plain
    assert features_key(tokenizer, path, Settings(negative_share=0.25), negatives) != key

    # another negatives file (one line less) and another hold-out: other keys; a file not matching its meta: refused
    other = tmp_path / "negatives.jsonl"
    lines = built.read_text().splitlines(keepends=True)
    other.write_text("".join(lines[:-1]))
    meta = json.loads(built.with_name("meta.json").read_text())
    meta["negatives"]["sha256"] = __import__("hashlib").sha256(other.read_bytes()).hexdigest()
    other.with_name("meta.json").write_text(json.dumps(meta))
    assert features_key(tokenizer, path, settings, load_negative_set(other)) != key
    meta["holdout"]["articles"] = meta["holdout"]["articles"][:1]
    other.with_name("meta.json").write_text(json.dumps(meta))
    assert features_key(tokenizer, path, settings, load_negative_set(other)) not in (key, plain)
    other.write_text("".join(lines))
    with pytest.raises(SystemExit, match="sha256"):
        load_negative_set(other)


def test_run_on_negatives_resumes_exactly_and_records_them(built, squad, tiny_span_model, tmp_path, capsys):
    path, _ = squad
    extra = ["--negatives", str(built), "--negative-share", "0.4"]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run(tiny_span_model, path, whole, *extra) == 0
    assert run(tiny_span_model, path, split, *extra, "--stop-at-step", "3") == EXIT_STOPPED_EARLY
    # resumed without naming the negatives: the checkpoint's file and share
    assert run(tiny_span_model, path, split, settings=[]) == 0
    a, b = weights(whole), weights(split)
    assert all(torch.equal(a[k], b[k]) for k in a)
    from training.checkpoints import load_latest_checkpoint

    ckpt, _ = load_latest_checkpoint(split)
    facts = ckpt["negatives"]
    assert facts["used"] == 20 and facts["answerable"] == 36 and facts["share"] == round(20 / 56, 4)
    assert facts["used_counts"] == {"retrieval": 0, "answer_removed": 10, "question_swapped": 10, "entity_swapped": 0}
    assert facts["seed"] == 5 and ckpt["settings"]["negative_share"] == 0.4
    with pytest.raises(SystemExit, match="--negative-share 0.25"):
        run(tiny_span_model, path, split, "--negative-share", "0.25", settings=[])
    assert run(tiny_span_model, path, tmp_path / "plain", "--max-steps", "1", settings=TINY[:-4]) == 0
    with pytest.raises(SystemExit, match="without negatives"):
        run(tiny_span_model, path, tmp_path / "plain", "--negatives", str(built), settings=[])
    with pytest.raises(SystemExit, match="needs --negatives"):
        run(tiny_span_model, path, tmp_path / "none", "--negative-share", "0.4")

    # export: the card and training.json say what was trained on; the hold-out is scored
    capsys.readouterr()
    export = tmp_path / "export"
    from training.run import main as train_main

    assert train_main(["--out", str(split), "--skip-train", "--no-bf16", "--export", str(export),
                       "--eval-holdout", str(built.with_name("holdout.jsonl"))]) == 0
    card = (export / "MODEL_CARD.md").read_text()
    assert "Unanswerable examples: 20 (36% of the training examples" in card and "36 answerable questions" in card
    assert json.loads((export / "training.json").read_text())["negatives"]["used"] == 20
    held = json.loads((split / "eval_holdout.json").read_text())
    assert held["n"] == 8 and held["has_ans_n"] == 4 and "hold-out (n=8" in capsys.readouterr().out


def test_holdout_scores_like_squad_v2():
    spans = ["Ann", "Bob", "Carl Marx", "Dora", "Eve"]
    answers = [["Ann"], ["Rob"], ["Carl"], [], []]
    kinds = ["answerable", "answerable", "answerable", "retrieval", "answer_removed"]
    gaps = [3.0, 1.0, -0.5, -2.0, 0.5]
    r = score_holdout(spans, gaps, answers, kinds)
    # at gap 0: Ann right, Bob wrong, Carl abstained (0), first negative abstained (1), second answered (0)
    assert r["exact"] == 40.0 and r["has_ans_exact"] == round(100 / 3, 2) and r["no_ans_acc"] == 50.0
    assert r["f1"] == 40.0 and r["has_ans_f1_always"] == round(100 * (1 + 0 + 2 / 3) / 3, 2)
    # best threshold: abstain below 1.0+ (Bob, Carl, both negatives... ) -> Ann 1 + 2 negatives = 3 / 5
    assert r["best_f1"] == 60.0 and r["no_ans_by_kind"]["answer_removed"]["no_ans_acc"] == 0.0
    assert r["no_ans_by_kind"]["retrieval"]["no_ans_acc"] == 100.0


def test_entity_swapped_changes_a_name_the_paragraph_mentions_into_one_it_does_not():
    source = Source("q7", "When did Nikola Tesla move to New York?", "Tesla",
                    "Nikola Tesla moved to New York in 1884 and worked for Thomas Edison.", ["1884"], [34], "a1", (0, 66))
    assert [source.question[a:b] for _, a, b in question_entities(source.question)] == ["Nikola Tesla", "New York"]
    pool = {"name": [("Edison", "a2"), ("Paris", "a1"), ("Marie Curie", "a3")], "number": [("1920", "a2")]}
    swapped = entity_swapped(source, pool)
    assert swapped is not None and swapped != source.question
    # one of the question's names is gone, and what came in is from another article, absent from the paragraph
    # ("Edison" is in the paragraph, "Paris" is from the question's own article)
    assert swapped in (source.question.replace("Nikola Tesla", "Marie Curie"),
                       source.question.replace("New York", "Marie Curie"))
    assert entity_swapped(source, pool) == swapped  # seeded by the question's id
    # nothing of the question in the paragraph, or no replacement: none
    assert entity_swapped(Source("q8", "Who built it?", "T", "Ann built it.", ["Ann"], [0], "a1", (0, 12)), pool) is None
    assert entity_swapped(source, {"name": [("Paris", "a1")], "number": []}) is None


def test_entity_pool_takes_names_and_numbers_of_the_questions(squad):
    _, squad_set = squad
    sources = squad_sources(squad_set)
    pool = entity_pool(sources)
    assert set(pool) == {"name", "number"}
    questions: dict[str, list[str]] = {}
    for s in sources:
        questions.setdefault(s.article_id, []).append(s.question)
    assert pool["name"]
    assert all(any(text in q for q in questions[article]) for text, article in pool["name"] + pool["number"])


"""Checks on the hand-written gold question set for the default corpus."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLD_PATH = REPO_ROOT / "corpus" / "gold" / "default.jsonl"
ARTICLES_DIR = REPO_ROOT / "corpus" / "articles"
SHARED_CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"

REQUIRED_FIELDS = {"id", "question", "answers", "answerable", "kind"}
KINDS = {"factoid", "paraphrase", "unanswerable"}


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _article_files() -> list[Path]:
    files = sorted(ARTICLES_DIR.glob("*.txt")) if ARTICLES_DIR.is_dir() else []
    if not files:
        files = sorted(SHARED_CORPUS_DIR.glob("*.txt"))
    return files


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    records = []
    with GOLD_PATH.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            assert isinstance(rec, dict), f"line {lineno} is not a JSON object"
            records.append(rec)
    return records


@pytest.fixture(scope="module")
def articles() -> dict[str, str]:
    files = _article_files()
    if not files:
        pytest.skip("no article text found in corpus/articles or the shared corpus")
    texts = {}
    for p in files:
        # newline="" keeps the text exactly as stored (no newline translation).
        with p.open(encoding="utf-8", newline="") as f:
            text = f.read()
        texts[_fingerprint(text)] = text
    return texts


def test_ids_unique(gold):
    ids = [r["id"] for r in gold]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_required_fields_and_types(gold):
    for r in gold:
        missing = REQUIRED_FIELDS - r.keys()
        assert not missing, f"{r.get('id')}: missing {missing}"
        assert isinstance(r["id"], str) and r["id"]
        assert isinstance(r["question"], str) and r["question"].strip()
        assert isinstance(r["answers"], list)
        assert all(isinstance(a, str) and a for a in r["answers"]), r["id"]
        assert isinstance(r["answerable"], bool)
        assert r["kind"] in KINDS, f"{r['id']}: bad kind {r['kind']!r}"
        assert r["answerable"] == (r["kind"] != "unanswerable"), r["id"]
        if r["answerable"]:
            assert isinstance(r.get("article_id"), str) and len(r["article_id"]) == 16, r["id"]
            assert r["answers"], f"{r['id']}: answerable question without answers"


def test_counts(gold):
    kinds = Counter(r["kind"] for r in gold)
    assert len(gold) >= 40
    assert kinds["paraphrase"] >= 8
    assert kinds["unanswerable"] >= 6
    assert kinds["factoid"] >= 30


def test_both_articles_covered(gold, articles):
    covered = {r["article_id"] for r in gold if r["answerable"]}
    assert len(covered) >= 2, covered
    assert covered <= set(articles), covered - set(articles)


def test_answers_occur_verbatim_in_their_article(gold, articles):
    for r in gold:
        if not r["answerable"]:
            continue
        assert r["article_id"] in articles, f"{r['id']}: unknown article_id {r['article_id']}"
        text = articles[r["article_id"]]
        for a in r["answers"]:
            assert a in text, f"{r['id']}: answer {a!r} not found verbatim in article {r['article_id']}"


def test_unanswerable_have_no_answers(gold):
    for r in gold:
        if r["kind"] == "unanswerable" or not r["answerable"]:
            assert r["answers"] == [], r["id"]
            assert r["answerable"] is False, r["id"]
            assert not r.get("article_id"), r["id"]

"""SQuAD loading: the official counts, and every answer start pointing at its answer in the joined text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from corpus.datasets import SQUAD_V11_DEV, SQUAD_V20_DEV, data_dir, dataset_path
from corpus.gold_sets import load_gold
from corpus.squad import PARAGRAPH_SEPARATOR, load_squad

V1_DEV = dataset_path(SQUAD_V11_DEV)
V2_DEV = dataset_path(SQUAD_V20_DEV)

needs_data = pytest.mark.skipif(not V1_DEV.exists() or not V2_DEV.exists(), reason=f"no SQuAD data in {data_dir()}")


@pytest.fixture(scope="module")
def v1():
    return load_squad(V1_DEV)


@pytest.fixture(scope="module")
def v2():
    return load_squad(V2_DEV)


@needs_data
def test_v1_dev_counts(v1):
    assert (len(v1.articles), v1.paragraph_count, len(v1.questions)) == (48, 2067, 10570)
    assert all(q.answerable and q.answers for q in v1.questions)


@needs_data
def test_v2_dev_counts(v2):
    assert (len(v2.articles), v2.paragraph_count, len(v2.questions)) == (35, 1204, 11873)
    unanswerable = [q for q in v2.questions if not q.answerable]
    assert len(unanswerable) == 5945
    assert all(q.answers == [] and q.answer_starts == [] for q in unanswerable)


@needs_data
@pytest.mark.parametrize("name", ["v1", "v2"])
def test_every_answer_start_points_at_its_answer(name, request):
    squad = request.getfixturevalue(name)
    checked = 0
    for q in squad.questions:
        text = squad.by_id[q.article_id].text
        assert len(q.answers) == len(q.answer_starts)
        for answer, start in zip(q.answers, q.answer_starts):
            assert text[start:start + len(answer)] == answer, q.id
            assert q.paragraph[0] <= start and start + len(answer) <= q.paragraph[1], q.id
            checked += 1
    assert checked > 10000


@needs_data
def test_paragraph_spans_rebuild_the_original_contexts(v1):
    raw = json.loads(gzip.decompress(V1_DEV.read_bytes()))
    for entry, article in zip(raw["data"], v1.articles):
        spans = v1.paragraph_spans[article.id]
        assert [article.text[s:e] for s, e in spans] == [p["context"] for p in entry["paragraphs"]]
        assert PARAGRAPH_SEPARATOR.join(p["context"] for p in entry["paragraphs"]) == article.text
        assert article.title == entry["title"].replace("_", " ")
        assert "_" not in article.title


@needs_data
def test_load_gold_dispatches_squad(v2):
    questions, articles, spans = load_gold(V2_DEV)
    assert len(questions) == 11873 and len(articles) == 35 and set(spans) == {a.id for a in articles}


def _squad_file(tmp_path: Path, gz: bool) -> Path:
    data = {
        "version": "v2.0",
        "data": [{
            "title": "Small_Test",
            "paragraphs": [
                {"context": "Alpha is first.", "qas": [
                    {"id": "a", "question": "What is first?", "is_impossible": False,
                     "answers": [{"text": "Alpha", "answer_start": 0}, {"text": "Alpha", "answer_start": 0}]},
                ]},
                {"context": "Beta is second.", "qas": [
                    {"id": "b", "question": "What is second?", "is_impossible": False,
                     "answers": [{"text": "second", "answer_start": 8}]},
                    {"id": "c", "question": "What is third?", "is_impossible": True, "answers": []},
                ]},
            ],
        }],
    }
    raw = json.dumps(data).encode()
    path = tmp_path / ("s.json.gz" if gz else "s.json")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_small_squad_file_offsets_are_shifted(tmp_path, gz):
    squad = load_squad(_squad_file(tmp_path, gz))
    [article] = squad.articles
    assert article.title == "Small Test"
    assert article.text == "Alpha is first.\n\nBeta is second."
    assert squad.paragraph_spans[article.id] == [(0, 15), (17, 32)]
    a, b, c = squad.questions
    assert (a.answers, a.answer_starts, a.paragraph) == (["Alpha", "Alpha"], [0, 0], (0, 15))
    assert (b.answer_starts, b.paragraph) == ([25], (17, 32))
    assert article.text[25:31] == "second"
    assert (c.answerable, c.answers, c.article_id) == (False, [], article.id)


def test_misplaced_answer_start_is_refused(tmp_path):
    path = _squad_file(tmp_path, gz=False)
    path.write_text(path.read_text().replace('"answer_start": 8', '"answer_start": 9'))
    with pytest.raises(ValueError, match="question b"):
        load_squad(path)


def test_not_squad_json_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"questions": []}')
    with pytest.raises(ValueError, match="not SQuAD JSON"):
        load_squad(path)

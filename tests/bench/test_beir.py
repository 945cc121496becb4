"""BEIR folders: counts on SciFact, and identical document texts sharing one article."""

from __future__ import annotations

import gzip
import json

import pytest

from bench.beir import load_beir
from corpus.datasets import BEIR_SCIFACT, dataset_path

SCIFACT = dataset_path(BEIR_SCIFACT)


@pytest.mark.skipif(not SCIFACT.exists(), reason=f"{SCIFACT} not present")
def test_scifact_counts():
    articles, doc_to_article, queries, qrels = load_beir(SCIFACT)
    assert len(doc_to_article) == 5183
    assert len(queries) == 300
    assert sum(len(docs) for docs in qrels.values()) == 339
    assert all(doc in doc_to_article for docs in qrels.values() for doc in docs)
    assert {a.id for a in articles} == set(doc_to_article.values())


def test_identical_texts_share_an_article(tmp_path):
    docs = [
        {"_id": "d1", "title": "First", "text": "Same abstract."},
        {"_id": "d2", "title": "Second", "text": "Same abstract."},
        {"_id": "d3", "title": "Only a title", "text": ""},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (tmp_path / "queries.jsonl.gz").write_bytes(gzip.compress(b'{"_id": "q1", "text": "What?"}\n{"_id": "q2", "text": "Unjudged?"}'))
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq1\td3\t1\n")
    beir = load_beir(tmp_path)
    assert len(beir.articles) == 2
    assert beir.doc_to_article["d1"] == beir.doc_to_article["d2"]
    assert beir.article_to_docs[beir.doc_to_article["d1"]] == ["d1", "d2"]
    by_id = {a.id: a for a in beir.articles}
    assert by_id[beir.doc_to_article["d3"]].text == "Only a title"
    assert beir.queries == {"q1": "What?"}
    assert beir.qrels == {"q1": {"d2": 1, "d3": 1}}

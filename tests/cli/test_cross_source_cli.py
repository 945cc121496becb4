"""`qa ask` over articles whose outlets disagree (bench/data/cross_source): the answer of each outlet with its
source and day where they differ, "N sources agree." where they agree, in the human form and in --json.

The questions are ones the shipped reader answers from both outlets above its threshold (bench.cross_source,
bench/results/cross_source.json): the transfer fee (£4.5 million in the Castlebridge Evening Post, £6 million in
Coastline Sport, each outlet's best span well above the threshold) and the manager (Sean Gallagher in both).
"""

from __future__ import annotations

import json
import shutil

import pytest

from cli.main import main
from index.store import load_index
from qa.answerer import SHIPPED_READER_DIR

ARTICLES = SHIPPED_READER_DIR.parents[2] / "bench" / "data" / "cross_source" / "articles.jsonl"
FEE = "How much did Castlebridge Rovers pay Halden Athletic for Jonas Ekberg?"
MANAGER = "Who is the manager of Castlebridge Rovers?"
POST, SPORT = "Castlebridge Evening Post", "Coastline Sport"
ALTERNATIVE_KEYS = {"text", "confidence", "article_id", "title", "source", "published", "start", "end", "citation", "agrees"}


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder):
    """Each command would load the embedding model again (seconds); hand it the session's copy instead."""
    monkeypatch.setattr("qa.answerer.Embedder", lambda config: embedder)


@pytest.fixture(scope="module")
def cross_source_index(tmp_path_factory, embedder):
    """An index of the cross-source articles (a private copy of the file), saved as `qa index` saves one."""
    from corpus.loaders import load_paths
    from index.sources import describe_sources
    from index.store import build_index, save_index

    work = tmp_path_factory.mktemp("cross-source")
    articles = work / "articles.jsonl"
    shutil.copyfile(ARTICLES, articles)
    report = load_paths([articles])
    assert not report.errors and len(report.articles) == 8
    directory = work / "idx"
    save_index(build_index(report.articles, embedder=embedder, progress=False, sources=describe_sources([articles])),
               directory)
    return directory


def ask(capsys, index_dir, *argv: str) -> str:
    code = main(["ask", *argv, "--index", str(index_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_json_lists_each_outlets_answer_where_they_differ(capsys, cross_source_index):
    answer = json.loads(ask(capsys, cross_source_index, FEE, "--json"))
    alternatives = answer["alternatives"]
    assert all(set(a) == ALTERNATIVE_KEYS for a in alternatives)
    by_source = {a["source"]: a for a in alternatives}
    assert "£4.5 million" in by_source[POST]["text"] and by_source[POST]["published"] == "2024-01-30"
    assert "£6 million" in by_source[SPORT]["text"] and by_source[SPORT]["published"] == "2024-02-01"
    assert not (by_source[POST]["agrees"] and by_source[SPORT]["agrees"])  # one of them is not the answer
    first = alternatives[0]  # the answer's own entry comes first and agrees
    assert first["agrees"] and first["text"] == answer["answer"]
    assert (first["article_id"], first["start"], first["end"]) == tuple(answer["answer_span"].values())
    index = load_index(cross_source_index)
    for a in alternatives:
        assert index.articles[a["article_id"]].text[a["start"]:a["end"]] == a["text"]
        cited = answer["citations"][a["citation"] - 1]  # the passage it is read from
        assert cited["article_id"] == a["article_id"] and cited["start"] <= a["start"] < a["end"] <= cited["end"]
        assert 0.0 < a["confidence"] <= 1.0


def test_human_form_says_sources_differ_with_each_outlet(capsys, cross_source_index):
    out = ask(capsys, cross_source_index, FEE)
    lines = out.splitlines()
    assert out.startswith("Answer: ") and "Sources differ:" in lines
    listed = lines[lines.index("Sources differ:") + 1:lines.index("Sources:")]
    assert any(line.startswith(f"  {POST}, 2024-01-30: “") and "£4.5 million" in line for line in listed), listed
    assert any(line.startswith(f"  {SPORT}, 2024-02-01: “") and "£6 million" in line for line in listed), listed
    assert all("(confidence 0." in line for line in listed if line.strip())


def test_outlets_that_agree_are_counted(capsys, cross_source_index):
    answer = json.loads(ask(capsys, cross_source_index, MANAGER, "--json"))
    assert answer["answer"] == "Sean Gallagher"
    assert {a["source"] for a in answer["alternatives"]} == {POST, SPORT}
    assert all(a["agrees"] for a in answer["alternatives"])
    out = ask(capsys, cross_source_index, MANAGER)
    assert f"{len(answer['alternatives'])} sources agree." in out.splitlines() and "Sources differ:" not in out


@pytest.mark.parametrize("filters, fee, outlet", [
    (["--source", POST], "£4.5 million", POST),
    (["--since", "2024-01-31"], "£6 million", SPORT),  # the other stories are older
])
def test_filtered_to_one_outlet_there_is_nothing_to_compare(capsys, cross_source_index, filters, fee, outlet):
    answer = json.loads(ask(capsys, cross_source_index, FEE, "--json", *filters))
    assert fee in answer["answer"] and "alternatives" not in answer
    assert {c["source"] for c in answer["citations"]} == {outlet}
    assert "Sources differ:" not in ask(capsys, cross_source_index, FEE, *filters)

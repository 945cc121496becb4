"""`--source`, `--since` and `--until` on `qa search`, `qa ask` and `qa eval`, and the source and day each
citation and hit shows, as a user runs them (in-process through ``cli.main.main``).

The corpus: Markdown articles with front matter, two sources; the Herald's (2016) answer the question best, so
an unfiltered top k holds none of the Coast Post's (August 2017).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main

QUESTION = "When did the new Zorblatt harbour open to the fishing boats?"
HERALD = [
    ("2016-05-02", "The new Zorblatt harbour opened to the fishing boats on Monday, the mayor said at its gate."),
    ("May 3, 2016", "Fishing boats filled the new Zorblatt harbour when it opened on Monday after ten years of work."),
    ("2016-05-04", "The Zorblatt harbour opened to fishing boats this week; the harbour master welcomed the trawlers."),
    ("2016-05-05", "When the new harbour at Zorblatt opened, two hundred fishing boats sailed in before noon."),
    ("2016-05-06", "Zorblatt's new harbour is open: fishing boats moored there on its first day, the council said."),
]
POST = [
    ("2017-08-01", "The weather desk expects mild winds, though a harbour pilot warned of fog near the cliffs."),
    ("Tue, 15 Aug 2017 10:00:00 GMT", "Rail fares rise again next month; commuters from the harbour district protested."),
    ("2017-08-31", "Ferries from the harbour will run an extra service during the school holidays, which start early."),
    ("2017-09-01", "The museum shows old maps of the coast, with the harbour drawn as it stood a century ago."),
    ("", "An undated note from the harbour office about the fishing boats' moorings and their fees."),
]
FILTER_ERRORS = [
    (["--since", "2017-8-1"], "qa: --since must be a date as YYYY-MM-DD (got '2017-8-1')"),
    (["--until", "August 1, 2017"], "qa: --until must be a date as YYYY-MM-DD (got 'August 1, 2017')"),
    (["--since", "2017-02-30"], "qa: --since must be a date as YYYY-MM-DD (got '2017-02-30': day is out of range for month)"),
    (["--since", "2017-09-01", "--until", "2017-08-01"], "qa: --since 2017-09-01 is after --until 2017-08-01: no day is in that range"),
    (["--source", " "], "qa: --source: ' ' is not a source name"),
]


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder):
    """`qa ask` and `qa eval` would load the embedding model again (seconds): hand them the session's copy."""
    monkeypatch.setattr("qa.answerer.Embedder", lambda config: embedder)


@pytest.fixture(scope="module")
def news_index(tmp_path_factory, embedder) -> Path:
    from corpus.loaders import load_paths
    from index.sources import describe_sources
    from index.store import build_index, save_index

    folder = tmp_path_factory.mktemp("news")
    for source, items in (("Zorblatt Herald", HERALD), ("Coast Post", POST)):
        for i, (day, text) in enumerate(items):
            date = f"date: {day}\n" if day else ""
            name = f"{source.split()[0].lower()}-{i}.md"
            (folder / name).write_text(f"---\ntitle: {source} {i}\nsource: {source}\n{date}---\n{text}\n", encoding="utf-8")
    report = load_paths([folder])
    assert not report.errors and len(report.articles) == 10
    directory = folder.parent / "news-index"
    save_index(build_index(report.articles, embedder=embedder, progress=False, sources=describe_sources([folder])), directory)
    return directory


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_json_hits_carry_source_and_day_and_all_k_come_from_the_source(capsys, news_index):
    code, out, _ = run(capsys, "search", QUESTION, "--index", str(news_index), "--k", "4", "--json")
    assert code == 0 and {h["source"] for h in json.loads(out)["hits"]} == {"Zorblatt Herald"}
    code, out, err = run(capsys, "search", QUESTION, "--index", str(news_index), "--k", "4", "--json",
                         "--source", "coast post", "--mode", "dense")
    assert code == 0, err
    hits = json.loads(out)["hits"]
    assert len(hits) == 4 and {h["source"] for h in hits} == {"Coast Post"}
    assert all(h["published"] is None or h["published"].startswith("2017-0") for h in hits)


def test_search_text_shows_source_and_day_and_the_filters(capsys, news_index):
    code, out, _ = run(capsys, "search", QUESTION, "--index", str(news_index), "--k", "10",
                       "--since", "2017-08-01", "--until", "2017-08-31")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "(only articles matching: published from 2017-08-01 to 2017-08-31)"
    shown = [line for line in lines if line.startswith("[")]
    assert shown and all(" — Coast Post, 2017-08-" in line for line in shown)
    assert not any("2017-09-01" in line or "Herald" in line for line in shown)  # both days included, no more


def test_ask_json_cites_only_the_source_with_its_day(capsys, news_index):
    code, out, err = run(capsys, "ask", QUESTION, "--index", str(news_index), "--reader", "sentence", "--json",
                         "--source", "Coast Post", "--since", "2017-08-01", "--k", "3")
    assert code == 0, err
    citations = json.loads(out)["citations"]
    assert len(citations) == 3 and {c["source"] for c in citations} == {"Coast Post"}
    assert all("2017-08-01" <= c["published"] <= "2017-09-01" for c in citations)


def test_ask_text_shows_source_and_day_on_each_citation_and_the_filters(capsys, news_index):
    code, out, _ = run(capsys, "ask", QUESTION, "--index", str(news_index), "--reader", "sentence", "--k", "2",
                       "--source", "Zorblatt Herald", "--source", "Coast Post")
    assert code == 0
    cited = [line for line in out.splitlines() if line.startswith("  [")]
    assert len(cited) == 2 and all(" — Zorblatt Herald, 2016-05-0" in line and " — chars " in line for line in cited)
    assert out.rstrip().endswith("; only articles matching: source Zorblatt Herald or Coast Post)")


@pytest.mark.parametrize("command", ["search", "ask", "eval"])
@pytest.mark.parametrize(("flags", "message"), FILTER_ERRORS)
def test_a_bad_filter_is_refused_before_anything_loads(capsys, tmp_path, command, flags, message):
    first = str(tmp_path / "gold.jsonl") if command == "eval" else QUESTION
    (tmp_path / "gold.jsonl").write_text('{"id": "q", "question": "Who?", "answers": ["x"]}\n')
    code, out, err = run(capsys, command, first, "--index", str(tmp_path / "no-index"), *flags)
    assert code == 2 and err.strip() == message and out == ""


@pytest.mark.parametrize("command", ["search", "ask"])
def test_filters_no_article_matches_are_a_message_not_a_trace(capsys, news_index, command):
    reader = ["--reader", "sentence"] if command == "ask" else []
    code, out, err = run(capsys, command, QUESTION, "--index", str(news_index), "--source", "Reuters", *reader)
    assert code == 2 and out == ""
    assert err.strip() == "qa: no article matches the filters: source Reuters (sources in the index: Coast Post, Zorblatt Herald)"


def test_a_date_filter_on_an_index_without_dates_says_so(capsys, default_index_dir):
    code, _, err = run(capsys, "search", "Geng Shuang", "--index", str(default_index_dir), "--since", "2017-01-01")
    assert code == 2 and err.strip() == ("qa: no article matches the filters: published on or after 2017-01-01 "
                                         "(no article in the index has a date)")


def test_eval_answers_from_the_filtered_articles(capsys, news_index, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "z1", "question": QUESTION, "answers": ["Monday"]}) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", str(gold), "--index", str(news_index), "--reader", "sentence", "--quiet",
                         "--out", str(tmp_path / "run"), "--source", "Coast Post", "--until", "2017-08-31")
    assert code == 0, err
    assert "retrieval restricted to articles matching: source Coast Post; published on or before 2017-08-31" in out
    [prediction] = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert prediction["citations"] and {c["source"] for c in prediction["citations"]} == {"Coast Post"}
    code, _, err = run(capsys, "eval", str(gold), "--index", str(news_index), "--source", "Reuters", "--quiet",
                       "--reader", "sentence", "--out", str(tmp_path / "run2"))
    assert code == 2 and "no article matches the filters: source Reuters" in err


def test_eval_refuses_filters_with_reader_only(capsys, tmp_path):
    (tmp_path / "gold.jsonl").write_text('{"id": "q", "question": "Who?", "answers": ["x"]}\n')
    code, _, err = run(capsys, "eval", str(tmp_path / "gold.jsonl"), "--reader-only", "--source", "CNN")
    assert code == 2 and "--reader-only retrieves nothing" in err

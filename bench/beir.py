"""A BEIR dataset folder (corpus.jsonl[.gz], queries.jsonl[.gz], qrels/<split>.tsv) as articles.

``Article.id`` stays the text fingerprint, so two BEIR documents with identical text become one article;
``doc_to_article`` maps every BEIR doc id to its article id, and ``article_to_docs`` goes back (to a list,
since one article may stand for several documents). Queries are kept only when the split judges them,
as BEIR's own loader does.

Example:
    >>> from corpus.datasets import BEIR_SCIFACT, dataset_path
    >>> articles, doc_to_article, queries, qrels = load_beir(dataset_path(BEIR_SCIFACT))  # doctest: +SKIP
    >>> qrels["1"]                                        # doctest: +SKIP
    {'31715818': 1}
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import NamedTuple

from corpus.article import Article
from corpus.text_file import read_text


class BeirSet(NamedTuple):
    articles: list[Article]
    doc_to_article: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def article_to_docs(self) -> dict[str, list[str]]:
        """Article id -> the BEIR doc ids it stands for (more than one when texts repeat)."""
        back: dict[str, list[str]] = {}
        for doc_id, article_id in self.doc_to_article.items():
            back.setdefault(article_id, []).append(doc_id)
        return back


def load_beir(folder: str | Path, split: str = "test") -> BeirSet:
    """Load a BEIR folder; ``split`` names the qrels file (``qrels/test.tsv``)."""
    folder = Path(folder)
    articles, doc_to_article = _corpus(_find(folder, "corpus.jsonl"))
    qrels = _qrels(folder / "qrels" / f"{split}.tsv")
    all_queries = {str(r["_id"]): r["text"] for r in _jsonl(_find(folder, "queries.jsonl"))}
    missing = [qid for qid in qrels if qid not in all_queries]
    if missing:
        raise ValueError(f"{folder}: qrels name queries that queries.jsonl lacks: {missing[:5]}")
    queries = {qid: all_queries[qid] for qid in qrels}
    return BeirSet(articles, doc_to_article, queries, qrels)


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{folder}: neither {name} nor {name}.gz")


def _jsonl(path: Path) -> list[dict]:
    records = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} line {number}: invalid JSON ({exc.msg})") from None
    return records


def _corpus(path: Path) -> tuple[list[Article], dict[str, str]]:
    articles: dict[str, Article] = {}
    doc_to_article: dict[str, str] = {}
    for record in _jsonl(path):
        doc_id = str(record["_id"])
        title = (record.get("title") or "").strip()
        # a document with an empty body is still searchable by its title, so the title becomes its text
        text = record.get("text") or title
        if not text.strip():
            raise ValueError(f"{path}: document {doc_id} has neither text nor title")
        article = Article.from_text(text, title=title or doc_id, path=str(path))
        articles.setdefault(article.id, article)
        doc_to_article[doc_id] = article.id
    return list(articles.values()), doc_to_article


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    rows = csv.reader(io.StringIO(read_text(path)), delimiter="\t")
    for number, row in enumerate(rows, start=1):
        if not row or (number == 1 and row[0] == "query-id"):
            continue
        if len(row) != 3:
            raise ValueError(f"{path} line {number}: expected query-id, corpus-id, score")
        query_id, doc_id, score = row
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    return qrels

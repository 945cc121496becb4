"""ChatService with the real answerer: uploads indexed incrementally and answerable at once, refused files,
the index on disk still current afterwards (a restart opens it), an upload that cannot be indexed not kept,
a CLI writer's articles kept by a later upload, the temporary files deleted, examples and the uploads folder."""

from __future__ import annotations

import shutil

import pytest

ARTICLE = (
    "Zorblatt harbour opens after ten years\n\n"
    "The new harbour of Zorblatt was opened on Monday by the town's mayor, Elspeth Quarrington. "
    "The harbour cost 40 million euros.\n"
)


@pytest.fixture
def service(service_factory, tmp_path):
    return service_factory(tmp_path)


def test_upload_is_indexed_incrementally_and_answerable_at_once(service, tmp_path, monkeypatch):
    from index.lifecycle import open_index
    from index.store import IndexConfig

    embedder = service.answerer.retriever.embedder
    encoded = []
    real_encode = embedder.encode

    def spy(texts, *args, **kwargs):
        encoded.append(len(texts))
        return real_encode(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "encode", spy)
    old_retriever = service.answerer.retriever
    old_chunks = len(old_retriever.index.chunks)
    src = tmp_path / "incoming"
    src.write_text(ARTICLE, encoding="utf-8")
    result = service.upload([(src, "../../zorblatt.txt")])
    assert result.added == 1 and [l.ok for l in result.lines] == [True]
    assert "Zorblatt harbour opens after ten years" in result.lines[0].message
    new_chunks = [c for c in service.index.chunks if "Zorblatt" in service.index.articles[c.article_id].title]
    assert 0 < len(new_chunks) < old_chunks
    assert sum(encoded) == len(new_chunks)  # only the new article's passages were embedded
    monkeypatch.undo()
    new = service.answerer.retriever
    assert len(new.index.chunks) == old_chunks + len(new_chunks)
    assert new is not old_retriever and new.embedder is old_retriever.embedder  # the model is not loaded again
    assert len(new.index.chunks) > old_chunks
    assert (service.uploads_dir / "zorblatt.txt").exists()
    assert not (tmp_path.parent / "zorblatt.txt").exists()
    reply = service.ask("How much did the Zorblatt harbour cost?")
    assert not reply.answer.abstained and reply.answer.answer == "40 million euros"
    assert any("Zorblatt" in row.title for row in service.article_rows())
    # the index on disk is current: a restart would open it as it is
    reopened = open_index(service.index_dir, IndexConfig())
    assert set(reopened.articles) == set(new.index.articles)


def test_duplicates_and_unreadable_files_are_reported_and_not_kept(service, tmp_path):
    from corpus.defaults import DEFAULT_ARTICLES_DIR

    existing = tmp_path / "existing.txt"  # the temporary copy the web server hands over (deleted after)
    shutil.copyfile(min(DEFAULT_ARTICLES_DIR.glob("*.txt")), existing)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00b\x00a\x00d")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    before = service.answerer.retriever
    result = service.upload([(existing, existing.name), (bad, "bad.txt"), (exe, "tool.exe")])
    assert result.added == 0
    messages = {l.name: (l.ok, l.message) for l in result.lines}
    assert messages[existing.name][0] and "already in the corpus" in messages[existing.name][1]
    assert not messages["bad.txt"][0] and "cannot be read" in messages["bad.txt"][1]
    assert not messages["tool.exe"][0] and "unsupported file type" in messages["tool.exe"][1]
    assert service.answerer.retriever is before
    assert not service.uploads_dir.exists() or not any(p.is_file() for p in service.uploads_dir.rglob("*"))
    assert not existing.exists() and not bad.exists() and not exe.exists()  # refused: no copy stays anywhere


def test_examples_are_answerable_gold_questions_about_indexed_articles(service):
    assert 3 <= len(service.examples) <= 5
    assert service.examples[0].startswith("Who is the Chinese foreign ministry spokesman")
    from ui.service import example_questions

    assert example_questions(["not-an-article"]) == []


def test_uploads_folder_defaults_to_the_corpus_folder_and_is_configurable(tmp_path, monkeypatch):
    from ui.service import uploads_dir_for

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sources = [{"path": str(corpus / "a.txt"), "root": str(corpus)}]
    monkeypatch.delenv("QA_UPLOADS", raising=False)
    assert uploads_dir_for(sources, tmp_path / "idx") == corpus / "uploads"
    assert uploads_dir_for([{"path": str(corpus / "a.txt"), "root": str(corpus / "a.txt")}], tmp_path / "idx") == corpus / "uploads"
    assert uploads_dir_for([], tmp_path / "idx") == tmp_path / "idx" / "uploads"
    assert uploads_dir_for(sources, tmp_path / "idx", tmp_path / "elsewhere") == tmp_path / "elsewhere"
    monkeypatch.setenv("QA_UPLOADS", str(tmp_path / "env"))
    assert uploads_dir_for(sources, tmp_path / "idx") == tmp_path / "env"


def test_an_unwritable_uploads_folder_is_reported(service_factory, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the uploads folder should be", encoding="utf-8")
    service = service_factory(tmp_path, uploads_dir=blocker / "uploads")
    src = tmp_path / "zorblatt.txt"
    src.write_text(ARTICLE, encoding="utf-8")
    result = service.upload([(src, "zorblatt.txt")])
    assert result.added == 0 and not result.lines[0].ok
    assert "cannot be stored" in result.lines[0].message and "QA_UPLOADS" in result.lines[0].message
    assert str(tmp_path) not in result.lines[0].message  # the server's folders are not shown to the user


@pytest.fixture
def corpus_service(copy_index, embedder, shared_reader, monkeypatch):
    """A ChatService over an index of a corpus folder of its own, whose uploads go into that folder (as
    `qa chat` keeps them): a kept upload the index does not have makes the index stale."""
    from index.lifecycle import open_index
    from index.store import IndexConfig
    from qa.answerer import Answerer
    from qa.retriever import RetrievalConfig, Retriever
    from ui.service import ChatService

    monkeypatch.delenv("QA_UPLOADS", raising=False)
    retriever = Retriever(open_index(copy_index, IndexConfig()), RetrievalConfig(), embedder=embedder)
    return ChatService(Answerer(retriever, shared_reader), copy_index)


def test_an_upload_that_cannot_be_indexed_is_not_kept_and_the_index_stays_current(corpus_service, corpus_copy, tmp_path, monkeypatch):
    from index.lifecycle import staleness
    from index.store import IndexConfig
    from ui import service as service_module

    index_dir = corpus_service.index_dir
    assert corpus_service.uploads_dir == corpus_copy / "uploads"
    before_files = sorted(p for p in corpus_copy.rglob("*") if p.is_file())
    before = corpus_service.answerer

    def failing(*args, **kwargs):
        raise OSError(28, "No space left on device", str(index_dir / ".tmp-v-1" / "chunks.jsonl"))

    monkeypatch.setattr(service_module, "extend_index", failing)
    src = tmp_path / "gradio-temp" / "zorblatt.txt"
    src.parent.mkdir()
    src.write_text(ARTICLE, encoding="utf-8")
    result = corpus_service.upload([(src, "zorblatt.txt")])
    assert result.added == 0 and len(result.lines) == 1 and not result.lines[0].ok
    message = result.lines[0].message
    assert "could not be indexed" in message and "not kept" in message
    assert str(tmp_path) not in message and "/" not in message  # no server path
    assert sorted(p for p in corpus_copy.rglob("*") if p.is_file()) == before_files  # the corpus is as before
    assert staleness(index_dir, IndexConfig()) is None  # `qa search` and a restart still open the index
    assert corpus_service.answerer is before
    assert not src.exists()  # the temporary copy is gone too
    monkeypatch.undo()
    src.write_text(ARTICLE, encoding="utf-8")  # the same upload again, once indexing works, goes in
    again = corpus_service.upload([(src, "zorblatt.txt")])
    assert again.added == 1 and (corpus_copy / "uploads" / "zorblatt.txt").exists()
    assert staleness(index_dir, IndexConfig()) is None


def test_a_chat_upload_keeps_the_articles_a_cli_add_saved_meanwhile(service, new_article_file, embedder, tmp_path):
    """The chat extends its index in memory; a `qa add` saved a newer version since it was loaded. The upload
    extends that version (under the index's write lock), so both articles are in the index and answerable."""
    from index.lifecycle import add_to_index, open_index
    from index.store import IndexConfig

    index_dir = service.index_dir
    cli = add_to_index([new_article_file], index_dir, IndexConfig(), embedder=embedder, progress=False)
    assert cli.added == 1
    src = tmp_path / "incoming"
    src.write_text(ARTICLE, encoding="utf-8")
    result = service.upload([(src, "zorblatt.txt")])
    assert result.added == 1 and [l.ok for l in result.lines] == [True]
    titles = {a.title for a in open_index(index_dir, IndexConfig()).articles.values()}
    assert {"Super Bowl 50", "Zorblatt harbour opens after ten years"} <= titles
    assert {a.title for a in service.index.articles.values()} == titles  # the chat answers from the same index
    assert service.ask("How much did the Zorblatt harbour cost?").answer.answer == "40 million euros"
    assert not service.ask("Which team won Super Bowl 50?").answer.abstained


def test_an_article_without_sentence_breaks_cannot_stall_a_concurrent_question(service, tmp_path):
    """Issue 15: a 200,000-character line became one chunk; "word word word" read it for 20 s behind the lock
    while a gold question waited (108 s for 1 MB), and the reply carried the whole passage. Now both questions,
    asked at once, are answered within a generous bound, and every reply is small."""
    import json
    import threading
    import time

    src = tmp_path / "words"
    src.write_text("word " * 40_000, encoding="utf-8")  # 200,000 characters, the first case
    assert service.upload([(src, "words.txt")]).added == 1
    replies, seconds = {}, {}

    def ask(question):
        started = time.perf_counter()
        replies[question] = service.ask(question).answer
        seconds[question] = time.perf_counter() - started

    threads = [threading.Thread(target=ask, args=(q,)) for q in ("word word word", "Who is Geng Shuang?")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(seconds.values()) < 15, seconds  # before: 20 s for the first, 40 s for the second to finish
    for answer in replies.values():
        assert len(json.dumps(answer.to_json_dict())) < 20_000
        assert all(c.end - c.start <= 2000 for c in answer.citations)  # the chunk bound: passages, not the article

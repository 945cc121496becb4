"""ChatService with the real answerer: uploads indexed incrementally and answerable at once, refused files,
the index on disk still current afterwards (a restart opens it), examples and the uploads folder."""

from __future__ import annotations

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

    existing = sorted(DEFAULT_ARTICLES_DIR.glob("*.txt"))[0]
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

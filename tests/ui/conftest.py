"""Fixtures for the live app: one app a test module (its own copy of the default index and its own uploads
folder) over the real answerer. The embedding model and the default index come from tests/conftest.py and are
shared by the whole session; the reader is made once a session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Live:
    url: str
    service: object
    work: Path


@pytest.fixture(scope="session")
def shared_reader(embedder):
    from qa.answerer import make_reader

    return make_reader("auto", embedder)


def make_service(default_index_dir, embedder, reader, work: Path, uploads_dir: Path | None = None):
    """A ChatService with the real Answerer over a private copy of the default index in ``work``."""
    from index.lifecycle import open_index
    from index.store import IndexConfig
    from qa.answerer import Answerer
    from qa.retriever import RetrievalConfig, Retriever
    from ui.service import ChatService

    index_dir = work / "index"
    shutil.copytree(default_index_dir, index_dir)
    retriever = Retriever(open_index(index_dir, IndexConfig()), RetrievalConfig(), embedder=embedder)
    return ChatService(Answerer(retriever, reader), index_dir, uploads_dir=uploads_dir or work / "uploads")


@pytest.fixture(scope="session")
def service_factory(default_index_dir, embedder, shared_reader):
    """``service_factory(work, uploads_dir=None)``: a ChatService over a fresh copy of the default index."""
    return lambda work, uploads_dir=None: make_service(default_index_dir, embedder, shared_reader, work, uploads_dir)


@pytest.fixture(scope="module")
def live(service_factory, tmp_path_factory):
    """The app (chat + JSON API) on a free loopback port, over a private copy of the default index."""
    from ui.app import create_app, serve_in_thread

    work = tmp_path_factory.mktemp("ui-live")
    service = service_factory(work)
    server = serve_in_thread(create_app(service))
    yield Live(server.url, service, work)
    server.stop()

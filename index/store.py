"""Build, save, load and extend a corpus index: articles, chunks, FAISS vectors, BM25, manifest.

On disk an index is a directory holding versions. ``CURRENT`` names the live version; a new version is written
in full under a temporary name, renamed into place, and only then does ``CURRENT`` switch to it (an atomic
``os.replace``). A crash at any point leaves the previous version live and usable.

Example:
    >>> idx = build_index(articles, IndexConfig())              # doctest: +SKIP
    >>> save_index(idx, Path(".qa-index"))                      # doctest: +SKIP
    >>> same = load_index(Path(".qa-index"))                    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from corpus import Article
from index.bm25 import BM25Config, BM25Index
from index.chunk import Chunk
from index.chunker import ChunkerConfig, chunk_articles
from index.dense import DenseConfig, DenseIndex
from index.embedder import Embedder, EmbedderConfig, EmbedderUnavailable

FORMAT_VERSION = 1
CURRENT = "CURRENT"


class IndexProblem(RuntimeError):
    """An index directory that is missing, damaged, stale or built with other settings."""


@dataclass(frozen=True)
class IndexConfig:
    embedder: EmbedderConfig = EmbedderConfig()
    chunker: ChunkerConfig = ChunkerConfig()
    bm25: BM25Config = BM25Config()
    dense: DenseConfig = DenseConfig()
    # Index each chunk together with its article's title (the chunk text itself, and so every offset, stays
    # as it is): questions often name the topic only the title carries.
    title_in_passages: bool = True

    def settings(self) -> dict:
        """What must match between an index and the code reading it."""
        return {
            "model": self.embedder.model,
            "max_seq_length": self.embedder.max_seq_length,
            "chunker": asdict(self.chunker),
            "bm25": asdict(self.bm25),
            "title_in_passages": self.title_in_passages,
        }


def passage_texts(chunks: list[Chunk], articles: dict[str, Article], config: IndexConfig) -> list[str]:
    """What is embedded and BM25-indexed for each chunk."""
    if not config.title_in_passages:
        return [c.text for c in chunks]
    return [f"{articles[c.article_id].title}\n{c.text}" for c in chunks]


@dataclass
class CorpusIndex:
    """An index in memory. ``chunks[i]`` is row ``i`` of both the FAISS and the BM25 index."""

    config: IndexConfig
    articles: dict[str, Article]
    chunks: list[Chunk]
    bm25: BM25Index
    dense: DenseIndex | None
    sources: list[dict] = field(default_factory=list)
    dense_error: str | None = None
    # The version directory this index was loaded from or saved as (None: never on disk). A writer holding an
    # index in memory compares it with the live version (``live_version``) to notice another writer's save.
    version: str | None = field(default=None, compare=False)

    @property
    def corpus_fingerprint(self) -> str:
        return corpus_fingerprint(self.articles.values())

    def manifest(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **self.config.settings(),
            "dimension": self.dense.dim if self.dense else None,
            "dense": self.dense.kind if self.dense else None,
            "dense_error": self.dense_error,
            "corpus_fingerprint": self.corpus_fingerprint,
            "articles": len(self.articles),
            "chunks": len(self.chunks),
            "sources": self.sources,
            "versions": library_versions(),
        }

    def article_rows(self, article_ids: set[str]) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.chunks) if c.article_id in article_ids], dtype=np.int64)


def corpus_fingerprint(articles) -> str:
    digest = hashlib.sha256()
    for article_id in sorted(a.id for a in articles):
        digest.update(article_id.encode())
    return digest.hexdigest()[:16]


def library_versions() -> dict:
    names = ["sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s", "numpy"]
    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_texts(
    texts: list[str], embedder: Embedder, cached: dict[str, np.ndarray] | None = None, progress: bool = True
) -> np.ndarray:
    """Vectors for the passage texts; texts found in ``cached`` are not sent to the encoder again."""
    cached = cached or {}
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    todo = [i for i, t in enumerate(texts) if _text_key(t) not in cached]
    for i, t in enumerate(texts):
        if (vec := cached.get(_text_key(t))) is not None:
            out[i] = vec
    batch = 1024  # progress granularity; the embedder batches further inside
    with tqdm(total=len(todo), desc="embedding chunks", unit="chunk", disable=not progress or not todo) as bar:
        for s in range(0, len(todo), batch):
            rows = todo[s : s + batch]
            out[rows] = embedder.encode([texts[i] for i in rows])
            bar.update(len(rows))
    return out


def build_index(
    articles: list[Article],
    config: IndexConfig = IndexConfig(),
    embedder: Embedder | None = None,
    progress: bool = True,
    sources: list[dict] | None = None,
    reuse: CorpusIndex | None = None,
) -> CorpusIndex:
    """Chunk, embed and index ``articles``. Without a loadable embedder the index is BM25-only, and says so."""
    unique = {a.id: a for a in articles}
    chunks = chunk_articles(list(unique.values()), config.chunker)
    texts = passage_texts(chunks, unique, config)
    bm25 = BM25Index.from_texts(texts, config.bm25)
    dense, dense_error = None, None
    try:
        embedder = embedder or Embedder(config.embedder)
        cached = _vectors_by_key(reuse) if reuse and reuse.config.embedder == config.embedder else None
        dense = DenseIndex.build(embed_texts(texts, embedder, cached, progress), config.dense)
    except EmbedderUnavailable as exc:
        dense_error = str(exc)
    return CorpusIndex(config, unique, chunks, bm25, dense, sources or [], dense_error)


def add_articles(
    index: CorpusIndex,
    articles: list[Article],
    embedder: Embedder | None = None,
    progress: bool = True,
    sources: list[dict] | None = None,
) -> tuple[CorpusIndex, list[Article]]:
    """A new index with ``articles`` added; only the new articles' chunks are embedded.

    BM25 is rebuilt over all chunks (its IDF depends on the whole corpus; no encoder is involved).
    Returns the new index and the articles that were actually new.
    """
    new = [a for a in {a.id: a for a in articles}.values() if a.id not in index.articles]
    if not new:  # nothing to add: the index as it is (no BM25 rebuild)
        return index, []
    new_chunks = chunk_articles(new, index.config.chunker)
    chunks = index.chunks + new_chunks
    articles_by_id = {**index.articles, **{a.id: a for a in new}}
    bm25 = BM25Index.from_texts(passage_texts(chunks, articles_by_id, index.config), index.config.bm25)
    dense, dense_error = None, index.dense_error
    if index.dense is not None and new_chunks:
        embedder = embedder or Embedder(index.config.embedder)
        dense = DenseIndex.build(index.dense.vectors(), index.config.dense)  # a copy: the old index stays valid
        dense.add(embed_texts(passage_texts(new_chunks, articles_by_id, index.config), embedder, progress=progress))
    else:
        dense = index.dense
    merged_sources = _merge_sources(index.sources, sources or [])
    return CorpusIndex(index.config, articles_by_id, chunks, bm25, dense, merged_sources, dense_error), new


def _merge_sources(old: list[dict], new: list[dict]) -> list[dict]:
    by_path = {s["path"]: s for s in old}
    by_path.update({s["path"]: s for s in new})
    return sorted(by_path.values(), key=lambda s: s["path"])


def _vectors_by_key(index: CorpusIndex) -> dict[str, np.ndarray]:
    if index.dense is None:
        return {}
    vectors = index.dense.vectors()
    texts = passage_texts(index.chunks, index.articles, index.config)
    return {_text_key(t): vectors[i] for i, t in enumerate(texts)}


# ---------------------------------------------------------------------------------------------- persistence


def save_index(index: CorpusIndex, directory: Path) -> Path:
    """Write a new version of the index and switch ``CURRENT`` to it atomically; returns the version dir."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(directory)
    name = f"v-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = directory / f".tmp-{name}"
    tmp.mkdir()
    _write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in index.articles.values()))
    _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in index.chunks))
    index.bm25.save(tmp / "bm25")
    if index.dense is not None:
        index.dense.save(tmp / "dense.faiss")
    (tmp / "manifest.json").write_text(json.dumps(index.manifest(), indent=2), encoding="utf-8")
    _fsync_tree(tmp)
    os.rename(tmp, directory / name)
    previous = _current_name(directory)
    pointer = directory / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    pointer.write_text(name + "\n", encoding="utf-8")
    _fsync_file(pointer)
    os.replace(pointer, directory / CURRENT)  # the switch: atomic on POSIX
    _fsync_dir(directory)
    index.version = name
    if previous and previous != name:
        shutil.rmtree(directory / previous, ignore_errors=True)
    return directory / name


def index_exists(directory: Path) -> bool:
    """Whether ``directory`` has a live version at all (it may still be damaged or stale)."""
    return _current_name(Path(directory)) is not None


def live_version(directory: Path) -> str | None:
    """The name of the live version at ``directory`` (what ``CorpusIndex.version`` holds), or None."""
    return _current_name(Path(directory))


def read_manifest(directory: Path) -> dict:
    version = _live_version(Path(directory))
    try:
        return json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexProblem(f"index at {directory} is damaged: cannot read its manifest ({exc})") from exc


def load_index(directory: Path, config: IndexConfig | None = None, manifest: dict | None = None) -> CorpusIndex:
    """Load the live version. With ``config``, refuse an index built with other settings. ``manifest``: the
    live version's manifest when the caller has read it already (it is then not read again)."""
    directory = Path(directory)
    version = _live_version(directory)
    manifest = manifest if manifest is not None else read_manifest(directory)
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexProblem(f"index at {directory} has format {manifest.get('format')}, expected {FORMAT_VERSION}")
    stored = _config_from_manifest(manifest, config)
    if config is not None and (diff := settings_mismatch(manifest, config)):
        raise IndexProblem(f"index at {directory} was built with other settings ({diff}); rebuild it with `qa index`")
    try:
        articles = {a["id"]: Article.from_dict(a) for a in _read_jsonl(version / "articles.jsonl")}
        chunks = [Chunk.from_dict(c) for c in _read_jsonl(version / "chunks.jsonl")]
        bm25 = BM25Index.load(version / "bm25", stored.bm25)
        dense = DenseIndex.load(version / "dense.faiss", stored.dense) if manifest.get("dense") else None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexProblem(f"index at {directory} is damaged: {exc}") from exc
    if len(chunks) != manifest["chunks"] or (dense is not None and dense.size != len(chunks)):
        raise IndexProblem(f"index at {directory} is damaged: chunk counts disagree")
    index = CorpusIndex(stored, articles, chunks, bm25, dense, manifest.get("sources", []), manifest.get("dense_error"), version.name)
    if index.corpus_fingerprint != manifest["corpus_fingerprint"]:
        raise IndexProblem(f"index at {directory} is damaged: its articles do not match its manifest")
    return index


def settings_mismatch(manifest: dict, config: IndexConfig) -> str | None:
    want = config.settings()
    diffs = [f"{k}: index has {manifest.get(k)!r}, wanted {v!r}" for k, v in want.items() if manifest.get(k) != v]
    return "; ".join(diffs) or None


def _config_from_manifest(manifest: dict, config: IndexConfig | None) -> IndexConfig:
    base = config or IndexConfig()
    return replace(
        base,
        title_in_passages=manifest.get("title_in_passages", False),
        embedder=replace(base.embedder, model=manifest["model"], max_seq_length=manifest.get("max_seq_length")),
        chunker=ChunkerConfig(**manifest["chunker"]),
        bm25=BM25Config(**manifest["bm25"]),
    )


def _live_version(directory: Path) -> Path:
    name = _current_name(directory)
    if name is None:
        raise IndexProblem(f"no index at {directory}: build one with `qa index`")
    version = directory / name
    if not version.is_dir():
        raise IndexProblem(f"index at {directory} is damaged: {name} is missing")
    return version


def _current_name(directory: Path) -> str | None:
    try:
        return (directory / CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _remove_leftovers(directory: Path) -> None:
    """Temporary files and unreferenced versions left by a crashed build."""
    live = _current_name(directory)
    for entry in directory.iterdir():
        stale_tmp = entry.name.startswith(".tmp-") or entry.name.startswith(f".{CURRENT}.")
        orphan = entry.name.startswith("v-") and entry.name != live
        if stale_tmp or orphan:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            _fsync_file(Path(dirpath) / name)
        _fsync_dir(Path(dirpath))

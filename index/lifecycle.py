"""The life cycle of an index directory: open it (refusing a stale one), build it when missing or stale, extend
it with new articles, and keep cached indexes for evaluation and benchmarks. The CLI, the chat app, evaluation
and the benchmarks all come through here; ``index.store`` only builds, saves and loads.

One staleness check per open: the manifest is read once, compared with the settings and the sources on disk,
and handed to the loader. Extending works on the index in memory (the chat app's live one, or one loaded
here), so an upload never re-reads the whole index from disk, unless another writer saved a newer version
since that index was loaded: then the live version is loaded and extended, so that writer's articles stay.

Every writer (a build, ``add_to_index``, ``extend_index``, ``cached_index``) holds the index's write lock
(``index.write_lock``) from its read of the index to its save: one writer at a time, none loses another's
work. ``wait=False`` raises ``IndexBusy`` at once instead of waiting for the writer that holds it.

Example:
    >>> outcome = ensure_index([DEFAULT_ARTICLES_DIR], Path(".qa-index"), IndexConfig())   # doctest: +SKIP
    >>> outcome.rebuilt, outcome.reason                                                      # doctest: +SKIP
    (True, 'no index at .qa-index: build one with `qa index`')
    >>> index = open_index(Path(".qa-index"), IndexConfig())                                 # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus import Article
from corpus.loaders import LoadError, load_paths
from corpus.loaders.sidecar import sidecar_path
from index.embedder import Embedder, EmbedderUnavailable
from index.sources import describe_sources, sources_changed
from index.store import (
    CorpusIndex,
    IndexConfig,
    IndexProblem,
    add_articles,
    build_index,
    index_exists,
    live_version,
    load_index,
    read_manifest,
    save_index,
    settings_mismatch,
)
from index.write_lock import write_lock

UP_TO_DATE = "index is up to date"
BUILD_STATS = "build_stats.json"


@dataclass(frozen=True)
class IndexOutcome:
    """What ``ensure_index`` or ``add_to_index`` did: the index now live (None: nothing could be loaded)."""

    index: CorpusIndex | None
    rebuilt: bool
    reason: str
    errors: list[LoadError] = field(default_factory=list)
    added: int = 0
    duplicates: list[str] = field(default_factory=list)  # where each text already loaded or indexed was met


@dataclass(frozen=True)
class CachedIndex:
    """An index from ``cached_index``: where it lives, whether it was reused, and how long its build took."""

    index: CorpusIndex
    directory: Path
    reused: bool
    build_stats: dict


def staleness(directory: Path, config: IndexConfig, sources: list[Path] | None = None) -> str | None:
    """Why the index at ``directory`` cannot be used as it is, or None when it is current."""
    return _check(directory, config, sources)[0]


def open_index(directory: Path, config: IndexConfig) -> CorpusIndex:
    """Load the index for answering; a stale or mismatched one is refused with the reason."""
    reason, manifest = _check(directory, config)
    if reason is not None:
        raise IndexProblem(f"cannot use the index at {directory}: {reason}. Run `qa index` to rebuild it.")
    return load_index(directory, config, manifest)


def ensure_index(
    paths: list[Path],
    directory: Path,
    config: IndexConfig,
    force: bool = False,
    progress: bool = True,
    wait: bool = True,
) -> IndexOutcome:
    """The index of ``paths`` at ``directory``: loaded when current, else (or with ``force``) built and saved.

    A rebuild reuses the vectors of unchanged passages from the previous index, when there is one.
    """
    reason, current = _needs_build(paths, directory, config, force)
    if current is not None:
        return current
    with write_lock(directory, wait):
        # asked again under the lock: a writer that held it may have just built what is wanted
        reason, current = _needs_build(paths, directory, config, force)
        if current is not None:
            return current
        report = load_paths(paths)
        if not report.articles:
            return IndexOutcome(None, False, "no article could be loaded", report.errors)
        previous = _try_load(directory)
        index = build_index(report.articles, config, progress=progress, sources=describe_sources(paths), reuse=previous)
        save_index(index, directory)
    return IndexOutcome(index, True, reason, report.errors, duplicates=report.duplicates)


def _needs_build(paths: list[Path], directory: Path, config: IndexConfig, force: bool) -> tuple[str, IndexOutcome | None]:
    """(why the index must be built; or, when it is current and not ``force``d, the outcome of loading it)."""
    if force:
        return "rebuild forced", None
    reason, manifest = _check(directory, config, paths)
    if reason is None:
        return UP_TO_DATE, IndexOutcome(load_index(directory, config, manifest), False, UP_TO_DATE)
    return reason, None


def open_or_build(paths: list[Path], directory: Path, config: IndexConfig, progress: bool = True) -> IndexOutcome:
    """Open the index at ``directory`` (refusing a stale one); only when there is none at all, build it from
    ``paths`` (the chat app's first start on the default corpus)."""
    if not index_exists(directory):
        return ensure_index(paths, directory, config, progress=progress)
    return IndexOutcome(open_index(directory, config), False, UP_TO_DATE)


def add_to_index(
    paths: list[Path],
    directory: Path,
    config: IndexConfig,
    embedder: Embedder | None = None,
    progress: bool = True,
    wait: bool = True,
    fetched: Sequence[Article] = (),
    keep: Callable[[list[Article]], tuple[list[Article], list[Path]]] | None = None,
) -> IndexOutcome:
    """Load the articles in ``paths`` and add the new ones to the index at ``directory`` (``qa add``).

    The index is read ahead, outside the write lock, so that the embedding model (seconds to load) is loaded
    before the lock is taken, and only when there is something new to embed; ``extend_index`` then checks,
    under the lock, that the version read is still the live one, and reads the live one when it is not.

    ``fetched``: articles read already, not yet kept (the pages ``qa add URL`` fetched); ``keep`` is called
    under the write lock with those that are new (in neither the index nor ``paths``), keeps their files and
    returns them (naming the kept files) with every file they were read from, which the index records.
    """
    report = load_paths(paths)
    index = _read_ahead(directory, config, wait)
    loaded = {a.id for a in report.articles}
    pending = list({a.id: a for a in fetched if a.id not in index.articles and a.id not in loaded}.values())
    if embedder is None and index.dense is not None and any(a.id not in index.articles for a in [*report.articles, *pending]):
        embedder = _embedder_or_none(config)
    with write_lock(directory, wait):  # the fetched pages' folder and the index change together
        kept, files = keep(pending) if keep is not None and pending else ([], [])
        # a file's sidecar is one of its sources: without it, a sidecar inside an indexed folder reads as "added"
        sidecars = [sidecar_path(p) for p in paths if Path(p).is_file() and sidecar_path(p).is_file()]
        sources = describe_sources([*paths, *sidecars, *files])
        outcome = extend_index(index, report.articles + kept, directory, sources, embedder, progress, wait)
    known = [report.origins[a.id] for a in report.articles if a.id in index.articles]  # already indexed
    return replace(outcome, errors=report.errors, duplicates=report.duplicates + known)


def _read_ahead(directory: Path, config: IndexConfig, wait: bool) -> CorpusIndex:
    try:
        return load_index(directory, config)
    except IndexProblem:  # a writer may have just replaced the version being read: read again, under the lock
        with write_lock(directory, wait):
            return load_index(directory, config)


def _embedder_or_none(config: IndexConfig) -> Embedder | None:
    try:
        return Embedder(config.embedder)
    except EmbedderUnavailable:  # add_articles tries again and reports it, as when nothing was loaded ahead
        return None


def extend_index(
    index: CorpusIndex,
    articles: list[Article],
    directory: Path,
    sources: list[dict],
    embedder: Embedder | None = None,
    progress: bool = True,
    wait: bool = True,
) -> IndexOutcome:
    """``index`` (in memory: the chat app's live one) with the new ``articles`` added, only their passages
    embedded; saved to ``directory`` when something was added. ``sources``: what the articles were read from.

    When another writer saved a newer version since ``index`` was loaded or saved, that version is loaded and
    extended instead (the returned index then holds that writer's articles too).
    """
    with write_lock(directory, wait):
        live = live_version(directory)
        if index.version is not None and live is not None and live != index.version:
            index = load_index(directory, index.config)
        new_index, new = add_articles(index, articles, embedder=embedder, progress=progress, sources=sources)
        if new:
            save_index(new_index, directory)
    return IndexOutcome(new_index, False, f"added {len(new)} new article(s)", added=len(new))


def cached_index(
    name: str,
    articles: list[Article],
    config: IndexConfig,
    cache_dir: Path,
    embedder: Embedder | None = None,
    progress: bool = True,
    rebuild: bool = False,
    sources: list[dict] | None = None,
) -> CachedIndex:
    """The index of ``articles`` under ``cache_dir``, built once per article set and settings, then reused.

    For evaluation sets and benchmarks, whose corpora are fixed files: the cache key is the articles (ids and
    texts) and the index settings, so a changed file or setting builds a new index instead of using a stale one.
    """
    directory = Path(cache_dir) / f"{name}-{_cache_key(articles, config)}"
    if not rebuild and (cached := _reusable(directory, articles, config)):
        return cached
    with write_lock(directory):
        if not rebuild and (cached := _reusable(directory, articles, config)):  # built while we waited
            return cached
        started = time.perf_counter()
        index = build_index(articles, config, embedder=embedder, progress=progress, sources=sources)
        seconds = time.perf_counter() - started
        save_index(index, directory)
        stats = {"chunks": len(index.chunks), "articles": len(index.articles), "build_s": round(seconds, 2),
                 "chunks_per_s": round(len(index.chunks) / seconds, 1) if seconds else None}
        (directory / BUILD_STATS).write_text(json.dumps(stats), encoding="utf-8")
    return CachedIndex(index, directory, False, stats)


def _reusable(directory: Path, articles: list[Article], config: IndexConfig) -> CachedIndex | None:
    try:
        index = load_index(directory, config)
    except IndexProblem:
        return None
    if set(index.articles) != {a.id for a in articles}:
        return None
    return CachedIndex(index, directory, True, _read_stats(directory))


def _check(directory: Path, config: IndexConfig, sources: list[Path] | None = None) -> tuple[str | None, dict | None]:
    """(why the index cannot be used, or None; its manifest when it could be read): one read of the manifest."""
    try:
        manifest = read_manifest(directory)
    except IndexProblem as exc:
        return str(exc), None
    if diff := settings_mismatch(manifest, config):
        return f"it was built with other settings ({diff})", manifest
    recorded = manifest.get("sources", [])
    if sources is not None:
        wanted = {str(Path(p).resolve()) for p in sources}
        roots = {s.get("root", s["path"]) for s in recorded}
        if not wanted <= roots:
            return f"it was not built from {', '.join(sorted(wanted - roots))}", manifest
    if change := sources_changed(recorded):
        return f"the corpus changed since it was built ({change})", manifest
    return None, manifest


def _cache_key(articles: list[Article], config: IndexConfig) -> str:
    digest = hashlib.sha256(json.dumps(config.settings(), sort_keys=True).encode())
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(article.id.encode())
        digest.update(hashlib.sha256(article.text.encode()).digest())
    return digest.hexdigest()[:12]


def _read_stats(directory: Path) -> dict:
    try:
        return json.loads((directory / BUILD_STATS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _try_load(directory: Path) -> CorpusIndex | None:
    try:
        return load_index(directory)
    except IndexProblem:
        return None

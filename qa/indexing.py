"""Index maintenance used by the CLI and the chat app: build when missing or stale, add articles.

Example:
    >>> outcome = ensure_index([DEFAULT_ARTICLES_DIR], Path(".qa-index"), IndexConfig())   # doctest: +SKIP
    >>> outcome.rebuilt, outcome.reason                                                      # doctest: +SKIP
    (True, 'no index at .qa-index')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.loaders import LoadError, load_paths
from index.embedder import Embedder
from index.sources import describe_sources, sources_changed
from index.store import CorpusIndex, IndexConfig, IndexProblem, add_articles, build_index, load_index, read_manifest, save_index, settings_mismatch


@dataclass
class IndexOutcome:
    index: CorpusIndex | None
    rebuilt: bool
    reason: str
    errors: list[LoadError] = field(default_factory=list)
    added: int = 0


def staleness(directory: Path, config: IndexConfig, sources: list[Path] | None = None) -> str | None:
    """Why the index at ``directory`` cannot be used as it is, or None when it is current."""
    try:
        manifest = read_manifest(directory)
    except IndexProblem as exc:
        return str(exc)
    if diff := settings_mismatch(manifest, config):
        return f"it was built with other settings ({diff})"
    recorded = manifest.get("sources", [])
    if sources is not None:
        wanted = {str(Path(p).resolve()) for p in sources}
        roots = {s.get("root", s["path"]) for s in recorded}
        if not wanted <= roots:
            return f"it was not built from {', '.join(sorted(wanted - roots))}"
    if change := sources_changed(recorded):
        return f"the corpus changed since it was built ({change})"
    return None


def ensure_index(
    paths: list[Path], directory: Path, config: IndexConfig, force: bool = False, progress: bool = True
) -> IndexOutcome:
    """Build the index from ``paths`` unless a current one is already there."""
    reason = "rebuild forced" if force else staleness(directory, config, paths)
    if reason is None:
        return IndexOutcome(load_index(directory, config), False, "index is up to date")
    report = load_paths(paths)
    if not report.articles:
        return IndexOutcome(None, False, "no article could be loaded", report.errors)
    previous = _try_load(directory)
    index = build_index(report.articles, config, progress=progress, sources=describe_sources(paths), reuse=previous)
    save_index(index, directory)
    return IndexOutcome(index, True, reason, report.errors)


def add_to_index(
    paths: list[Path], directory: Path, config: IndexConfig, embedder: Embedder | None = None, progress: bool = True
) -> IndexOutcome:
    index = load_index(directory, config)
    report = load_paths(paths)
    new_index, new = add_articles(index, report.articles, embedder=embedder, progress=progress, sources=describe_sources(paths))
    if new:
        save_index(new_index, directory)
    return IndexOutcome(new_index, False, f"added {len(new)} new article(s)", report.errors, added=len(new))


def open_index(directory: Path, config: IndexConfig) -> CorpusIndex:
    """Load the index for answering; a stale or mismatched one is refused with the reason."""
    if reason := staleness(directory, config):
        raise IndexProblem(f"cannot use the index at {directory}: {reason}. Run `qa index` to rebuild it.")
    return load_index(directory, config)


def _try_load(directory: Path) -> CorpusIndex | None:
    try:
        return load_index(directory)
    except IndexProblem:
        return None

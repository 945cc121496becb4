"""What an index was built from, so that a changed corpus is noticed instead of silently used.

Each source file is recorded with its size and modification time; a directory source also notices files
added to or removed from it.

Example:
    >>> state = describe_sources([Path("corpus/articles")])       # doctest: +SKIP
    >>> sources_changed(state)                                     # doctest: +SKIP
    None
"""

from __future__ import annotations

from pathlib import Path


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
    return [path]


def describe_sources(paths: list[Path]) -> list[dict]:
    out = []
    for root in paths:
        root = Path(root).resolve()
        for f in _files(root):
            try:
                st = f.stat()
            except OSError:
                continue
            out.append({"path": str(f), "root": str(root), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def sources_changed(recorded: list[dict]) -> str | None:
    """A sentence naming the first difference between the recorded sources and the disk, or None."""
    roots = sorted({s.get("root", s["path"]) for s in recorded})
    now = {s["path"]: s for s in describe_sources([Path(r) for r in roots if Path(r).exists()])}
    then = {s["path"]: s for s in recorded}
    for path, old in then.items():
        new = now.get(path)
        if new is None:
            return f"{path} was removed"
        if (new["size"], new["mtime_ns"]) != (old["size"], old["mtime_ns"]):
            return f"{path} changed"
    for path in now.keys() - then.keys():
        return f"{path} was added"
    return None

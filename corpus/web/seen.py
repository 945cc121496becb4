"""The feed items already handled, remembered beside the kept pages, so a feed read again adds only what is new.

One small JSON file, ``fetched/.seen.json`` (hidden: the loader and the index's source tracking skip it),
maps keys to what became of them: an item's link (``url:<link>``, and the page's final URL after redirects),
and its GUID within its feed (``guid:<feed URL> <guid>``, as GUIDs are only unique within a feed). An item
is remembered once its article is in the index, added now or found there already (the same text: ids are
made from the text). An item that failed (a 404, a timeout, no main text) is not remembered and is tried
again next run. Pages added by URL are remembered too, so a feed that lists them later does not fetch them.

The file is written whole, atomically (a temporary file, flushed, renamed over), once the index is saved,
merged with what is on disk just before (another run's entries stay). It is not written under the index's
write lock, so that a run never waits for another writer once its own articles are saved: two runs writing
it at the same instant may lose one's entries, which only means those items are fetched again next time and
recognised by their text. At most ``MAX_ENTRIES`` keys are kept, the oldest dropped first. A file that cannot
be read is set aside as empty (the items are then recognised by their text instead, once fetched).

Example:
    >>> seen = SeenItems(Path("corpus/articles/fetched"))          # doctest: +SKIP
    >>> seen.is_seen(item_keys("https://x.org/a", "tag:x.org,1", "https://x.org/feed"))   # doctest: +SKIP
    False
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

SEEN_FILE = ".seen.json"
FORMAT = 1
MAX_ENTRIES = 20_000


def item_keys(url: str | None, guid: str | None = None, feed_url: str | None = None) -> list[str]:
    keys = [f"url:{url}"] if url else []
    if guid and feed_url:
        keys.append(f"guid:{feed_url} {guid}")
    return keys


class SeenItems:
    def __init__(self, folder: Path):
        self.path = Path(folder) / SEEN_FILE
        self.problem: str | None = None  # why the file could not be read, when it could not
        self.entries = self._read()

    def is_seen(self, keys: list[str]) -> bool:
        return any(key in self.entries for key in keys)

    def remember(self, entries: dict[str, dict]) -> None:
        """Add ``entries`` (key -> when it was seen, which article, which file, which feed) to the file on
        disk, atomically; entries another run wrote since this one read the file are kept."""
        on_disk = self._read()
        on_disk.update(entries)
        if len(on_disk) > MAX_ENTRIES:
            oldest = sorted(on_disk, key=lambda k: str(on_disk[k].get("seen_at", "")))
            for key in oldest[: len(on_disk) - MAX_ENTRIES]:
                del on_disk[key]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".tmp-{uuid.uuid4().hex}-{SEEN_FILE.lstrip('.')}")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "items": on_disk}, f, ensure_ascii=False, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self.entries = on_disk

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.problem = f"{self.path} could not be read ({exc.__class__.__name__}); items are recognised by their text"
            return {}
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, dict):
            self.problem = f"{self.path} is not a list of seen items; items are recognised by their text"
            return {}
        return {k: v for k, v in items.items() if isinstance(k, str) and isinstance(v, dict)}

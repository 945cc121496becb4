"""What ``qa index`` and ``qa add`` say about the files they read, and the exit status that follows from it.

One rule for both commands (also in their ``--help`` and the README):

- 0: every article given was loaded; texts already indexed are named as duplicates on stderr, which is not
  a failure; an index that is up to date reads no file and exits 0 too;
- 1: some files (or JSONL lines) could not be loaded: each is named with the reason on stderr, and every
  other article is in the index;
- 2: no article could be loaded: the index was not changed.

Example:
    >>> exit_status(errors=[], loaded_any=True), exit_status(errors=["x"], loaded_any=True)
    (0, 1)
    >>> exit_status(errors=["x"], loaded_any=False)
    2
    >>> duplicates_line(["a.txt", "b.jsonl line 3"])
    'qa: skipped 2 duplicate(s): a.txt, b.jsonl line 3 (the same text is in the index already)'
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cli.terminal import printable
from corpus.web.batch import FeedReport, WebBatch

EXIT_STATUS_HELP = (
    "exit status: 0 when every article was loaded (duplicates are named, not failures; an up-to-date index "
    "reads nothing); 1 when some files could not be loaded (each named, the rest indexed); 2 when no article "
    "could be loaded (the index is not changed)"
)
SHOWN_DUPLICATES = 10  # a folder of copies is summed up, not listed in full


def exit_status(errors: Sequence, loaded_any: bool) -> int:
    if not loaded_any:
        return 2
    return 1 if errors else 0


def duplicates_line(duplicates: Sequence[str]) -> str:
    shown = ", ".join(duplicates[:SHOWN_DUPLICATES])
    if len(duplicates) > SHOWN_DUPLICATES:
        shown += f" and {len(duplicates) - SHOWN_DUPLICATES} more"
    return f"qa: skipped {len(duplicates)} duplicate(s): {shown} (the same text is in the index already)"


def print_skipped(errors: Sequence, duplicates: Sequence[str]) -> None:
    """Each file that could not be loaded, with its reason, then the duplicates, on stderr."""
    for error in errors:
        print(printable(f"qa: skipped {error}"), file=sys.stderr)
    if duplicates:
        print(printable(duplicates_line(duplicates)), file=sys.stderr)


def print_nothing_loaded(reason: str = "no article could be loaded") -> None:
    print(printable(f"qa: {reason}; the index was not changed"), file=sys.stderr)


def feed_line(report: FeedReport) -> str:
    """One feed's summary: its items, how many were new (and fetched), seen before, or left for next time."""
    title = f" “{report.title}”" if report.title else ""
    parts = [f"{report.fetched} new" + (" (fetched)" if report.fetched else "")]
    if report.seen:
        parts.append(f"{report.seen} seen before (skipped)")
    if report.left:
        parts.append(f"{report.left} more left for the next run (--max-items)")
    if report.without_link:
        parts.append(f"{report.without_link} without a link (skipped)")
    return f"feed{title} {report.url}: {report.items} item(s): " + ", ".join(parts)


def print_fetched(batch: WebBatch, seen_problem: str | None = None) -> None:
    """Each page kept (on stdout: its URL, title and file) and each feed read; a seen-items file that could
    not be read, on stderr."""
    if seen_problem:
        print(printable(f"qa: {seen_problem}"), file=sys.stderr)
    for report in batch.feeds:
        print(printable(feed_line(report)))
    for page in batch.kept:
        print(printable(f"fetched {page.staged.fetched.url}: “{page.article.title}” -> {page.path}"))

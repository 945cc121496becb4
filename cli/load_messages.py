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

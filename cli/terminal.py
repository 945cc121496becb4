"""Text from articles and files made safe to print on a terminal.

An article (or a file name) can hold escape sequences and control characters that a terminal obeys: clear
the screen, set the window title, move the cursor to overwrite what was printed. Every human-form print of
article text, titles, answers and load errors goes through ``printable``. The ``--json`` forms keep the text
exact through ``json_line``: ``json.dumps`` escapes C0 characters (ESC included) but, with
``ensure_ascii=False``, writes DEL and the C1 characters (the 8-bit CSI ``\\x9b``) raw, so those are escaped
too; the JSON means the same string.

ANSI escape sequences (CSI, OSC and the other string commands, in their 7-bit ``ESC`` and 8-bit C1 forms) are
removed whole, so no stray parameters are left behind; every other C0 and C1 control character and DEL is
removed too, except newline and tab, which the layout keeps. A carriage return becomes a newline (``\\r\\n``
one newline), so it cannot return to the start of a line and overwrite it.

Example:
    >>> json_line({"text": "a\\x9b2Jb"})
    '{"text": "a\\\\u009b2Jb"}'
    >>> printable("Title\\x1b[2J\\x1b]0;pwned\\x07 here\\x9b31m, then\\tmore")
    'Title here, then\\tmore'
    >>> printable("line one\\r\\nline two\\rthree")
    'line one\\nline two\\nthree'
    >>> byline("ThinkProgress", "2017-08-01"), byline(None, "2017-08-01")
    ('ThinkProgress, 2017-08-01', '2017-08-01')
"""

from __future__ import annotations

import json
import re

# String commands (OSC, DCS, SOS, PM, APC) run to their terminator (BEL or ST); the body cannot hold another
# ESC or introducer, so the scan stays linear, and an unterminated one loses only its introducer (the rest is
# shown as plain text). CSI sequences run to their final byte; any other ESC sequence is ESC, intermediates
# and one final character.
_STRING_COMMAND = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9c-\x9f]*(?:\x07|\x1b\\|\x9c)"
_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
_OTHER_ESCAPE = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"  # every C0 and C1 character but \t, \n and \r; DEL
_UNSAFE = re.compile(f"{_STRING_COMMAND}|{_CSI}|{_OTHER_ESCAPE}|{_CONTROL}")
_CARRIAGE_RETURN = re.compile(r"\r\n?")
_JSON_RAW = re.compile(r"[\x7f-\x9f]")  # what json.dumps(ensure_ascii=False) leaves raw that a terminal obeys


def printable(text: str) -> str:
    """``text`` without escape sequences or control characters (newlines and tabs kept); safe to print."""
    return _UNSAFE.sub("", _CARRIAGE_RETURN.sub("\n", text))


def json_line(value: object) -> str:
    """``value`` as one line of JSON (non-ASCII text kept readable) with no raw control character in it."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def byline(source: str | None, published: str | None) -> str:
    """An article's source and day as shown after its title ("ThinkProgress, 2017-08-01"; "" when neither)."""
    return ", ".join(part for part in (source, published) if part)

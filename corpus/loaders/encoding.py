"""The text of a web page from its bytes: a byte-order mark, UTF-8, the page's own declaration, detection.

Pages come in every encoding, and most say which: ``<meta charset="windows-1252">``, ``<meta
http-equiv="Content-Type" content="text/html; charset=Shift_JIS">`` or ``<?xml ... encoding="...">``. In order:
1. a byte-order mark (UTF-8, UTF-16 LE/BE) wins, as in a browser;
2. bytes that are valid UTF-8 are UTF-8, whatever the page declares: legacy text with any letter beyond ASCII
   is almost never valid UTF-8, while pages saved as UTF-8 often keep an old ``iso-8859-1`` declaration;
3. the declaration in the page's head, its label read as browsers read it (the WHATWG encoding standard:
   ``iso-8859-1`` and ``us-ascii`` mean Windows-1252, ``Shift_JIS`` Windows-31J, ``gb2312`` GB18030, a
   ``utf-16`` label in an ASCII head UTF-8); a page mostly UTF-8 with a few stray bytes stays UTF-8 (one that
   says it is UTF-8 with fewer good characters: as many as bad bytes);
4. with no usable declaration, detection (``charset_normalizer``).
Undecodable bytes in a page that is otherwise right (one for each ``TOLERANCE`` good non-ASCII characters at
most; one for each with a byte-order mark or a UTF-8 declaration) become U+FFFD, as a browser shows them; what cannot be read as text in any encoding is refused with the reason, as is
a file with many NUL bytes (a stray NUL is dropped). The declaration is looked for up to ``</head>`` within
the first ``HEAD_BYTES`` bytes.

This is for HTML only: ``.txt``, ``.md`` and ``.jsonl`` stay strictly UTF-8 (``common.decode_text``).

Example:
    >>> decode_html(b'<meta charset="windows-1252"><p>\\x93Caf\\xe9\\x94 \\x80</p>')
    '<meta charset="windows-1252"><p>\\u201cCafé\\u201d €</p>'
"""

from __future__ import annotations

import codecs
import re

from corpus.loaders.common import Failure, invalid_utf8

TOLERANCE = 3  # a decoding is kept with 1 undecodable byte per 3 good non-ASCII characters at most
HEAD_BYTES = 65536  # a declaration is looked for this far into the page (browsers look 1,024 bytes; pages vary)

_META_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9._:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([a-z0-9._:-]+)""", re.IGNORECASE)
_END_OF_HEAD = re.compile(rb"</head\s*>|<body[\s>]", re.IGNORECASE)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# labels the browsers read differently from Python's codecs (WHATWG encoding standard, "Encodings" table)
_WHATWG = {
    **dict.fromkeys(
        ("ascii", "us-ascii", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819",
         "ibm819", "iso-ir-100", "ansi_x3.4-1968", "windows-1252", "cp1252", "x-cp1252"),
        "cp1252",
    ),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "windows-1254", "cp1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "ms932", "windows-31j", "csshiftjis"), "cp932"
    ),
    **dict.fromkeys(("gb2312", "gb_2312", "gb_2312-80", "gbk", "x-gbk", "chinese", "csgb2312", "gb18030"),
                    "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "windows-949", "cp949"), "cp949"),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "x-x-big5", "csbig5"), "big5hkscs"),
    # a UTF-16 label read from an ASCII-compatible head cannot be true: browsers read the page as UTF-8
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be"), "utf-8"),
}


def decode_html(data: bytes) -> str:
    """The page's text, decoded as a browser would; ``Failure`` when it is not text in any encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _mostly_decoded(data[len(bom):], encoding, tolerance=1)
            if text is None:
                raise Failure(f"not valid {encoding.upper()} (it starts with a {encoding.upper()} byte-order mark)")
            return _non_empty(text)
    if data.count(b"\x00") > len(data) // 100:  # a stray NUL is not a binary file; many are
        raise Failure("binary file, not text")
    data = data.replace(b"\x00", b"")
    try:
        return _non_empty(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    declared = declared_encoding(data)
    # UTF-8 but for a few stray bytes; else the page's own word (a page that says UTF-8 needs less evidence)
    for codec, tolerance in (("utf-8", 1 if declared == "utf-8" else TOLERANCE), (declared, TOLERANCE)):
        text = _mostly_decoded(data, codec, tolerance) if codec else None
        if text is not None:
            return _non_empty(text)
    detected = detect_encoding(data)
    if detected is None:
        reason = invalid_utf8(data, first_bad).reason
        also = f", nor valid {declared}" if declared else ", no charset declared"
        raise Failure(f"{reason}{also}, and its encoding could not be detected")
    return _non_empty(data.decode(detected, errors="replace"))


def declared_encoding(data: bytes) -> str | None:
    """The Python codec for the encoding the page declares in its head, or None (none, or one unknown)."""
    head = data[:HEAD_BYTES]
    end = _END_OF_HEAD.search(head)
    head = head[: end.start()] if end else head
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            codec = codec_for_label(match.group(1).decode("ascii"))
            if codec is not None:
                return codec
    return None


def codec_for_label(label: str) -> str | None:
    """The Python codec a browser would use for an encoding label (``"ISO-8859-1"`` -> ``"cp1252"``)."""
    label = label.strip().lower()
    if label in _WHATWG:
        return _WHATWG[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def detect_encoding(data: bytes) -> str | None:
    """The most likely encoding of undeclared, non-UTF-8 bytes (``charset_normalizer``), or None.

    Single-byte Latin encodings often tie (the same text reads as well in Windows-1250 as in Windows-1252):
    in a tie that Windows-1252 is part of, it is taken, the web's most common legacy encoding, as browsers do.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    tied = (m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence))
    if any("cp1252" in (m.encoding, *m.could_be_from_charset) for m in tied):
        return "cp1252"
    return codec_for_label(best.encoding) or best.encoding


def _non_empty(text: str) -> str:
    if not text.strip():
        raise Failure("empty file (only whitespace)")
    return text


def _mostly_decoded(data: bytes, codec: str, tolerance: int = TOLERANCE) -> str | None:
    """``data`` in ``codec`` when there are at least ``tolerance`` good non-ASCII characters for each byte that
    cannot be decoded (it becomes U+FFFD, as in a browser), else None: a page mostly wrong in an encoding is not
    in it. Legacy CJK text holds byte pairs that happen to be valid UTF-8: measured, 0.07 to 0.21 of them for
    each invalid byte (Shift_JIS, GB2312, GBK, Big5, EUC-KR), hence 3 for a page that does not say UTF-8."""
    try:
        text = data.decode(codec, errors="replace")
    except LookupError:
        return None
    bad = text.count("\ufffd") - (data.count(b"\xef\xbf\xbd") if codec == "utf-8" else 0)
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return text if non_ascii >= tolerance * bad else None

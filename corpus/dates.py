"""Publication dates: the forms articles, pages and feeds give them, read as an ISO date (``YYYY-MM-DD``).

``parse_date`` reads, whitespace aside:
- a ``datetime.date`` or ``datetime.datetime`` (YAML front matter gives those);
- ISO 8601: ``2017-08-01``, with a time and an offset (``2017-08-01T10:00:00+09:00``, ``...Z``), ``20170801``;
- RFC 2822 (RSS, e-mail): ``Tue, 01 Aug 2017 10:00:00 GMT``;
- ``YYYY/MM/DD``;
- English month names, day first or month first, a weekday and a time allowed: ``August 1, 2017``,
  ``Aug. 1st 2017``, ``1 Aug 2017``, ``Tuesday, 1 August 2017, 10:00 AM EDT``.
A date with a time is the day it names, in its own offset (never converted to UTC): the day the publisher
printed. Numeric day/month orders (``01/08/2017``) are refused as ambiguous, and anything else is refused
with a ``ValueError`` that quotes the value, so free text never passes for a date. An empty value is None
(no date).

``lenient_date`` is the same, None for what cannot be read: for what was stored before dates were parsed (an
index built earlier keeps the text its files gave) and for dates from web pages and feeds, which the user
cannot correct.

Example:
    >>> parse_date("Tue, 01 Aug 2017 10:00:00 GMT"), parse_date("August 1, 2017"), parse_date("1 Aug 2017")
    ('2017-08-01', '2017-08-01', '2017-08-01')
    >>> parse_date("2017-08-01T23:30:00-05:00")   # the publisher's day, not UTC's
    '2017-08-01'
    >>> lenient_date("next Tuesday") is None
    True
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

OTHER_FORMS = 'ISO 8601 with a time, RFC 2822 "Tue, 01 Aug 2017 10:00:00 GMT", "August 1, 2017", "1 Aug 2017"'
MAX_DATE_CHARS = 100  # longer is not a date; also keeps the quoted value in an error message short

_MONTHS = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")),
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[a-z]+)\.?"
_TIME = (r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?)?"  # a time of day, and its zone
         r"(?:\s*(?:[a-z]{1,5}|[+-]\d{2}:?\d{2}|utc[+-]\d{1,2}(?::?\d{2})?))?)?")
_NAMED = (
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+(?P<year>\d{{4}}){_TIME}", re.IGNORECASE),  # August 1, 2017
    re.compile(rf"{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}}){_TIME}", re.IGNORECASE),  # 1 Aug 2017
)
_SLASHED = re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})")
_AMBIGUOUS = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
_ISO_DAY = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")


def parse_date(value: object) -> str | None:
    """``value`` as ``YYYY-MM-DD``; None for None or an empty text; ``ValueError`` quoting it otherwise."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # before date: a datetime is a date too
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"a date must be text, got {type(value).__name__}")  # noqa: TRY004 (bad input, as a bad form)
    text = " ".join(value.split())
    if not text:
        return None
    if len(text) > MAX_DATE_CHARS:
        raise ValueError(f"not a date ({len(text)} characters of text); write it as YYYY-MM-DD")
    day = _read(text)
    if day is not None:
        return day.isoformat()
    if _AMBIGUOUS.fullmatch(text):
        raise ValueError(f"{text!r} is ambiguous (day and month could be either way round); write it as YYYY-MM-DD")
    raise ValueError(f"not a date: {text!r} (write it as YYYY-MM-DD; also read: {OTHER_FORMS})")


def lenient_date(value: object) -> str | None:
    """``parse_date(value)``, or None when it is not a date."""
    try:
        return parse_date(value)
    except ValueError:
        return None


def to_day(iso: str) -> dt.date:
    """A ``YYYY-MM-DD`` text (as ``parse_date`` gives) as a ``datetime.date``."""
    return dt.date.fromisoformat(iso)


def _read(text: str) -> dt.date | None:
    """The date ``text`` names, or None when it is in none of the forms; ``ValueError`` for a form whose day,
    month or year is out of range (``2017-02-30``)."""
    if text[:1].isdigit() and not _AMBIGUOUS.fullmatch(text):
        try:  # ISO 8601 (Python 3.11 reads the full grammar: offsets, "Z", fractions, basic form)
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            if match := _ISO_DAY.match(text):  # "2017-02-30": say what is wrong with it, not how to write it
                _day(int(match["year"]), int(match["month"]), int(match["day"]), text)
    if match := _SLASHED.fullmatch(text):
        return _day(int(match["year"]), int(match["month"]), int(match["day"]), text)
    try:  # RFC 2822: a weekday is optional; the zone may be a name, an offset or missing
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    for pattern in _NAMED:
        if (match := pattern.fullmatch(text)) and match["month"].lower() in _MONTHS:
            return _day(int(match["year"]), _MONTHS[match["month"].lower()], int(match["day"]), text)
    return None


def _day(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} ({exc})") from None

"""Typed options of a command, made from argparse's namespace in one place.

Every command declares a frozen dataclass; each field is read from the argparse attribute of the same name,
except ``index_dir``, resolved from ``--index`` / ``$QA_INDEX`` (``cli.paths``). ``search``, ``ask`` and ``eval``
share the article filters (``add_filter_options``: ``--source``, ``--since``, ``--until``; ``filters_of``).

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     k: int = 5
    >>> options_from(Demo, argparse.Namespace(k=3, command="demo"))
    Demo(k=3)
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from cli.paths import index_dir
from qa.filters import ArticleFilter

FILTER_NAMES = ("--source", "--since", "--until")


def options_from(cls: type, ns: argparse.Namespace):
    """An instance of the dataclass ``cls`` with the values parsed into ``ns``."""
    values = {f.name: index_dir(ns.index) if f.name == "index_dir" else getattr(ns, f.name) for f in fields(cls)}
    return cls(**values)


def add_index_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--index DIR`` (read into an options dataclass as ``index_dir: Path``)."""
    parser.add_argument("--index", help="index directory (default: $QA_INDEX or .qa-index)")
    return parser


def add_filter_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--source NAME`` (repeatable), ``--since``/``--until YYYY-MM-DD``: read into ``source``, ``since``, ``until``."""
    parser.add_argument("--source", action="append", metavar="NAME",
                        help="only articles from this source (repeatable: any of them; case-insensitive, exact)")
    parser.add_argument("--since", metavar="YYYY-MM-DD",
                        help="only articles published on or after this day (articles without a date are left out)")
    parser.add_argument("--until", metavar="YYYY-MM-DD",
                        help="only articles published on or before this day (articles without a date are left out)")
    return parser


def filters_of(options) -> ArticleFilter | None:
    """The filter an options dataclass with ``source``, ``since`` and ``until`` asks for (None: no filter);
    ``ValueError`` naming the option for a bad date ("--since must be a date as YYYY-MM-DD (got ...)")."""
    chosen = ArticleFilter.parse(options.source, options.since, options.until, names=FILTER_NAMES)
    return chosen if chosen.active else None

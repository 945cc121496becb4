"""Typed options of a command, made from argparse's namespace in one place.

Every command declares a frozen dataclass; each field is read from the argparse attribute of the same name,
except ``index_dir``, resolved from ``--index`` / ``$QA_INDEX`` (``cli.paths``).

Example:
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


def options_from(cls: type, ns: argparse.Namespace):
    """An instance of the dataclass ``cls`` with the values parsed into ``ns``."""
    values = {f.name: index_dir(ns.index) if f.name == "index_dir" else getattr(ns, f.name) for f in fields(cls)}
    return cls(**values)


def add_index_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--index DIR`` (read into an options dataclass as ``index_dir: Path``)."""
    parser.add_argument("--index", help="index directory (default: $QA_INDEX or .qa-index)")
    return parser

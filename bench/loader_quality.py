"""HTML loader quality on saved real news pages: text kept, boilerplate dropped, pages refused.

The pages are in ``tests/corpus/pages/`` (where they come from: ``PROVENANCE.md`` there), each with a
``<page>.expect.json`` beside it: ``keep``, snippets of the article that must be in the loaded text, and
``drop``, snippets of the page's boilerplate (menus, related stories, comments, newsletter and cookie notices,
footers) that must not. A snippet counts as found when it is a substring of the text, both with Unicode
compatibility forms (NFKC) and whitespace runs folded.

Scores, over all snippets of all pages:
  - kept: the share of ``keep`` snippets found (kept-text recall);
  - dropped: the share of ``drop`` snippets not found (boilerplate precision);
  - F1: their harmonic mean;
  - precision: found ``keep`` / (found ``keep`` + found ``drop``), as trafilatura's own evaluation scores it;
  - refused: pages that gave no text at all (their ``keep`` snippets are missed, their ``drop`` ones absent);
  - ms/page: the mean time to get the text from the file's bytes.
When an extractor refuses pages, a second table scores every extractor on the pages that all of them read.

Extractors, in one run on the same bytes:
  - ``this loader``: ``corpus.loaders.html.load_html`` (decoding by ``corpus.loaders.encoding``, trafilatura
    with ``corpus.loaders.html.EXTRACTION``);
  - ``old extractor``: the hand-written BeautifulSoup extractor this loader replaced (``git show
    26cf13d:corpus/loaders/html.py``), rebuilt below as ``old_html_to_text``, with the strict UTF-8 decoding it
    used (needs ``beautifulsoup4``; the row is skipped without it);
  - ``trafilatura extract()``: ``trafilatura.extract`` with its defaults on the raw bytes (its own decoding);
  - with ``--variants``: this loader with trafilatura's balanced and recall-favouring settings.

Example:
    $ .venv/bin/python -m bench.loader_quality
    $ .venv/bin/python -m bench.loader_quality --variants --pages tests/corpus/pages --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.loaders.common import Failure, clean, decode_text

PAGES = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "pages"

Extractor = Callable[[Path, bytes], str]  # the text, "" (or Failure) for none


@dataclass
class Case:
    page: Path
    keep: list[str]
    drop: list[str]


@dataclass
class Score:
    name: str
    kept: int = 0  # keep snippets found
    keep_total: int = 0
    leaked: int = 0  # drop snippets found
    drop_total: int = 0
    refused: list[str] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    missed: dict[str, list[str]] = field(default_factory=dict)
    leaks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.kept / self.keep_total if self.keep_total else 0.0

    @property
    def dropped(self) -> float:
        return 1 - self.leaked / self.drop_total if self.drop_total else 1.0

    @property
    def f1(self) -> float:
        r, p = self.recall, self.dropped
        return 2 * r * p / (r + p) if r + p else 0.0

    @property
    def precision(self) -> float:
        found = self.kept + self.leaked
        return self.kept / found if found else 0.0

    def row(self) -> dict:
        return {
            "extractor": self.name, "pages": self.pages, "refused": len(self.refused),
            "kept": round(self.recall, 3), "dropped": round(self.dropped, 3), "f1": round(self.f1, 3),
            "precision": round(self.precision, 3), "ms_per_page": round(1000 * self.seconds / max(self.pages, 1), 1),
        }


def folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def load_cases(folder: Path = PAGES) -> list[Case]:
    cases = []
    for expect in sorted(folder.glob("*.expect.json")):
        entry = json.loads(expect.read_text(encoding="utf-8"))
        cases.append(Case(folder / entry["page"], entry["keep"], entry["drop"]))
    return cases


def score(name: str, extract: Extractor, cases: list[Case]) -> Score:
    result = Score(name)
    try:  # once untimed: imports and first-use set-up are not a page's time
        extract(cases[0].page, cases[0].page.read_bytes())
    except Failure:
        pass
    for case in cases:
        data = case.page.read_bytes()
        started = time.perf_counter()
        try:
            text = extract(case.page, data) or ""
        except Failure:
            text = ""
        result.seconds += time.perf_counter() - started
        result.pages += 1
        if not text.strip():
            result.refused.append(case.page.name)
        body = folded(text)
        missed = [s for s in case.keep if folded(s) not in body]
        leaks = [s for s in case.drop if folded(s) in body]
        result.kept += len(case.keep) - len(missed)
        result.keep_total += len(case.keep)
        result.leaked += len(leaks)
        result.drop_total += len(case.drop)
        if missed:
            result.missed[case.page.name] = missed
        if leaks:
            result.leaks[case.page.name] = leaks
    return result


# ------------------------------------------------------------------------------------------- extractors


def this_loader(path: Path, data: bytes) -> str:
    from corpus.loaders.html import load_html

    return load_html(path, data).text


def this_loader_with(**options) -> Extractor:
    def extract(path: Path, data: bytes) -> str:
        from corpus.loaders.encoding import decode_html
        from corpus.loaders.html import EXTRACTION, html_to_text

        return html_to_text(decode_html(data), {**EXTRACTION, **options})[0]

    return extract


def trafilatura_defaults(path: Path, data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(data) or ""


def old_extractor(path: Path, data: bytes) -> str:
    return old_html_to_text(decode_text(data))[0]


# The loader's HTML extractor before trafilatura (commit 26cf13d, corpus/loaders/html.py), kept as the baseline.
_OLD_DROP_TAGS = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe",
    "template", "button", "select", "head",
)
_OLD_BLOCK_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li blockquote pre div section article main ul ol dl dt dd table thead tbody "
    "tfoot tr td th caption figure figcaption address details summary hr br".split()
)


def old_html_to_text(html: str) -> tuple[str, dict[str, str | None]]:
    """The old extractor: ``<article>``, else ``<main>``, else ``<body>``, minus a few tags, block by block."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    for tag in soup.find_all(_OLD_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.find("body") or soup
    paragraphs: list[list[str]] = [[]]
    _old_collect_blocks(root, paragraphs)
    texts = [" ".join("".join(parts).split()) for parts in paragraphs]
    return "\n\n".join(t for t in texts if t), {"title": clean(title_tag.get_text(" ")) if title_tag else None}


def _old_collect_blocks(root, paragraphs: list[list[str]]) -> None:
    from bs4 import NavigableString, Tag

    stack = [(iter(root.children), False)]
    while stack:
        children, is_block = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if is_block:
                paragraphs.append([])
        elif type(child) is NavigableString:
            paragraphs[-1].append(str(child))
        elif isinstance(child, Tag):
            block = child.name in _OLD_BLOCK_TAGS
            if block:
                paragraphs.append([])
            stack.append((iter(child.children), block))


def extractors(variants: bool) -> list[tuple[str, Extractor]]:
    chosen: list[tuple[str, Extractor]] = [("this loader", this_loader)]
    if variants:
        chosen += [
            ("this loader, balanced", this_loader_with(favor_precision=False)),
            ("this loader, favor_recall", this_loader_with(favor_precision=False, favor_recall=True)),
        ]
    try:
        import bs4  # noqa: F401
    except ImportError:
        print("old extractor: skipped (it needs beautifulsoup4: pip install beautifulsoup4)", file=sys.stderr)
    else:
        chosen.append(("old extractor", old_extractor))
    chosen.append(("trafilatura extract()", trafilatura_defaults))
    return chosen


def table(scores: list[Score]) -> str:
    lines = [
        "| extractor | pages | refused | kept (recall) | boilerplate dropped | F1 | precision | ms/page |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        r = s.row()
        lines.append(
            f"| {r['extractor']} | {r['pages']} | {r['refused']} | {r['kept']:.3f} | {r['dropped']:.3f} "
            f"| {r['f1']:.3f} | {r['precision']:.3f} | {r['ms_per_page']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.loader_quality", description=__doc__.split("\n")[0])
    p.add_argument("--pages", type=Path, default=PAGES, help="folder of pages and their .expect.json")
    p.add_argument("--variants", action="store_true", help="also this loader with other trafilatura settings")
    p.add_argument("--details", action="store_true", help="list the missed and leaked snippets")
    p.add_argument("--json", type=Path, help="write the scores (and every miss and leak) here")
    args = p.parse_args(argv)
    cases = load_cases(args.pages)
    if not cases:
        print(f"no *.expect.json in {args.pages}", file=sys.stderr)
        return 2
    chosen = extractors(args.variants)
    scores = [score(name, extract, cases) for name, extract in chosen]
    print(table(scores))
    print(f"\n{len(cases)} pages, {sum(len(c.keep) for c in cases)} snippets to keep, "
          f"{sum(len(c.drop) for c in cases)} to drop")
    refused = {page for s in scores for page in s.refused}
    read_by_all = [c for c in cases if c.page.name not in refused]
    if refused and read_by_all:
        print(f"\nOn the {len(read_by_all)} pages that every extractor read:")
        print(table([score(s.name, extract, read_by_all) for s, (_, extract) in zip(scores, chosen, strict=True)]))
    for s in scores:
        if s.refused:
            print(f"{s.name}: refused {', '.join(s.refused)}")
        if args.details:
            for page, missed in s.missed.items():
                print(f"{s.name}: {page}: missed {missed}")
            for page, leaks in s.leaks.items():
                print(f"{s.name}: {page}: kept boilerplate {leaks}")
    if args.json:
        rows = [s.row() | {"refused_pages": s.refused, "missed": s.missed, "leaked": s.leaks} for s in scores]
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

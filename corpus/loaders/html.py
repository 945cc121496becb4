"""HTML (.html/.htm): a saved web page's main text and metadata, through trafilatura.

The bytes are decoded as a browser would (``encoding.decode_html``: byte-order mark, UTF-8, the page's
``<meta charset>``/``http-equiv`` declaration, detection), so a Windows-1252, Latin-1 or Shift-JIS page loads.
trafilatura (``bare_extraction``) then finds the article: navigation, cookie banners, "related stories",
share bars, comments and footers are left out (and, before it looks, menus and elements marked ``hidden``). Each block it keeps (a paragraph, a heading, a list item, a
table row) becomes one paragraph of the article's text, paragraphs separated by a blank line, so the chunker
can keep sentences and paragraphs whole. The settings (``EXTRACTION``) were chosen on real pages with
``python -m bench.loader_quality``.

Metadata, as trafilatura reads it (meta tags, JSON-LD, the page's markup): the title (og:title and the like,
else the ``<title>``; the site's name before or after it is taken off; else a headline from the text), the
site name as ``source`` (none when it is only the title again), the publication date as an ISO date (``YYYY-MM-DD``; the original date, not the last change, and
only from the page's markup, never guessed from stray numbers in its text) and the canonical URL. A sidecar
``<name>.meta.json`` still overrides any of them. The author is read by trafilatura but not kept: an Article
has no field for it.

Nothing is fetched: trafilatura is given the page's text, never a URL, and its date search is given the parsed
page.

Example:
    >>> html_to_text("<html><title>T | Site</title><body><article><p>One.</p><p>Two.</p></article></body></html>")
    ('One.\\n\\nTwo.', {'title': 'T', 'source': None, 'published': None, 'url': None})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from corpus.article import Article
from corpus.dates import lenient_date
from corpus.loaders.common import Failure, clean
from corpus.loaders.encoding import decode_html
from corpus.loaders.titles import title_for

EXTRACTION = {
    "include_comments": False,  # readers' comments are not the article
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "favor_precision": True,  # measured: fewer kept boilerplate snippets at no cost in kept text
    "with_metadata": True,
    "deduplicate": False,  # True keeps a process-wide cache: the same page loaded again would come out empty
}
PRUNE = (
    "//*[@hidden]",  # not shown by a browser (closed dialogs, templates of banners)
    "//nav",  # menus: trafilatura drops them from an article, but its fallback for a page with little text
              # would keep them
)
_BLOCKS = frozenset(("body", "div", "p", "head", "quote", "list", "item", "table", "row", "code", "graphic"))
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " » ", " · ", ": ")
_HTML_TAG = re.compile(r"<html[\s>]", re.IGNORECASE)


def html_to_text(html: str, extraction: Mapping[str, object] = EXTRACTION) -> tuple[str, dict[str, str | None]]:
    """The main text of an HTML page (paragraphs separated by a blank line) and its metadata.

    The text is empty when the page has no main text; the metadata's keys are those of a sidecar
    (``title``, ``source``, ``published``, ``url``), each None when the page does not give it.
    ``extraction``: trafilatura's options (the benchmark tries others).
    """
    from trafilatura import bare_extraction

    document = bare_extraction(
        _whole_page(html), date_extraction_params=_date_params(), prune_xpath=list(PRUNE), **extraction
    )
    if document is None:
        return "", dict.fromkeys(("title", "source", "published", "url"))
    title, source = clean(document.title or ""), clean(document.sitename or "")
    if title and source == title:  # a page without a site name: trafilatura falls back on the title
        source = None
    meta = {
        "title": without_site_name(title, source),
        "source": source,
        # trafilatura gives YYYY-MM-DD (outputformat below); checked all the same, as a page is not ours to fix
        "published": lenient_date(document.date),
        "url": clean(document.url or ""),
    }
    body = document.body
    return ("" if body is None else "\n\n".join(block_texts(body))), meta


def load_html(path: Path, data: bytes) -> Article:
    text, meta = html_to_text(decode_html(data))
    if not text.strip():
        raise Failure("no text found in the HTML (only markup, scripts or navigation)")
    title = meta.pop("title") or title_for(text)
    return Article.from_text(text, title=title, path=str(path), **meta)


def block_texts(body) -> list[str]:
    """The paragraphs of trafilatura's XML body: one per block (a paragraph, a heading, a quote, a list item,
    a table row, a piece of code) and a new one at each line break, whitespace runs collapsed; the cells
    of a row are joined by " | ". Iterative, so a deeply nested page cannot reach the recursion limit."""
    from lxml import etree

    paragraphs: list[str] = []
    parts: list[str] = []

    def end_paragraph() -> None:
        line = " ".join("".join(parts).split())
        if line:
            paragraphs.append(line)
        parts.clear()

    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag in _BLOCKS or tag == "lb":
                end_paragraph()
            elif tag == "cell" and "".join(parts).strip():
                parts.append(" | ")
            parts.append(element.text or "")
        else:
            if tag in _BLOCKS:
                end_paragraph()
            if element is not body:
                parts.append(element.tail or "")
    end_paragraph()
    return paragraphs


def without_site_name(title: str | None, site: str | None) -> str | None:
    """The title without the site's name before or after it ("Story | Site" -> "Story")."""
    if not title or not site:
        return title
    for separator in _TITLE_SEPARATORS:
        if title.endswith(separator + site):
            return title[: -len(separator + site)].strip() or title
        if title.startswith(site + separator):
            return title[len(site + separator):].strip() or title
    return title


def _whole_page(html: str) -> str:
    """A fragment (``<p>x</p>`` with no ``<html>``) wrapped as a page: trafilatura refuses a lone block."""
    return html if _HTML_TAG.search(html[:4096]) else f"<html>{html}</html>"


def _date_params() -> dict:
    return {
        "original_date": True,  # the publication date, not the last modification
        "extensive_search": False,  # markup only: no date guessed from numbers in the text or in links
        "outputformat": "%Y-%m-%d",
        "max_date": datetime.now().astimezone().strftime("%Y-%m-%d"),
    }

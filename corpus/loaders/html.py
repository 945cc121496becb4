"""HTML (.html/.htm): the page's main text, paragraph by paragraph, and its metadata from meta tags.

Scripts, navigation, headers, footers, forms and hidden elements are dropped; the text comes from
``<article>``, else ``<main>``, else ``<body>``. Titles prefer og:title, then the first ``<h1>``, then
``<title>`` (which usually carries a " | Site name" suffix).

Example:
    >>> html_to_text("<title>T</title><p>One.</p><p>Two.</p>")   # doctest: +SKIP
    ('One.\\n\\nTwo.', {'title': 'T', 'source': None, 'published': None, 'url': None})
"""

from __future__ import annotations

from pathlib import Path

from corpus.article import Article
from corpus.loaders.common import Failure, clean, decode_text
from corpus.loaders.titles import title_for

_DROP_TAGS = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe",
    "template", "button", "select", "head",
)
_BLOCK_TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 li blockquote pre div section article main ul ol dl dt dd table thead tbody "
    "tfoot tr td th caption figure figcaption address details summary hr br".split()
)


def html_to_text(html: str) -> tuple[str, dict[str, str | None]]:
    """The main text of an HTML page (paragraphs separated by a blank line) and its metadata."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    meta = _html_meta(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.find("body") or soup
    paragraphs: list[list[str]] = [[]]
    _collect_blocks(root, paragraphs)
    texts = [" ".join("".join(parts).split()) for parts in paragraphs]
    text = "\n\n".join(t for t in texts if t)
    if meta["title"] is None:
        h1 = root.find("h1") or soup.find("h1")
        meta["title"] = clean(h1.get_text(" ")) if h1 else None
    page_title = meta.pop("page_title")
    meta["title"] = meta["title"] or page_title
    return text, meta


def load_html(path: Path, data: bytes) -> Article:
    text, meta = html_to_text(decode_text(data))
    if not text.strip():
        raise Failure("no text found in the HTML (only markup, scripts or navigation)")
    title = meta.pop("title") or title_for(text)
    return Article.from_text(text, title=title, path=str(path), **meta)


def _collect_blocks(root, paragraphs: list[list[str]]) -> None:
    """Append text to the current paragraph; every block element starts and ends a paragraph.

    Iterative, not recursive: a deeply nested page must not hit Python's recursion limit.
    """
    from bs4 import NavigableString, Tag

    stack = [(iter(root.children), False)]
    while stack:
        children, is_block = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if is_block:
                paragraphs.append([])
        elif type(child) is NavigableString:  # subclasses are comments, doctypes, CDATA: not prose
            paragraphs[-1].append(str(child))
        elif isinstance(child, Tag):
            block = child.name in _BLOCK_TAGS
            if block:
                paragraphs.append([])
            stack.append((iter(child.children), block))


def _html_meta(soup) -> dict[str, str | None]:
    def meta_content(*keys: str) -> str | None:
        for key in keys:
            tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
            if tag and clean(tag.get("content", "")):
                return clean(tag["content"])
        return None

    time_tag = soup.find("time", attrs={"datetime": True})
    canonical = soup.find("link", attrs={"rel": "canonical", "href": True})
    title_tag = soup.find("title")
    return {
        # og:title is the cleanest; <title> usually carries a " | Site name" suffix, so it comes last
        "title": meta_content("og:title", "twitter:title"),
        "page_title": clean(title_tag.get_text(" ")) if title_tag else None,
        "source": meta_content("og:site_name"),
        "published": meta_content("article:published_time", "datePublished")
        or (clean(time_tag["datetime"]) if time_tag else None),
        "url": meta_content("og:url") or (clean(canonical["href"]) if canonical else None),
    }

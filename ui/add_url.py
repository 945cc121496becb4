"""The chat's "add a URL" controls: a box for one or more article URLs (or feeds) and an "Add" button, beside
the upload. The pages are fetched by the server (``ChatService.add_urls``), so addresses on the server's own
machine or network are refused unless ``qa chat --allow-private-urls`` was given.

Example:
    >>> split_urls("https://a.example/1 , https://a.example/2\\nhttps://a.example/3")
    ['https://a.example/1', 'https://a.example/2', 'https://a.example/3']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from ui import render
from ui.service import MAX_URLS, ChatService


@dataclass(frozen=True)
class UrlControls:
    urls: gr.Textbox
    as_feed: gr.Checkbox
    add: gr.Button


def split_urls(text: str | None) -> list[str]:
    """The URLs typed in the box: separated by white space or commas, each once, in order."""
    return list(dict.fromkeys(u for u in re.split(r"[\s,]+", text or "") if u))


def url_controls() -> UrlControls:
    """The box, the feed switch and the button (inside the caller's layout)."""
    with gr.Row(equal_height=True):
        urls = gr.Textbox(label="Or add article URLs", placeholder="https://… (one or more)", lines=1, max_lines=4,
                          scale=4, elem_id="qa-add-urls", info=f"pages are fetched by the server; at most {MAX_URLS} at once")
        add = gr.Button("Add", variant="secondary", scale=1, min_width=70, elem_id="qa-add-url")
    as_feed = gr.Checkbox(False, label="These are RSS/Atom feeds: add their new articles", elem_id="qa-add-feed")
    return UrlControls(urls, as_feed, add)


def add_urls(service: ChatService, text: str | None, as_feed: bool) -> tuple[str, str]:
    """Fetch and index what was typed: (the report's HTML, what the box keeps: the URLs that failed)."""
    urls = split_urls(text)
    if not urls:
        return render.render_upload_report([]), ""
    result = service.add_urls([] if as_feed else urls, urls if as_feed else [])
    failed = [line.name for line in result.lines if not line.ok and line.name in urls]
    return render.render_upload_report(result.lines), "\n".join(failed)


def wire(service: ChatService, controls: UrlControls, report: gr.HTML, refreshed: list, refresh: Callable[[], tuple]) -> None:
    """On "Add" (or Enter in the box): fetch, index, report; ``refresh()`` gives the new values of ``refreshed``
    (the article list, the header, the source list)."""

    def handle(text, as_feed):
        html, left = add_urls(service, text, bool(as_feed))
        return (html, left, *refresh())

    outputs = [report, controls.urls, *refreshed]
    controls.add.click(handle, [controls.urls, controls.as_feed], outputs, api_name=False)
    controls.urls.submit(handle, [controls.urls, controls.as_feed], outputs, api_name=False)

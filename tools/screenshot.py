"""Take docs/screenshot.png: start the chat app, ask a real question in the real browser, photograph it.

The picture is generated, never hand-made: an index of the default corpus is built in a temporary folder
(or ``--index DIR`` is used), the app runs on a free loopback port, Debian's chromium (Playwright) asks a
question from the default gold set, opens the first citation and saves a PNG.

Example:
    $ .venv/bin/python -m tools.screenshot                     # -> docs/screenshot.png
    $ .venv/bin/python -m tools.screenshot --out /tmp/chat.png --question "Who is Melanie Hart?"
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from index.offline import use_offline_defaults

DOCS = Path(__file__).resolve().parents[1] / "docs"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
QUESTION = "Who is the director of China Policy at the Center for American Progress?"
FOLLOWUP = "What did she call Trump’s decision to use Taiwan to pressure China?"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DOCS / "screenshot.png"))
    p.add_argument("--index", help="an existing index directory (default: build one from the default corpus in a temp dir)")
    p.add_argument("--question", default=QUESTION)
    p.add_argument("--followup", default=FOLLOWUP, help="a second, follow-up question ('' for none)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--width", type=int, default=1440)
    p.add_argument("--height", type=int, default=1140)
    args = p.parse_args(argv)
    use_offline_defaults()  # before the app below imports gradio

    from playwright.sync_api import sync_playwright

    from corpus.defaults import DEFAULT_ARTICLES_DIR
    from index.lifecycle import ensure_index
    from index.store import IndexConfig
    from ui.app import create_app, load_service, serve_in_thread

    with tempfile.TemporaryDirectory(prefix="qa-shot-") as tmp:
        index_dir = Path(args.index) if args.index else Path(tmp) / "index"
        if not args.index:
            ensure_index([DEFAULT_ARTICLES_DIR], index_dir, IndexConfig(), progress=False)
        service = load_service(index_dir, uploads_dir=Path(tmp) / "uploads")
        server = serve_in_thread(create_app(service))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": args.height}, device_scale_factor=1)
                page.set_default_timeout(120_000)
                page.goto(server.url)
                page.wait_for_selector("#qa-question textarea")
                for question in [q for q in (args.question, args.followup) if q]:
                    before = page.locator("#qa-chat .qa-reply").count()
                    page.fill("#qa-question textarea", question)
                    page.click("#qa-ask")
                    page.wait_for_function("n => document.querySelectorAll('#qa-chat .qa-reply').length > n", arg=before)
                last = page.locator("#qa-chat .qa-reply").last
                ref = last.locator(".qa-ref")  # the citation that holds the answer, else the first
                n = ref.inner_text().strip("[] ") if ref.count() else "1"
                last.locator("details.qa-cite summary").nth(int(n) - 1).click()
                page.evaluate("() => document.activeElement && document.activeElement.blur()")
                page.wait_for_timeout(300)
                # the chat shows the last question at the top of its panel, its reply below
                page.evaluate(
                    "() => { const log = document.querySelector('#qa-chat [role=log]');"
                    " const qs = document.querySelectorAll('#qa-chat .qa-question');"
                    " if (log && qs.length) { const q = qs[qs.length - 1].closest('.message-row') || qs[qs.length - 1];"
                    " log.scrollTop += q.getBoundingClientRect().top - log.getBoundingClientRect().top - 8; } }"
                )
                page.wait_for_timeout(400)
                out = Path(args.out)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=False)
                browser.close()
        finally:
            server.stop()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The chat in the real browser: Debian's chromium driven by Playwright (never `playwright install`).

One app for the module (conftest.live). Every page records every request it makes; a request to anything but
the app's own loopback address is blocked and reported by the last test.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
GOLD_QUESTION = "Who is the Chinese foreign ministry spokesman who criticized the “China responsibility theory”?"
TIMEOUT_MS = 90_000
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

NEW_ARTICLE = (
    "Zorblatt harbour opens after ten years\n\n"
    "The new harbour of Zorblatt was opened on Monday by the town's mayor, Elspeth Quarrington. "
    "The harbour cost 40 million euros and can hold two hundred fishing boats.\n\n"
    "Quarrington said the harbour would bring back the fishing fleet that left the town in 1998.\n"
)
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
HOSTILE_ARTICLE = (
    f"Harbour {SCRIPT} {IMG} vote\n\n"
    f"The Qwertyville council approved the lighthouse plan on Friday. {SCRIPT} "
    f"The plan was signed by councillor Ottilie Brandvold. {IMG}\n"
)

REQUESTS: list[str] = []


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (run `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(viewport={"width": 1366, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    own = urlparse(live.url)

    def route(r):
        url = r.request.url
        REQUESTS.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob") or (parsed.hostname in LOOPBACK and parsed.port == own.port):
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.on("websocket", lambda ws: REQUESTS.append(ws.url))
    page.goto(live.url)
    page.wait_for_selector("#qa-question textarea")
    yield page
    context.close()


def ask(page, question: str):
    """Type a question, send it, and return the reply bubble once it is there."""
    before = page.locator("#qa-chat .qa-reply").count()
    page.fill("#qa-question textarea", question)
    page.click("#qa-ask")
    page.wait_for_function(
        "n => document.querySelectorAll('#qa-chat .qa-reply').length > n", arg=before, timeout=TIMEOUT_MS
    )
    return page.locator("#qa-chat .qa-reply").last


def upload(page, name: str, data: bytes, mime: str = "text/plain"):
    before = page.locator("#qa-upload-report li").count()
    page.set_input_files("#qa-upload input[type=file]", files=[{"name": name, "mimeType": mime, "buffer": data}])
    page.wait_for_function(
        "n => document.querySelectorAll('#qa-upload-report li').length > n", arg=before, timeout=TIMEOUT_MS
    )
    return page.locator("#qa-upload-report li").last


def test_answer_with_marked_sentence_and_citations(page):
    reply = ask(page, GOLD_QUESTION)
    assert "Geng Shuang" in reply.locator(".qa-answer strong").inner_text()
    if reply.locator(".qa-sentence").count():  # shown when the answer is shorter than its sentence
        assert "Geng Shuang" in reply.locator(".qa-sentence mark").inner_text()
    assert re.search(r"confidence \d+%", reply.locator(".qa-meta").first.inner_text())
    summaries = reply.locator("details.qa-cite summary")
    assert summaries.count() == 5
    first = summaries.first.inner_text()
    assert first.startswith("[1]") and "chars" in first and "Trump" in first
    # the user's question is shown as typed
    assert page.locator("#qa-chat .qa-question").last.inner_text() == GOLD_QUESTION


def test_opening_a_citation_shows_the_passage_with_the_answer_marked(page):
    reply = ask(page, GOLD_QUESTION)
    cite = reply.locator("details.qa-cite").first
    passage = cite.locator(".qa-passage")
    assert not passage.is_visible()
    cite.locator("summary").click()
    passage.wait_for(state="visible")
    assert "Geng Shuang" in passage.locator("mark").first.inner_text()
    assert "foreign ministry spokesman" in passage.inner_text()


def test_settings_change_mode_and_passages(page):
    page.locator("#qa-mode label", has_text="bm25").click()
    slider = page.locator("#qa-k input[type=number]")
    slider.fill("2")
    slider.press("Enter")
    reply = ask(page, GOLD_QUESTION)
    assert "bm25" in reply.locator(".qa-meta").first.inner_text()
    assert reply.locator("details.qa-cite").count() == 2


def test_upload_an_article_and_ask_about_it_at_once(page, live, tmp_path):
    path = tmp_path / "zorblatt.txt"
    path.write_text(NEW_ARTICLE, encoding="utf-8")
    page.set_input_files("#qa-upload input[type=file]", str(path))
    page.wait_for_selector("#qa-upload-report .qa-ok")
    report = page.locator("#qa-upload-report").inner_text()
    assert "zorblatt.txt" in report and "added" in report
    assert "Zorblatt harbour opens after ten years" in page.locator("#qa-articles").inner_text()
    assert (live.work / "uploads" / "zorblatt.txt").exists()
    # (the shipped reader, at its SQuAD v2.0-calibrated threshold, abstains on "Who opened the new harbour?":
    # its probability is split between "Elspeth Quarrington" and "mayor, Elspeth Quarrington"; README, Figures)
    reply = ask(page, "How much did the Zorblatt harbour cost?")
    assert "40 million euros" in reply.locator(".qa-answer").inner_text()
    assert "Zorblatt harbour opens after ten years" in reply.locator("summary").first.inner_text()
    page.reload()  # a new visit lists the uploaded article too (the list is refreshed on page load)
    expect(page.locator("#qa-articles")).to_contain_text("Zorblatt harbour opens after ten years", timeout=TIMEOUT_MS)
    expect(page.locator("#qa-header")).to_contain_text("3 articles", timeout=TIMEOUT_MS)


def test_clicking_an_example_question_asks_it(page):
    examples = page.locator("#qa-examples button")
    assert examples.count() >= 3
    before = page.locator("#qa-chat .qa-reply").count()
    examples.first.click()
    page.wait_for_function("n => document.querySelectorAll('#qa-chat .qa-reply').length > n", arg=before)
    assert "Chinese foreign ministry spokesman" in page.locator("#qa-chat .qa-question").last.inner_text()
    assert "Geng Shuang" in page.locator("#qa-chat .qa-reply").last.locator(".qa-answer").inner_text()


def test_an_unreadable_upload_gets_a_clear_message(page):
    line = upload(page, "broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")
    text = line.inner_text()
    assert "broken.pdf" in text and "cannot be read" in text
    assert "qa-bad" in (line.get_attribute("class") or "")


def test_followup_question_uses_the_previous_turn(page):
    ask(page, GOLD_QUESTION)
    reply = ask(page, "Who is he?")
    assert "follow-up" in reply.locator(".qa-followup").inner_text()
    top = reply.locator("details.qa-cite").first
    top.locator("summary").click()
    assert "Geng Shuang" in top.locator(".qa-passage").inner_text()
    # after clearing, the same words are a first question again: no follow-up
    page.click("#qa-clear")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-reply').length === 0")
    reply = ask(page, "Who is he?")
    assert reply.locator(".qa-followup").count() == 0


def test_markup_in_articles_titles_file_names_and_questions_is_shown_as_text(page):
    page.evaluate("() => { delete window.__pwned; }")
    line = upload(page, f'{IMG}.txt', HOSTILE_ARTICLE.encode("utf-8"))
    assert "added" in line.inner_text()
    reply = ask(page, "What did the Qwertyville council approve on Friday?")
    reply.locator("details.qa-cite summary").first.click()
    shown = reply.inner_text()
    title = f"Harbour {SCRIPT} {IMG} vote"
    assert title in reply.locator(".qa-title").first.inner_text()
    assert SCRIPT in shown and IMG in shown  # the passage, literally
    assert title in page.locator("#qa-articles").inner_text()
    question = f"What about {IMG} and {SCRIPT}?"
    ask(page, question)
    assert page.locator("#qa-chat .qa-question").last.inner_text() == question
    page.wait_for_timeout(500)  # give any injected handler a chance to run
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert page.locator("#qa-chat script, #qa-articles script, #qa-upload-report script").count() == 0
    assert page.locator("img[src='x']").count() == 0


def test_an_abstained_reply_offers_the_best_guess_collapsed(page, live):
    """Above every confidence the answerer abstains: the reply says so, and the reader's best span waits behind a
    labelled, closed <details> (issue 13), never marked in a passage."""
    from dataclasses import replace

    original = live.service.answerer
    live.service.answerer = replace(original, config=replace(original.config, abstain_threshold=1.01))
    try:
        reply = ask(page, "What is the boiling point of mercury?")
    finally:
        live.service.answerer = original
    assert "Not found in the articles" in reply.locator(".qa-notfound").inner_text()
    guess = reply.locator("details.qa-guess")
    summary = guess.locator("summary")
    assert re.fullmatch(r"Best guess \(low confidence, \d+%\) \u2014 not an answer", summary.inner_text().strip())
    body = guess.locator(".qa-guess-body")
    assert not body.is_visible()  # collapsed until asked for
    summary.click()
    body.wait_for(state="visible")
    assert re.search(r"“.+”", body.locator(".qa-guess-text").inner_text())
    assert reply.locator("mark").count() == 0 and reply.locator(".qa-answer strong").inner_text() == "Not found in the articles."


def test_choosing_a_source_answers_from_that_source_alone(page, live):
    question = "How much of North Korea's foreign trade does China account for?"
    unfiltered = live.service.ask(question).answer
    assert any(c.source != "ThinkProgress" for c in unfiltered.citations)  # so the choice has work to do
    page.click("#qa-sources input")
    page.get_by_role("option", name="ThinkProgress").click()
    page.keyboard.press("Escape")
    reply = ask(page, question)
    assert reply.locator("details.qa-cite").count() == 5
    assert reply.locator("details.qa-cite .qa-source").all_inner_texts() == ["ThinkProgress"] * 5
    assert reply.locator(".qa-scope").inner_text() == "Only articles matching: source ThinkProgress"


def test_adding_a_url_is_refused_on_a_private_address_unless_allowed(page, live):
    """The URL box: the server fetches the page, so by default a loopback URL is refused with the reason and
    nothing is asked of the site; started with --allow-private-urls, the page is added and listed at once."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus" / "web"))
    from local_site import LocalSite

    with LocalSite() as site:
        url = site.saved_page("/news/weather.html", "cnn_article.html")
        page.fill("#qa-add-urls textarea", url)
        page.click("#qa-add-url")
        page.wait_for_selector("#qa-upload-report .qa-bad")
        report = page.locator("#qa-upload-report").inner_text()
        assert url in report and "refused" in report and "loopback" in report and "--allow-private-urls" in report
        assert site.requests == []
        expect(page.locator("#qa-add-urls textarea")).to_have_value(url)  # a URL that failed stays in the box
        live.service.allow_private_urls = True
        try:
            page.click("#qa-add-url")
            page.wait_for_selector("#qa-upload-report .qa-ok")
        finally:
            live.service.allow_private_urls = False
        report = page.locator("#qa-upload-report").inner_text()
        assert url in report and "added" in report
        expect(page.locator("#qa-add-urls textarea")).to_have_value("")
        title = next(a.title for a in live.service.index.articles.values() if a.url == url)
        expect(page.locator("#qa-articles")).to_contain_text(title, timeout=TIMEOUT_MS)


def test_no_request_leaves_the_machine():
    """Every request made by every page of this module went to the app on loopback (run last)."""
    assert len(REQUESTS) > 20
    outside = sorted({u for u in REQUESTS if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOOPBACK})
    assert outside == []

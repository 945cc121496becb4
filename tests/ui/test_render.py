"""HTML rendering of answers, citations, the article list and upload reports (ui.render: pure)."""

import html
import re
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from qa.types import Answer, Citation, Guess
from ui.render import (
    GUESS_LABEL,
    NOT_FOUND,
    ArticleRow,
    UploadLine,
    citation_answer_ranges,
    escape,
    highlight,
    render_answer,
    render_articles,
    render_citation,
    render_error,
    render_question,
    render_upload_report,
    sentence_answer_range,
)

HOSTILE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> **bold** [x](javascript:alert(1)) $$x$$'
PASSAGE = "On Tuesday, a spokesman spoke. “Nonsense,” said Geng Shuang, a foreign ministry spokesman. Geng Shuang left."
ANSWER_START = PASSAGE.index("Geng Shuang")


def _citation(n=1, text=PASSAGE, start=100, title="China and North Korea", source="ThinkProgress", article_id="a1"):
    return Citation(n, article_id, title, source, start, start + len(text), text, 0.5)


def _answer(**changes):
    base = dict(
        question="Who is the spokesman?",
        answer="Geng Shuang",
        abstained=False,
        confidence=0.934,
        sentence="“Nonsense,” said Geng Shuang, a foreign ministry spokesman.",
        answer_span=("a1", 100 + ANSWER_START, 100 + ANSWER_START + len("Geng Shuang")),
        citations=[_citation(), _citation(2, "Another passage about Geng Shuang.", 900)],
        mode="hybrid",
        latency_ms=84.2,
    )
    base.update(changes)
    return Answer(**base)


def _tags(fragment: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)", fragment)}


ALLOWED_TAGS = {"div", "p", "strong", "b", "span", "blockquote", "mark", "details", "summary", "br", "ol", "ul", "li"}


def test_escape_html_and_markdown_specials():
    out = escape(HOSTILE)
    assert "<" not in out and ">" not in out and '"' not in out
    assert not set("*[]$`_\\") & set(out.replace("&#", ""))  # every special is an entity
    assert html.unescape(out) == HOSTILE


def test_escape_turns_newlines_into_br_and_output_has_no_newline():
    assert escape("a\nb\r\nc\rd") == "a<br>b<br>c<br>d"


@given(st.text())
def test_escape_always_round_trips_and_never_emits_markup(text):
    out = escape(text)
    assert "\n" not in out and "\r" not in out
    assert _tags(out) <= {"br"}
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert html.unescape(out.replace("<br>", "\n")) == normalised


def test_highlight_marks_ranges_and_escapes_the_rest():
    assert highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert highlight("abcdef", [(1, 3), (2, 4), (5, 9)]) == "a<mark>bcd</mark>e<mark>f</mark>"
    assert highlight("abc", []) == "abc"


def test_the_exact_answer_span_is_marked_in_its_citation_not_every_occurrence():
    answer = _answer()
    first = citation_answer_ranges(answer.citations[0], answer)
    assert first == [(ANSWER_START, ANSWER_START + len("Geng Shuang"))]
    # the second citation does not hold the span: every occurrence of the answer text is marked there
    assert citation_answer_ranges(answer.citations[1], answer) == [(len("Another passage about "), len("Another passage about Geng Shuang"))]


def test_sentence_marks_the_answer():
    answer = _answer()
    s, e = sentence_answer_range(answer)
    assert answer.sentence[s:e] == "Geng Shuang"


def test_answer_reply_has_bold_answer_marked_sentence_confidence_and_numbered_citations():
    out = render_answer(_answer())
    assert "\n" not in out and out.startswith("<div")
    assert "<strong>Geng Shuang</strong>" in out
    assert "said <mark>Geng Shuang</mark>, a foreign ministry spokesman." in out
    assert "93%" in out
    assert out.count('<details class="qa-cite"') == 2
    assert "&#91;1&#93;" in out and "&#91;2&#93;" in out
    assert "chars 100\u2013" in out and "ThinkProgress" in out
    assert "China and North Korea" in out
    assert "Sources" in out and NOT_FOUND not in out


def test_abstained_reply_says_not_found_and_still_lists_passages():
    answer = _answer(answer=None, abstained=True, sentence=None, answer_span=None, confidence=0.12)
    out = render_answer(answer)
    assert NOT_FOUND in out
    assert "Closest passages" in out
    assert out.count("<details") == 2
    assert "<mark>" not in out  # nothing to highlight


def test_followup_note_and_retrieval_notice_are_shown_escaped():
    out = render_answer(_answer(), followup_note="note <b>", notice="answered from BM25 only: <x>")
    assert "note &lt;b&gt;" in out and "answered from BM25 only&#58; &lt;x&gt;" in out


def test_hostile_article_text_title_source_and_question_never_become_markup():
    cite = _citation(text=f"Intro. {HOSTILE} Geng Shuang end.", title=HOSTILE, source=HOSTILE)
    answer = _answer(
        question=HOSTILE,
        answer="Geng Shuang",
        sentence=f"{HOSTILE} Geng Shuang end.",
        answer_span=("a1", 100 + cite.text.index("Geng Shuang"), 100 + cite.text.index("Geng Shuang") + 11),
        citations=[cite],
    )
    for out in (render_answer(answer), render_citation(cite, answer), render_question(HOSTILE)):
        assert _tags(out) <= ALLOWED_TAGS, _tags(out)
        assert "<script" not in out and "<img" not in out
        text = html.unescape(re.sub(r"<[^>]*>", "", out))  # what the browser shows
        assert HOSTILE in text


def test_a_citation_names_its_source_and_day_and_a_filtered_reply_says_what_it_was_limited_to():
    cite = replace(_citation(), published="2017-08-01")
    summary = re.search(r"<summary>.*</summary>", render_citation(cite, _answer())).group(0)
    assert '<span class="qa-source">ThinkProgress</span> &#183; <span class="qa-published">2017-08-01</span>' in summary
    assert "qa-published" not in render_citation(_citation(), _answer())  # no day, none shown
    out = render_answer(_answer(citations=[cite]), scope="source ThinkProgress; published on or after 2017-08-01")
    assert '<p class="qa-scope">Only articles matching: source ThinkProgress; published on or after 2017-08-01</p>' in out
    assert "qa-scope" not in render_answer(_answer())
    hostile = render_answer(_answer(citations=[replace(cite, published=HOSTILE)]), scope=HOSTILE)
    assert _tags(hostile) <= ALLOWED_TAGS and "<script" not in hostile


def test_the_article_list_shows_each_article_s_day():
    out = render_articles([ArticleRow("Story", "CNN", 2, "story.md", "2017-04-23"), ArticleRow("Other", None, 1, None, "2017-08-01")])
    assert "CNN &#183; 2017-04-23 &#183; story.md &#183; 2 passages" in out
    assert "2017-08-01 &#183; 1 passage" in out


def test_article_list_escapes_titles_and_counts_passages():
    out = render_articles([ArticleRow(HOSTILE, "<src>", 1, "../x.txt"), ArticleRow("Plain", None, 3)])
    assert _tags(out) <= ALLOWED_TAGS
    assert "2 articles" in out and "1 passage<" in out and "3 passages" in out
    assert "&lt;src&gt;" in out
    assert render_articles([]).count("No articles") == 1


def test_upload_report_escapes_names_and_messages():
    out = render_upload_report([UploadLine("<img src=x onerror=alert(1)>.txt", False, "cannot be read: <bad>"), UploadLine("ok.txt", True, "added")])
    assert _tags(out) <= ALLOWED_TAGS
    assert "qa-bad" in out and "qa-ok" in out and "&lt;bad&gt;" in out
    assert render_upload_report([]) == ""


def test_an_answer_that_is_its_whole_sentence_is_not_repeated():
    sentence = "“Nonsense,” said Geng Shuang, a foreign ministry spokesman."
    out = render_answer(_answer(answer=sentence, sentence=sentence))
    assert f"<strong>{escape(sentence)}</strong>" in out
    assert "qa-sentence" not in out


def test_a_lone_surrogate_is_shown_as_a_replacement_character_and_the_reply_encodes():
    """A JSON "\\ud800" in a question (or an article) reached the chat raw: the reply could not be encoded."""
    out = render_question("who \ud800 is \udcff it?") + render_error("bad \ud800")
    assert "\ud800" not in out and "\udcff" not in out and out.count("\ufffd") == 3
    out.encode("utf-8")  # raised UnicodeEncodeError before


def test_an_excerpt_of_a_long_passage_is_marked_cut_and_the_answer_still_marked():
    passage = "word " * 2000 + "said Geng Shuang, a spokesman. " + "word " * 2000
    start = passage.index("Geng Shuang")
    cite = Citation(1, "a1", "Long", None, 0, len(passage), passage, 0.5).excerpt(around=(start, start + 11))
    assert cite.text_start > 0 and len(cite.text) <= 1500
    answer = _answer(sentence=None, answer_span=("a1", start, start + 11), citations=[cite])
    out = render_citation(cite, answer)
    assert "<mark>Geng Shuang</mark>" in out
    assert re.search(r'<div class="qa-passage">&#8230; word .* word &#8230;</div>', out)
    assert f"chars 0\u2013{len(passage)}, an excerpt of {len(passage):,}" in out
    assert len(out) < 2000 + len(cite.text)


def test_the_time_budget_notice_of_an_answer_is_shown():
    out = render_answer(_answer(notice="The time budget of 5 s ran out: <2> of the 5 passages were not read"))
    assert '<p class="qa-notice">The time budget of 5 s ran out&#58; &lt;2&gt; of the 5 passages' in out


def _abstained_with_guess(text="Geng Shuang", sentence="“Nonsense,” said Geng Shuang, a foreign ministry spokesman.",
                          citations=None, citation=1):
    guess = Guess(text, 0.123, "a1", 100 + ANSWER_START, 100 + ANSWER_START + len(text), sentence, citation)
    return _answer(answer=None, abstained=True, sentence=None, answer_span=None, confidence=0.123, guess=guess,
                   **({} if citations is None else {"citations": citations}))


def test_an_abstained_reply_offers_the_guess_collapsed_labelled_and_never_marked():
    out = render_answer(_abstained_with_guess())
    assert "\n" not in out and NOT_FOUND in out and "Closest passages" in out
    guess = re.search(r'<details class="qa-guess"><summary>(.*?)</summary>(.*?)</details>', out)
    assert guess and ' open' not in guess.group(0).split(">")[0]  # collapsed
    assert html.unescape(guess.group(1)) == GUESS_LABEL.format(confidence="12%") == "Best guess (low confidence, 12%) \u2014 not an answer"
    body = html.unescape(re.sub(r"<[^>]*>", " ", guess.group(2)))
    assert "“Geng Shuang”" in body and "[1]" in body and "said Geng Shuang, a foreign ministry spokesman" in body
    assert "<mark>" not in out and "<strong>Geng Shuang" not in out  # not shown or highlighted as an answer
    assert out.index("qa-guess") < out.index("Closest passages")
    assert out.count('<details class="qa-cite"') == 2


def test_a_guess_without_a_citation_or_a_separate_sentence_is_still_labelled():
    out = render_answer(_abstained_with_guess(sentence="Geng Shuang", citation=None))
    assert "qa-guess-sentence" not in out and "&#91;1&#93;" not in out.split("qa-guess")[1].split("</details>")[0]
    assert "not an answer" in out


def test_no_guess_is_shown_when_answered_or_when_there_is_none():
    answered = _answer(guess=Guess("Geng Shuang", 0.9, "a1", 0, 11, None, 1))  # a stray guess on an answer
    assert "qa-guess" not in render_answer(answered) and "qa-guess" not in render_answer(_answer())
    plain = _answer(answer=None, abstained=True, sentence=None, answer_span=None, confidence=0.1)
    assert "qa-guess" not in render_answer(plain) and NOT_FOUND in render_answer(plain)


def test_a_hostile_guess_is_shown_as_text():
    cite = _citation(text=f"Intro. {HOSTILE} end.", title=HOSTILE, source=HOSTILE)
    out = render_answer(_abstained_with_guess(text=HOSTILE, sentence=f"Before {HOSTILE} after.", citations=[cite]))
    assert _tags(out) <= ALLOWED_TAGS, _tags(out)
    assert "<script" not in out and "<img" not in out
    shown = html.unescape(re.sub(r"<[^>]*>", "", out))
    assert f"“{HOSTILE}”" in shown and f"Before {HOSTILE} after." in shown

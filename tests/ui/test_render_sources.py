"""The chat's lines on answers across sources (ui.render.render_sources, inside render_answer): each outlet's
answer with its source and day where they differ, "N sources agree." where they agree, article text as text."""

import html
import re

from qa.types import Answer, Citation, SourceAnswer
from ui.render import render_answer, render_sources

HOSTILE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> **bold** [x](javascript:alert(1))'
ALLOWED_TAGS = {"div", "p", "strong", "b", "span", "blockquote", "mark", "details", "summary", "br", "ol", "ul", "li"}
PASSAGE = "Rovers signed Jonas Ekberg for £4.5 million."


def entry(text, source, published="2024-01-30", agrees=True, citation=1, confidence=0.7, title="Rovers sign Ekberg"):
    return SourceAnswer(text, confidence, f"id-{source}", 0, len(text), title, source, published, citation, agrees)


def answer(*alternatives: SourceAnswer, abstained: bool = False) -> Answer:
    start = PASSAGE.index("£4.5 million")
    return Answer("How much did Rovers pay?", None if abstained else "£4.5 million", abstained, 0.7,
                  None if abstained else PASSAGE, None if abstained else ("a1", start, start + 12),
                  [Citation(1, "a1", "Rovers sign Ekberg", "Castlebridge Evening Post", 0, len(PASSAGE), PASSAGE, 0.5)],
                  alternatives=alternatives)


def shown(fragment: str) -> str:
    """What a user reads: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def tags(fragment: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)", fragment)}


DIFFER = (
    entry("£4.5 million", "Castlebridge Evening Post"),
    entry("£6 million", "Coastline Sport", "2024-02-01", agrees=False, citation=2, confidence=0.35),
    entry("4.5 million", None, None, citation=None, confidence=0.2, title="Club statement"),
)


def test_where_sources_differ_each_answer_is_listed_with_source_and_day():
    out = render_sources(answer(*DIFFER))
    assert out.startswith('<div class="qa-differ">') and out.endswith("</div>")
    items = re.findall(r"<li>(.*?)</li>", out)
    assert [shown(i) for i in items] == [
        "Castlebridge Evening Post, 2024-01-30: £4.5 million [1] (70%)",
        "Coastline Sport, 2024-02-01: £6 million [2] (35%)",
        "Club statement: 4.5 million (20%)",  # no source: the title; no day, no citation: left out
    ]
    assert [re.search(r"<strong>(.*?)</strong>", i).group(1) for i in items] == ["£4.5 million", "£6 million", "4.5 million"]
    assert shown(out).startswith("Sources differ:")


def test_where_sources_agree_the_reply_says_how_many():
    agree = answer(entry("£4.5 million", "Castlebridge Evening Post"), entry("£4.5 million", "Club statement"),
                   entry("4.5 million", "Coastline Sport"))
    assert render_sources(agree) == '<p class="qa-agree">3 sources agree.</p>'
    assert "qa-differ" not in render_sources(agree)


def test_nothing_when_fewer_than_two_articles_answer():
    assert render_sources(answer()) == ""
    reply = render_answer(answer())
    assert "qa-differ" not in reply and "qa-agree" not in reply and "sources agree" not in reply


def test_the_reply_shows_them_after_the_answer_and_before_the_citations():
    reply = render_answer(answer(*DIFFER))
    assert reply.index('class="qa-answer"') < reply.index('class="qa-differ"') < reply.index('class="qa-cites"')
    assert reply.count('class="qa-differ"') == 1
    agree = render_answer(answer(entry("£4.5 million", "A"), entry("£4.5 million", "B")))
    assert agree.count("2 sources agree.") == 1


def test_an_abstained_reply_lists_no_sources_answers():
    reply = render_answer(answer(*DIFFER, abstained=True))
    assert "qa-differ" not in reply and "£6 million" not in reply


def test_article_text_titles_and_sources_are_shown_as_text():
    hostile = answer(entry(HOSTILE, HOSTILE), entry("£6 million", "Coastline Sport", agrees=False),
                     entry("x", None, None, agrees=False, title=HOSTILE))
    out = render_sources(hostile)
    assert tags(out) <= ALLOWED_TAGS and "<script" not in out and "<img" not in out
    items = [shown(i) for i in re.findall(r"<li>(.*?)</li>", out)]
    assert items[0] == f"{HOSTILE}, 2024-01-30: {HOSTILE} [1] (70%)"
    assert items[2].startswith(f"{HOSTILE}: x")
    assert "**" not in out and "[x]" not in out  # markdown specials are entities: the chat cannot render them

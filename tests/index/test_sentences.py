"""The sentence splitter: where news text really ends a sentence, and where a period does not."""

from __future__ import annotations

import pytest

from index.sentences import paragraph_spans, prose_segments, sentence_spans


def sentences(text: str) -> list[str]:
    spans = sentence_spans(text)
    for s, e in spans:  # offsets always point into the untouched text, trimmed of whitespace
        assert 0 <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()
    return [text[s:e] for s, e in spans]


@pytest.mark.parametrize(
    "text, expected",
    [
        # titles and common abbreviations do not end a sentence
        ("Mr. Li spoke to Dr. Smith. Then he left.", ["Mr. Li spoke to Dr. Smith.", "Then he left."]),
        ("Sen. Warren and Gov. Brown met Mrs. Clinton. They talked.", ["Sen. Warren and Gov. Brown met Mrs. Clinton.", "They talked."]),
        ("They met at 3 p.m. on Monday. It rained.", ["They met at 3 p.m. on Monday.", "It rained."]),
        # U.S. in the middle of a sentence, and at its end
        ("The U.S. military said so. Then it left.", ["The U.S. military said so.", "Then it left."]),
        ("U.S. aid rose on Monday. It fell later.", ["U.S. aid rose on Monday.", "It fell later."]),
        ("He lives in the U.S. The weather there is fine.", ["He lives in the U.S.", "The weather there is fine."]),
        # initials
        ("John F. Kennedy was president. He died in 1963.", ["John F. Kennedy was president.", "He died in 1963."]),
        ("President George W. Bush spoke. Nobody listened.", ["President George W. Bush spoke.", "Nobody listened."]),
        ("J. R. R. Tolkien wrote books. They sold well.", ["J. R. R. Tolkien wrote books.", "They sold well."]),
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Prices rose 3.5 percent. The index hit 1,234.56 points. Done.", ["Prices rose 3.5 percent.", "The index hit 1,234.56 points.", "Done."]),
        ("China accounts for 80.5% of trade. It is 0.7 of the total.", ["China accounts for 80.5% of trade.", "It is 0.7 of the total."]),
        ("It cost $2.5 million. Really?! Yes.", ["It cost $2.5 million.", "Really?!", "Yes."]),
    ],
)
def test_decimal_numbers_do_not_end_sentences(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # curly quotes close the sentence they end
        ("“We will win.” He said it twice.", ["“We will win.”", "He said it twice."]),
        ("He said “Stop.” Then he left.", ["He said “Stop.”", "Then he left."]),
        # a question inside a quote followed by lower case continues the sentence
        ("“Is it over?” she asked. No.", ["“Is it over?” she asked.", "No."]),
        # guillemets, English style (as in the default corpus) and French style (space before »)
        ("« We have deficits, » Trump told the Journal. He spoke.", ["« We have deficits, » Trump told the Journal.", "He spoke."]),
        ("«We will win.» He said it twice.", ["«We will win.»", "He said it twice."]),
        ("« C’est fini. » Then he left.", ["« C’est fini. »", "Then he left."]),
        ("He said « stop. »\nNext line.", ["He said « stop. »", "Next line."]),
        ("A quote: ‘Solve it.’ Then more.", ["A quote: ‘Solve it.’", "Then more."]),
    ],
)
def test_quotes_stay_with_their_sentence(text, expected):
    assert sentences(text) == expected


def test_a_line_break_ends_a_sentence_and_blank_lines_separate_paragraphs():
    text = "Headline without a period\n\nFirst paragraph. Still first.\n  \t\nSecond paragraph"
    assert sentences(text) == ["Headline without a period", "First paragraph.", "Still first.", "Second paragraph"]
    assert [text[s:e] for s, e in paragraph_spans(text)] == [
        "Headline without a period",
        "First paragraph. Still first.",
        "Second paragraph",
    ]


def test_photo_credit_lines_are_not_prose():
    text = "Intro sentence.\n\nCREDIT: AP Photo/Files\nCREDIT: AP Photo/Files\n\nBody sentence. More body."
    segments = [text[s:e] for s, e in prose_segments(text, 0, len(text))]
    assert segments == ["Intro sentence.", "Body sentence. More body."]


def test_sentence_spans_of_a_range_stay_inside_it():
    text = "Before. Inside one. Inside two. After."
    start = text.index("Inside one")
    end = text.index(" After")
    assert [text[s:e] for s, e in sentence_spans(text, start, end)] == ["Inside one.", "Inside two."]

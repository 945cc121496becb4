"""The sentence splitter: where news text really ends a sentence, and where a period does not; over-long
sentences cut at words; linear time on hostile text."""

from __future__ import annotations

import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from index.sentences import bounded_spans, paragraph_spans, prose_segments, sentence_spans


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


# ------------------------------------------------------------------------------------------- over-long sentences


def pieces(text: str, max_chars: int, max_words: int) -> list[str]:
    return [text[s:e] for s, e in bounded_spans(text, sentence_spans(text), max_chars, max_words)]


def test_a_sentence_within_the_bound_is_left_whole():
    text = "One two three four five six. Seven."
    assert pieces(text, max_chars=28, max_words=2) == ["One two three four five six.", "Seven."]


def test_an_over_long_sentence_is_cut_into_pieces_of_whole_words():
    text = "one two three four five six seven"
    assert pieces(text, max_chars=14, max_words=10) == ["one two three", "four five six", "seven"]
    assert pieces(text, max_chars=20, max_words=2) == ["one two", "three four", "five six", "seven"]
    # a word that would cross the bound starts the next piece, whole
    assert pieces("aaaa bbbbbbbb c", max_chars=10, max_words=5) == ["aaaa", "bbbbbbbb c"]


def test_a_word_longer_than_the_bound_is_cut_hard():
    text = "ab " + "x" * 25 + " cd"
    assert pieces(text, max_chars=10, max_words=5) == ["ab", "x" * 10, "x" * 10, "x" * 5 + " cd"]


_TOKEN = st.sampled_from(["a", "word", "x" * 12, "é中", "3.5", "U.S.", "end.", "Why?"])
_GAP = st.sampled_from([" ", "  ", "\u00a0", "\t", "\n", " \n\n ", "\u2028"])


@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(st.tuples(_TOKEN, _GAP), min_size=1, max_size=60),
    max_chars=st.integers(1, 40),
    max_words=st.integers(1, 8),
)
@example(tokens=[("x" * 12, " ")], max_chars=12, max_words=1)
def test_pieces_keep_every_promise(tokens, max_chars, max_words):
    text = "".join(t + g for t, g in tokens)
    out = bounded_spans(text, sentence_spans(text), max_chars, max_words)
    for ss, se in sentence_spans(text):
        mine = [(s, e) for s, e in out if ss <= s and e <= se]
        if se - ss <= max_chars:
            assert mine == [(ss, se)]  # a sentence within the bound is left whole
            continue
        # the pieces run from the sentence's start to its end, with only whitespace between them
        assert mine[0][0] == ss and mine[-1][1] == se
        for s, e in mine:
            piece = text[s:e]
            assert piece and piece == piece.strip()
            assert len(piece) <= max_chars and len(piece.split()) <= max_words
        for (s, e), (s2, _) in zip(mine, mine[1:]):
            assert e <= s2 and not text[e:s2].strip()
            if e == s2:  # a hard cut: only inside one word longer than the bound
                assert e - s == max_chars and len(text[s:e].split()) == 1
            else:  # a cut at whitespace: the next word would not have fit, in characters or in words
                next_word_end = s2 + len(text[s2:].split()[0])
                assert next_word_end - s > max_chars or len(text[s:e].split()) == max_words
    assert sorted(out) == out and all(e <= s2 for (_, e), (s2, _) in zip(out, out[1:]))


# ------------------------------------------------------------------------------------------- linear time


@pytest.mark.parametrize(
    "name, text",
    [
        # old: 230 s for 60 KB of dots (the end pattern backtracked over the run from every dot)
        ("a line of dots", "." * 40_000 + "x"),
        # old: 32 s for 60,000 empty lines (the credit-line pattern ran from every line over all blank lines)
        ("blank lines", "a\n" + "\n" * 60_000 + "b"),
        # old: about 25 s (every "U.S." copied the rest of its line to look at the next word)
        ("U.S. on one line", "In the U.S. " * 300_000),
    ],
)
def test_hostile_text_is_split_in_linear_time(name, text):
    started = time.perf_counter()
    # both ways the chunker cuts a text into groups: paragraphs, or the whole text at once
    groups = [seg for s, e in paragraph_spans(text) for seg in prose_segments(text, s, e)]
    groups += prose_segments(text, 0, len(text))
    sentences = [sent for s, e in groups for sent in sentence_spans(text, s, e)]
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"{name}: {elapsed:.1f} s"
    assert sentences and all(text[s:e] == text[s:e].strip() for s, e in sentences)

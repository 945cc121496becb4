"""The chunker: whole sentences, exact offsets, paragraphs respected, credits left out, on real and random text."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from corpus import Article
from index.chunker import ChunkerConfig, chunk_article, chunk_articles
from index.sentences import paragraph_spans, prose_segments, sentence_spans

CREDIT_LINE = "CREDIT: AP Photo/Files"
# A blank line: two line feeds with nothing but whitespace between them.
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def n_words(text: str) -> int:
    return len(text.split())


def groups_of(text: str, respect_paragraphs: bool) -> list[tuple[int, int]]:
    """The spans no chunk may cross: paragraphs (when asked), cut around photo-credit lines."""
    outer = paragraph_spans(text) if respect_paragraphs else [(0, len(text))]
    return [seg for start, end in outer for seg in prose_segments(text, start, end)]


def check_chunks(article: Article, config: ChunkerConfig) -> list:
    """Every promise the chunker makes, checked on one article; returns the chunks."""
    text = article.text
    chunks = chunk_article(article, config)
    assert len({c.id for c in chunks}) == len(chunks)
    groups = groups_of(text, config.respect_paragraphs)
    sentences_by_group = [sentence_spans(text, gs, ge) for gs, ge in groups]
    located = []  # (group index, first sentence index, last sentence index) of each chunk
    for chunk in chunks:
        # the invariant every offset in the system relies on
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.article_id == article.id
        assert chunk.text and chunk.text == chunk.text.strip()
        # never inside a sentence: the chunk starts at a sentence start and ends at a sentence end of one group
        homes = [g for g, (gs, ge) in enumerate(groups) if gs <= chunk.start and chunk.end <= ge]
        assert len(homes) == 1, f"chunk {chunk.id} crosses a group boundary: {chunk.text!r}"
        sents = sentences_by_group[homes[0]]
        starts = [s for s, _ in sents]
        ends = [e for _, e in sents]
        assert chunk.start in starts, f"chunk {chunk.id} starts inside a sentence: {chunk.text!r}"
        assert chunk.end in ends, f"chunk {chunk.id} ends inside a sentence: {chunk.text!r}"
        first, last = starts.index(chunk.start), ends.index(chunk.end)
        assert first <= last
        located.append((homes[0], first, last))
        # photo credits are never part of a chunk
        assert "CREDIT:" not in chunk.text
        if config.respect_paragraphs:
            assert not _BLANK_LINE.search(chunk.text), f"chunk {chunk.id} crosses a paragraph: {chunk.text!r}"
        # about target words: over target * merge_factor only when the chunk is one long sentence
        if n_words(chunk.text) > config.target_words * config.merge_factor:
            assert first == last, f"chunk {chunk.id} has {n_words(chunk.text)} words in {last - first + 1} sentences"
    # consecutive chunks of a group share the configured number of sentences (fewer only where more would
    # leave no room for a new sentence) and always bring at least one new sentence
    for (g1, f1, l1), (g2, f2, l2), chunk in zip(located, located[1:], chunks):
        if g1 != g2:
            assert g2 > g1
            continue
        sents = sentences_by_group[g1]

        def words_of(i: int, j: int) -> int:  # words in sentences i..j (inclusive)
            return n_words(text[sents[i][0] : sents[j][1]])

        assert f2 > f1 and l2 > l1, f"chunk after {chunk.id} brings no new sentence"
        assert f2 <= l1 + 1, f"a sentence between {chunk.id} and the next chunk is skipped"
        shared, wanted = l1 - f2 + 1, min(config.overlap_sentences, l1 - f1)
        assert shared <= wanted, (chunk.id, (f1, l1), (f2, l2))
        if shared < wanted:  # one more shared sentence would not fit with the first new one
            assert words_of(f2 - 1, l1 + 1) > config.target_words, (chunk.id, (f1, l1), (f2, l2))
        # a chunk stops early only when its next sentence would take it past the target
        assert words_of(f1, l1 + 1) > config.target_words
    # every prose sentence is in some chunk
    for sents in sentences_by_group:
        for s, e in sents:
            assert any(c.start <= s and e <= c.end for c in chunks), f"sentence {text[s:e]!r} is in no chunk"
    return chunks


# ------------------------------------------------------------------------------------------- real corpora


def test_default_corpus_chunks_keep_every_promise(default_articles):
    chunks = []
    for article in default_articles:
        chunks += check_chunks(article, ChunkerConfig())
    assert 10 <= len(chunks) <= 25
    assert chunks == chunk_articles(default_articles, ChunkerConfig())
    # the ThinkProgress article really has photo-credit lines, and they are left out
    credited = [a for a in default_articles if CREDIT_LINE in a.text]
    assert credited
    for article in credited:
        for c in chunk_article(article):
            assert CREDIT_LINE not in c.text
    # the default corpus is one paragraph a line: a single line break already ends a sentence
    for article in default_articles:
        for c in chunk_article(article):
            for line in c.text.split("\n"):
                assert line.strip() in article.text


@pytest.mark.parametrize("config", [ChunkerConfig(target_words=40, overlap_sentences=2), ChunkerConfig(target_words=300, overlap_sentences=0)])
def test_default_corpus_with_other_settings(default_articles, config):
    for article in default_articles:
        check_chunks(article, config)


def test_squad_dev_chunks_stay_inside_paragraphs(squad_dev):
    config = ChunkerConfig(respect_paragraphs=True)
    articles = squad_dev.articles[::4]  # a sample: 12 of the 48 dev articles (about 500 paragraphs)
    total = 0
    for article in articles:
        chunks = check_chunks(article, config)
        paragraphs = squad_dev.paragraph_spans[article.id]
        for chunk in chunks:
            assert any(ps <= chunk.start and chunk.end <= pe for ps, pe in paragraphs), chunk.id
        # every paragraph is covered from its first to its last non-blank character
        for ps, pe in paragraphs:
            inside = [c for c in chunks if ps <= c.start and c.end <= pe]
            body = article.text[ps:pe]
            assert inside, f"paragraph at {ps} has no chunk"
            assert min(c.start for c in inside) == ps + len(body) - len(body.lstrip())
            assert max(c.end for c in inside) == pe - (len(body) - len(body.rstrip()))
        total += len(chunks)
    assert total >= sum(len(squad_dev.paragraph_spans[a.id]) for a in articles)


def test_squad_answers_survive_chunking(squad_dev):
    """Each answer of the sampled questions lies inside at least one chunk, at its gold offset."""
    config = ChunkerConfig(respect_paragraphs=True)
    by_article = {a.id: chunk_article(a, config) for a in squad_dev.articles[:6]}
    checked = 0
    for q in squad_dev.questions:
        if q.article_id not in by_article:
            continue
        for answer, start in zip(q.answers, q.answer_starts):
            end = start + len(answer)
            containing = [c for c in by_article[q.article_id] if c.start <= start and end <= c.end]
            # an answer that spans a sentence boundary can be split; those are rare
            if containing:
                c = containing[0]
                assert c.text[start - c.start : end - c.start] == answer
                checked += 1
    assert checked > 1000


# ------------------------------------------------------------------------------------------- random text

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüßøΩж中文", min_size=1, max_size=9)
_SPECIAL_WORD = st.sampled_from(["Mr.", "Dr.", "U.S.", "3.5", "1,234.56", "F.", "e.g.", "p.m.", "“quoted”", "«word»", "$2.5", "…"])
_END_PUNCT = st.sampled_from([".", ".", ".", "!", "?", "…", ".”", "?”", ". »", "!»", "’.", ".)", ""])
_SPACE = st.sampled_from([" ", " ", " ", "  ", "\u00a0", "\t"])


@st.composite
def sentence(draw) -> str:
    words = draw(st.lists(st.one_of(_WORD, _WORD, _WORD, _SPECIAL_WORD), min_size=1, max_size=30))
    if draw(st.booleans()):
        words[0] = words[0][:1].upper() + words[0][1:]
    out = words[0]
    for w in words[1:]:
        out += draw(_SPACE) + w
    return out + draw(_END_PUNCT)


@st.composite
def paragraph(draw) -> str:
    if draw(st.integers(0, 9)) == 0:
        return CREDIT_LINE
    parts = draw(st.lists(sentence(), min_size=1, max_size=10))
    out = parts[0]
    for p in parts[1:]:
        out += draw(st.sampled_from([" ", " ", "  ", "\n", f"\n{CREDIT_LINE}\n"])) + p
    return out


@st.composite
def article_text(draw) -> str:
    paras = draw(st.lists(paragraph(), min_size=1, max_size=8))
    out = draw(st.sampled_from(["", " ", "\n", "\n\n  "])) + paras[0]
    for prev, p in zip(paras, paras[1:]):
        breaks = ["\n\n", "\n \n", "\r\n\r\n", "\n\t\n\n", "\n\n\n", "\n", "\n  "]
        if CREDIT_LINE not in (prev, p):  # a credit is a line of its own; prose may also run on
            breaks.append(" ")
        out += draw(st.sampled_from(breaks)) + p
    return out + draw(st.sampled_from(["", "\n", " \n\n"]))


_CONFIG = st.builds(
    ChunkerConfig,
    target_words=st.integers(1, 80),
    overlap_sentences=st.integers(0, 4),
    respect_paragraphs=st.booleans(),
    merge_factor=st.sampled_from([1.0, 1.2, 1.4, 2.0]),
)

_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(text=article_text(), config=_CONFIG)
@example(text="One. Two three four five six. Seven.\n\nCREDIT: AP Photo/Files\n\nEight nine.", config=ChunkerConfig(target_words=3, overlap_sentences=1, respect_paragraphs=True))
@example(text="« C’est fini. » Then he left. And came back.", config=ChunkerConfig(target_words=2, overlap_sentences=0))
def test_random_articles_keep_every_promise(text, config):
    check_chunks(Article.from_text(text, title="random"), config)


@_SETTINGS
@given(text=st.text(), config=_CONFIG)
@example(text="a\n\u00a0\nb", config=ChunkerConfig(respect_paragraphs=True))
@example(text="  \n\n \t ", config=ChunkerConfig())
def test_arbitrary_unicode_keeps_the_offsets_exact(text, config):
    check_chunks(Article.from_text(text, title="random"), config)


@_SETTINGS
@given(
    sentences=st.lists(sentence(), min_size=1, max_size=40),
    target=st.integers(1, 60),
    overlap=st.integers(0, 3),
)
def test_single_paragraph_chunk_sizes(sentences, target, overlap):
    text = " ".join(sentences)
    config = ChunkerConfig(target_words=target, overlap_sentences=overlap)
    chunks = check_chunks(Article.from_text(text, title="t"), config)
    assert chunks  # a text with words always gives a chunk
    if n_words(text) <= target * config.merge_factor:
        assert [c.text for c in chunks] == [text.strip()]


def test_one_long_sentence_is_one_chunk_even_over_target():
    text = " ".join(["word"] * 50) + "."
    chunks = check_chunks(Article.from_text(text, title="t"), ChunkerConfig(target_words=10))
    assert [c.text for c in chunks] == [text]


def test_empty_and_credit_only_articles_give_no_chunks():
    assert chunk_article(Article.from_text("", title="t")) == []
    assert chunk_article(Article.from_text(" \n\n\t", title="t")) == []
    assert chunk_article(Article.from_text(f"{CREDIT_LINE}\n{CREDIT_LINE}\n", title="t")) == []

"""The chunker: whole sentences, exact offsets, paragraphs respected, credits left out, a hard size bound, linear
time, on real and random text."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from corpus import Article
from index.chunker import ChunkerConfig, chunk_article, chunk_articles
from index.sentences import bounded_spans, paragraph_spans, prose_segments, sentence_spans

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
    """Every promise the chunker makes, checked on one article; returns the chunks.

    "Sentences" here are the sentences with each one longer than the bound cut into pieces (``bounded_spans``,
    tested on its own in test_sentences.py); on prose they are the sentences themselves.
    """
    text = article.text
    chunks = chunk_article(article, config)
    assert len({c.id for c in chunks}) == len(chunks)
    groups = groups_of(text, config.respect_paragraphs)
    sentences_by_group = [
        bounded_spans(text, sentence_spans(text, gs, ge), config.max_chunk_chars, config.target_words)
        for gs, ge in groups
    ]
    located = []  # (group index, first sentence index, last sentence index) of each chunk
    for chunk in chunks:
        # the invariant every offset in the system relies on
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.article_id == article.id
        assert chunk.text and chunk.text == chunk.text.strip()
        # the hard bound, whatever the text
        assert len(chunk.text) <= config.max_chunk_chars, f"chunk {chunk.id} has {len(chunk.text)} characters"
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

        def too_big(i: int, j: int) -> bool:  # sentences i..j (inclusive) exceed the target or the bound
            return n_words(text[sents[i][0] : sents[j][1]]) > config.target_words or (
                sents[j][1] - sents[i][0] > config.max_chunk_chars
            )

        assert f2 > f1 and l2 > l1, f"chunk after {chunk.id} brings no new sentence"
        assert f2 <= l1 + 1, f"a sentence between {chunk.id} and the next chunk is skipped"
        shared, wanted = l1 - f2 + 1, min(config.overlap_sentences, l1 - f1)
        assert shared <= wanted, (chunk.id, (f1, l1), (f2, l2))
        if shared < wanted:  # one more shared sentence would not fit with the first new one
            assert too_big(f2 - 1, l1 + 1), (chunk.id, (f1, l1), (f2, l2))
        # a chunk stops early only when its next sentence would take it past the target or the bound
        assert too_big(f1, l1 + 1)
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
    # the default, and bounds small enough for random sentences (and words) to be cut
    max_chunk_chars=st.sampled_from([2000, 2000, 300, 60, 7]),
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


# ------------------------------------------------------------------------------------------- the hard bound


def test_a_line_without_sentence_breaks_is_cut_at_words():
    """Issue 15: 'word ' * 200000 was one 1 MB chunk; now chunks of target_words whole words, none over the bound."""
    text = "word " * 200_000
    config = ChunkerConfig()
    chunks = check_chunks(Article.from_text(text, title="t"), config)
    assert len(chunks) == 200_000 // config.target_words + 1
    assert all(c.text.split() == ["word"] * n_words(c.text) for c in chunks)  # whole words only
    assert max(n_words(c.text) for c in chunks) == config.target_words
    assert sum(n_words(c.text) for c in chunks) == 200_000  # every word once (no overlap between pieces)


def test_a_long_sentence_among_prose_is_cut_and_the_prose_around_it_is_not(default_articles):
    article = default_articles[0]
    long_sentence = "The list goes on with " + ", ".join(f"member {i}" for i in range(1500)) + "."
    text = article.text + "\n\n" + long_sentence + "\n\n" + article.text
    config = ChunkerConfig(respect_paragraphs=True)
    chunks = check_chunks(Article.from_text(text, title="t"), config)
    at = text.index(long_sentence)
    cut = [c for c in chunks if at <= c.start < at + len(long_sentence)]
    # pieces of target_words words each, the short tail joined to the last one
    assert [n_words(c.text) for c in cut[:-1]] == [config.target_words] * (len(cut) - 1)
    assert n_words(cut[-1].text) <= config.target_words * config.merge_factor
    assert sum(n_words(c.text) for c in cut) == n_words(long_sentence)
    # the prose paragraphs before and after chunk exactly as the article alone does
    alone = [(c.start, c.end) for c in chunk_article(article, config)]
    shift = at + len(long_sentence) + 2
    assert [(c.start, c.end) for c in chunks if c.end <= at] == alone
    assert [(c.start - shift, c.end - shift) for c in chunks if c.start > at + len(long_sentence)] == alone


def test_a_word_longer_than_the_bound_is_cut_hard():
    text = "x" * 4500 + " tail words"
    config = ChunkerConfig(max_chunk_chars=2000)
    chunks = check_chunks(Article.from_text(text, title="t"), config)
    assert [(c.start, c.end) for c in chunks] == [(0, 2000), (2000, 4000), (4000, len(text))]


def test_the_bound_is_part_of_the_settings_and_the_rules_version_moved():
    """An index chunked by the old rules (version 2, no bound) must be seen as stale and rebuilt."""
    settings = ChunkerConfig().to_dict()
    assert settings["max_chunk_chars"] == 2000
    assert settings["rules_version"] > 2
    with pytest.raises(ValueError, match="max_chunk_chars"):
        ChunkerConfig(max_chunk_chars=0)


# ------------------------------------------------------------------------------------------- linear time


def test_a_5_mb_line_is_chunked_fast_and_bounded():
    text = "word " * 1_000_000
    article = Article.from_text(text, title="t")
    started = time.perf_counter()
    chunks = chunk_article(article)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{elapsed:.1f} s to chunk 5 MB"  # about 0.3 s here; generous for slow machines
    assert all(len(c.text) <= ChunkerConfig().max_chunk_chars for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert [c.start for c in chunks] == [i * 600 for i in range(len(chunks))]  # 120 words of 5 characters


def test_chunking_many_short_sentences_is_linear():
    """Issue 15: re-summing the rest of the group for every chunk made chunking quadratic in the sentences of a
    group (10 MB took 8 s, 50 MB 191 s). A million one-word sentences (4 MB, one group) took 33 s that way here;
    linear it takes under 3 s."""
    text = "Go. " * 1_000_000
    started = time.perf_counter()
    chunks = chunk_article(Article.from_text(text, title="t"))
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"{elapsed:.1f} s to chunk {len(text):,} characters"
    # 120 one-word sentences a chunk, one shared with the next: 119 new ones each (a short tail joins the last)
    assert len(chunks) == pytest.approx(1_000_000 / 119, abs=2)
    assert all(c.text.split() == ["Go."] * n_words(c.text) for c in chunks)

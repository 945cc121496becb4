"""Sentence-aware chunking with character offsets into the untouched article text.

A chunk is a run of whole sentences of about ``target_words`` words; consecutive chunks share
``overlap_sentences`` sentences. With ``respect_paragraphs`` no chunk crosses a blank-line paragraph break
(SQuAD paragraphs), and lines that are not prose (photo credits) are never part of a chunk. No chunk is longer
than ``max_chunk_chars``: only a sentence longer than that (a line without sentence breaks, a long list) is cut,
at whitespace, into pieces of at most ``target_words`` words that then count as sentences; a single "word"
longer than the bound is cut hard. Chunking takes time linear in the article's length.

Example:
    >>> from corpus import Article
    >>> art = Article.from_text("One short sentence. Another one.", title="t")
    >>> [c.text for c in chunk_article(art, ChunkerConfig(target_words=3, overlap_sentences=0))]
    ['One short sentence.', 'Another one.']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import accumulate

from corpus import Article
from index.chunk import Chunk
from index.sentences import (
    bounded_spans,
    paragraph_spans,
    prose_segments,
    sentence_spans,
)


@dataclass(frozen=True)
class ChunkerConfig:
    target_words: int = 120
    overlap_sentences: int = 1
    respect_paragraphs: bool = False
    # A group (paragraph or segment) of up to target * this factor stays one chunk rather than
    # leaving a tiny tail chunk behind.
    merge_factor: float = 1.4
    # The hard bound on a chunk's length, in characters. Why 2,000: prose chunks stay as they were (median about
    # 700 characters, the longest in SQuAD v1.1 dev 1,412, in SciFact 1,582; only 2 of 21,880 SQuAD v1.1 train
    # chunks are longer, each one sentence listing alumni); and at the reader tokenizer's 4 to 5 characters a
    # token on those chunks, 2,000 characters are 400 to 500 tokens, at most 4 of the reader's 256-token windows
    # (stride 128) where a typical chunk fills one. Unbounded, a 1 MB line was one chunk read for 109 s.
    max_chunk_chars: int = 2000
    # Bumped whenever the splitting rules change, so an index chunked by older rules is seen as stale.
    rules_version: int = 3

    def __post_init__(self) -> None:
        if self.max_chunk_chars < 1 or self.target_words < 1:
            raise ValueError(
                f"max_chunk_chars and target_words must be >= 1 (got {self.max_chunk_chars}, {self.target_words})"
            )

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_article(article: Article, config: ChunkerConfig = ChunkerConfig()) -> list[Chunk]:
    chunks: list[Chunk] = []
    for group_start, group_end in _groups(article.text, config.respect_paragraphs):
        sentences = sentence_spans(article.text, group_start, group_end)
        sentences = bounded_spans(article.text, sentences, config.max_chunk_chars, config.target_words)
        for first, last in _windows(article.text, sentences, config):
            start, end = sentences[first][0], sentences[last][1]
            chunks.append(
                Chunk(
                    id=f"{article.id}:{len(chunks)}",
                    article_id=article.id,
                    start=start,
                    end=end,
                    text=article.text[start:end],
                )
            )
    return chunks


def chunk_articles(articles: list[Article], config: ChunkerConfig = ChunkerConfig()) -> list[Chunk]:
    return [chunk for article in articles for chunk in chunk_article(article, config)]


def _groups(text: str, respect_paragraphs: bool) -> list[tuple[int, int]]:
    """Spans no chunk may cross: prose between non-prose lines, and paragraphs when asked."""
    outer = paragraph_spans(text) if respect_paragraphs else [(0, len(text))]
    return [seg for start, end in outer for seg in prose_segments(text, start, end)]


def _windows(text: str, sentences: list[tuple[int, int]], config: ChunkerConfig) -> list[tuple[int, int]]:
    """Inclusive (first, last) sentence indexes of each chunk, in one pass (prefix sums, no re-counting)."""
    if not sentences:
        return []
    n = len(sentences)
    # str.split() splits at exactly the characters regex \s matches (str.isspace), 4 times faster than findall.
    words = list(accumulate((len(text[s:e].split()) for s, e in sentences), initial=0))

    def fits(first: int, last: int, max_words: float) -> bool:
        """Sentences first..last (inclusive) hold at most max_words words and max_chunk_chars characters."""
        return (
            words[last + 1] - words[first] <= max_words
            and sentences[last][1] - sentences[first][0] <= config.max_chunk_chars
        )

    merged = config.target_words * config.merge_factor
    if fits(0, n - 1, merged):
        return [(0, n - 1)]
    windows: list[tuple[int, int]] = []
    first = 0
    while True:
        last = first
        while last + 1 < n and fits(first, last + 1, config.target_words):
            last += 1
        if last + 1 < n and fits(first, n - 1, merged):
            last = n - 1  # absorb a short tail instead of a tiny last chunk
        windows.append((first, last))
        if last == n - 1:
            return windows
        # Overlap, but always move forward by at least one sentence, and keep only as many overlap sentences
        # as leave room for the next new sentence (else the next chunk would be a copy of this one's tail).
        first = max(last + 1 - config.overlap_sentences, first + 1)
        while first <= last and not fits(first, last + 1, config.target_words):
            first += 1

"""Sentence-aware chunking with character offsets into the untouched article text.

A chunk is a run of whole sentences (never cut inside one) of about ``target_words`` words; consecutive chunks
share ``overlap_sentences`` sentences. With ``respect_paragraphs`` no chunk crosses a blank-line paragraph
break (SQuAD paragraphs), and lines that are not prose (photo credits) are never part of a chunk.

Example:
    >>> from corpus import Article
    >>> art = Article.from_text("One short sentence. Another one.", title="t")
    >>> [c.text for c in chunk_article(art, ChunkerConfig(target_words=3, overlap_sentences=0))]
    ['One short sentence.', 'Another one.']
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from corpus import Article
from index.chunk import Chunk
from index.sentences import paragraph_spans, prose_segments, sentence_spans

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkerConfig:
    target_words: int = 120
    overlap_sentences: int = 1
    respect_paragraphs: bool = False
    # A group (paragraph or segment) of up to target * this factor stays one chunk rather than
    # leaving a tiny tail chunk behind.
    merge_factor: float = 1.4
    # Bumped whenever the splitting rules change, so an index chunked by older rules is seen as stale.
    rules_version: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_article(article: Article, config: ChunkerConfig = ChunkerConfig()) -> list[Chunk]:
    chunks: list[Chunk] = []
    for group_start, group_end in _groups(article.text, config.respect_paragraphs):
        sentences = sentence_spans(article.text, group_start, group_end)
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
    """Inclusive (first, last) sentence indexes of each chunk."""
    if not sentences:
        return []
    words = [len(_WORD.findall(text[s:e])) for s, e in sentences]
    if sum(words) <= config.target_words * config.merge_factor:
        return [(0, len(sentences) - 1)]
    windows: list[tuple[int, int]] = []
    first = 0
    while True:
        last, count = first, words[first]
        while last + 1 < len(sentences) and count + words[last + 1] <= config.target_words:
            last += 1
            count += words[last]
        remaining = sum(words[last + 1 :])
        if last + 1 < len(sentences) and remaining + count <= config.target_words * config.merge_factor:
            last = len(sentences) - 1  # absorb a short tail instead of a tiny last chunk
        windows.append((first, last))
        if last == len(sentences) - 1:
            return windows
        # Overlap, but always move forward by at least one sentence, and keep only as many overlap sentences
        # as leave room for the next new sentence (else the next chunk would be a copy of this one's tail).
        first = max(last + 1 - config.overlap_sentences, first + 1)
        while first <= last and sum(words[first : last + 2]) > config.target_words:
            first += 1

"""Decoding a span model's start/end logits into answer spans: one softmax over every passage token read, duplicate
places of an article pooled, the best (window, start, end) overall, or the best of each article.

Plain functions on tensors, no model: ``qa.reader_span.SpanReader`` calls them after its forward pass.

Example:
    >>> import torch
    >>> start = torch.tensor([[0.0, 5.0, 0.0], [0.0, 0.0, 4.0]]); end = torch.tensor([[0.0, 0.0, 5.0], [0.0, 0.0, 4.0]])
    >>> mask = torch.tensor([[False, True, True], [False, True, True]])
    >>> scores = span_scores(start, end, mask, max_answer_tokens=5)
    >>> choice = pick_span(scores)
    >>> choice.window, choice.start_token, choice.end_token
    (0, 1, 2)
    >>> [c.window for c in best_span_per_group(scores, [0, 1])]
    [0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SpanChoice:
    window: int
    start_token: int
    end_token: int
    probability: float  # p(start) * p(end) under the softmax over every window decoded together


def article_positions(offsets: torch.Tensor, chunk_of_window: list[int], chunks: list) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, L) int64 keys of each token's start and end character in its article (``offsets``: (W, L, 2) characters
    in the window's chunk): equal keys are the same place of the same article, wherever it was read (overlapping
    chunks, strided windows of one chunk)."""
    article_number: dict[str, int] = {}
    base = torch.tensor([
        article_number.setdefault(chunks[c].article_id, len(article_number)) * (1 << 40) + chunks[c].start
        for c in chunk_of_window
    ], dtype=torch.int64)[:, None]
    return base + offsets[:, :, 0], base + offsets[:, :, 1]


def _merge_duplicates(log_p: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each context token's log-probability replaced by the log of the summed probability of every context token
    with its key (the same article character read in several windows)."""
    flat_keys, flat_p = keys[mask], log_p[mask].exp()
    unique, inverse = torch.unique(flat_keys, return_inverse=True)
    total = torch.zeros(len(unique), dtype=flat_p.dtype).scatter_add_(0, inverse, flat_p)
    merged = log_p.clone()
    merged[mask] = total[inverse].log()
    return merged


def span_scores(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    context_mask: torch.Tensor,
    max_answer_tokens: int,
    positions: tuple[torch.Tensor, torch.Tensor] | None = None,
    window_prior: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """(W, L, M) log-probabilities of every allowed span: ``[w, i, d]`` is log p_start[w, i] + log p_end[w, i + d],
    -inf where not allowed; None when no token is context.

    Start and end are each normalised by one softmax over every context token of every window, so a span's
    probability means the same in every window and chunk. ``positions``: (start keys, end keys) of each token
    in its article (``article_positions``); where one place of an article is read in several windows (chunks
    overlap by a sentence; a long chunk's windows by the stride), its start (end) probability is the sum over
    those copies, so an answer read twice is not half as sure as one read once. ``window_prior`` (W,): a log-prior
    added to every start logit of a window before the softmax, so the start mass of window w is weighted by
    exp(prior[w]) (``rank_prior``: trust the retriever's order).
    """
    if not bool(context_mask.any()):
        return None
    n_windows, length = start_logits.shape
    neg_inf = torch.tensor(float("-inf"))
    if window_prior is not None:
        start_logits = start_logits + window_prior[:, None].to(start_logits.dtype)
    log_p_start = torch.log_softmax(torch.where(context_mask, start_logits, neg_inf).reshape(-1), 0).reshape(n_windows, length)
    log_p_end = torch.log_softmax(torch.where(context_mask, end_logits, neg_inf).reshape(-1), 0).reshape(n_windows, length)
    if positions is not None:
        log_p_start = _merge_duplicates(log_p_start, positions[0], context_mask)
        log_p_end = _merge_duplicates(log_p_end, positions[1], context_mask)
    # The allowed (start, end) pairs form the band start <= end < start + max_answer_tokens of the upper
    # triangle; only that band is materialised: (W, L, M) instead of (W, L, L), about L/M times less work.
    band = max(1, min(max_answer_tokens, length))
    padded_end = torch.nn.functional.pad(log_p_end, (0, band - 1), value=float("-inf"))
    end_band = padded_end.unfold(1, band, 1)  # [w, i, d] = log p_end[w, i + d]
    return log_p_start[:, :, None] + end_band


def pick_span(scores: torch.Tensor, windows: list[int] | None = None) -> SpanChoice | None:
    """The best span of ``span_scores`` (among ``windows`` only, when given); None when none is allowed."""
    rows = list(range(scores.shape[0])) if windows is None else list(windows)
    if not rows:
        return None
    part = scores if windows is None else scores[torch.tensor(rows)]
    _, length, band = part.shape
    best = int(torch.argmax(part.reshape(-1)))
    row, rest = divmod(best, length * band)
    start, offset = divmod(rest, band)
    score = part[row, start, offset]
    if not bool(torch.isfinite(score)):
        return None
    return SpanChoice(rows[row], start, start + offset, float(torch.exp(score)))


def best_span_per_group(scores: torch.Tensor, group_of_window: list) -> list[SpanChoice]:
    """The best span of each group of windows (e.g. each article read), best first: the probabilities stay those
    of the one softmax over all windows, so they compare across groups."""
    groups: dict = {}
    for w, g in enumerate(group_of_window):
        groups.setdefault(g, []).append(w)
    choices = [c for rows in groups.values() if (c := pick_span(scores, rows)) is not None]
    return sorted(choices, key=lambda c: -c.probability)

"""The order of the training windows and the tensors of one batch.

One seeded permutation per epoch, cut into mega-batches of ``mega_batch`` x batch, sorted by length inside each
(little padding), then the batches are shuffled. The same (seed, epoch) always gives the same batches, so a
resumed run takes exactly the batches an uninterrupted run would have taken.

Example:
    >>> batches = epoch_batches(np.array([5, 9, 7, 3]), batch_size=2, seed=0, epoch=0)
    >>> sorted(int(w) for b in batches for w in b)
    [0, 1, 2, 3]
"""

from __future__ import annotations

import math

import numpy as np

from training.features import Features
from training.settings import Settings


def kept_windows(features: Features, settings: Settings) -> np.ndarray:
    """Indices of the windows trained on: every window holding the answer and every window of an unanswerable
    example (they are what ``--negative-share`` asks for), ``keep_negative`` of the others."""
    if settings.keep_negative >= 1:
        return np.arange(len(features))
    answerable = features.n_examples if features.n_answerable is None else features.n_answerable
    positive = (features.start > 0) | (features.example >= answerable)
    rng = np.random.default_rng([settings.seed, 7919])
    keep = positive | (rng.random(len(features)) < settings.keep_negative)
    return np.nonzero(keep)[0]


def epoch_batches(
    lengths: np.ndarray, batch_size: int, seed: int, epoch: int, mega_batch: int = 50
) -> list[np.ndarray]:
    """Batches (positions into ``lengths``) of one epoch: seeded permutation, sorted by length inside mega-batches
    of ``mega_batch`` x ``batch_size``, batches shuffled. The same (seed, epoch) always gives the same batches."""
    rng = np.random.default_rng([seed, epoch])
    perm = rng.permutation(len(lengths))
    size = max(1, mega_batch) * batch_size
    batches = []
    for first in range(0, len(perm), size):
        group = perm[first:first + size]
        group = group[np.argsort(-lengths[group], kind="stable")]
        batches.extend(group[i:i + batch_size] for i in range(0, len(group), batch_size))
    return [batches[k] for k in rng.permutation(len(batches))]


def steps_per_epoch(n: int, batch_size: int, mega_batch: int) -> int:
    size = max(1, mega_batch) * batch_size
    full, rest = divmod(n, size)
    return full * math.ceil(size / batch_size) + math.ceil(rest / batch_size)


def make_batch(features: Features, windows: np.ndarray, pad_id: int):
    """The model inputs and labels of ``windows``, padded to the longest; token types rebuilt from ``ctx_start``."""
    import torch

    length = int(max(features.offsets[w + 1] - features.offsets[w] for w in windows))
    ids = np.full((len(windows), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), length), dtype=np.int64)
    types = np.zeros((len(windows), length), dtype=np.int64)
    for row, w in enumerate(windows):
        tokens = features.window(w)
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
        types[row, features.ctx_start[w]:len(tokens)] = 1
    return {
        "input_ids": torch.from_numpy(ids),
        "attention_mask": torch.from_numpy(mask),
        "token_type_ids": torch.from_numpy(types),
        "start_positions": torch.from_numpy(features.start[windows].astype(np.int64)),
        "end_positions": torch.from_numpy(features.end[windows].astype(np.int64)),
    }

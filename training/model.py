"""The model side of a run: device and bf16 choice, seeds, the encoder with a span head, AdamW groups, schedule.

Example:
    >>> model = load_base_model("qa/models/reader", seed=0, dropout=0.0)        # doctest: +SKIP
    >>> factor = linear_schedule(total=100, warmup_fraction=0.1)
    >>> factor(0), factor(9), factor(55)
    (0.1, 1.0, 0.5)
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np


def pick_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def bf16_native(device) -> bool:
    """Whether bfloat16 autocast pays off: a GPU with bf16, or a CPU with AVX512-BF16/AMX. On an AVX2-only CPU
    bf16 matmuls are emulated (measured here: 13x slower than float32 for one linear layer)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_base_model(path: str, seed: int, dropout: float | None = None):
    """The encoder with a span head; the head (new, random) is initialised from ``seed``. ``dropout`` (when
    given) replaces the model's hidden and attention dropout."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    torch.manual_seed(seed)
    extra = {} if dropout is None else {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
    return AutoModelForQuestionAnswering.from_pretrained(path, local_files_only=True, dtype=torch.float32, **extra)


def word_embeddings(model):
    return model.get_input_embeddings().weight


def param_groups(model, weight_decay: float):
    """AdamW groups: weight decay on the matrices, none on biases and LayerNorm."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() or name.endswith("bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def linear_schedule(total: int, warmup_fraction: float):
    """The learning-rate factor of each step: linear warm-up over ``warmup_fraction`` of ``total``, then linear
    decay to 0."""
    warmup = max(1, math.ceil(total * warmup_fraction)) if warmup_fraction > 0 else 0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup  # step 0 already trains (at lr / warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor

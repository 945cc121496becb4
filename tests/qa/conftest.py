"""Fixtures of the qa reader tests: a tiny, randomly initialised span model saved like a real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiny_span import build_tiny_span_model


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models on a shared 2-core machine: torch's second intra-op thread only waits for a busy core
    (measured: a tiny-model read took 0.4-0.9 s with 2 threads under load, 0.03-0.07 s with 1)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_span_model(tmp_path_factory) -> Path:
    return build_tiny_span_model(tmp_path_factory.mktemp("tiny-span-model"))

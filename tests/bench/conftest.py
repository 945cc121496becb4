"""Fixtures of the benchmark-script tests: the tiny span model of the qa tests, one torch thread."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "qa"))

from tiny_span import build_tiny_span_model  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_span_model(tmp_path) -> Path:
    """A fresh copy each test: the report writes its calibration and card into the model directory."""
    return build_tiny_span_model(tmp_path / "model")

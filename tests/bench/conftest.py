"""Fixtures of the benchmark-script tests: one torch thread, and a private copy of the tiny span model.

``tiny_span_model`` and ``one_torch_thread`` come from tests/conftest.py (the model is built by
tests/tiny_span.py); the reader report writes its calibration and card into the model directory, so each test
that runs it works on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread(one_torch_thread):
    yield


@pytest.fixture
def span_model_copy(tiny_span_model, tmp_path) -> Path:
    """A private copy of the session's tiny span model that a test may change."""
    target = tmp_path / "model"
    shutil.copytree(tiny_span_model, target)
    return target

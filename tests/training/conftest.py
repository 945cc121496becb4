"""Fixtures of the training tests: one torch thread, a synthetic SQuAD file, the tiny model's tokenizer.

``tiny_span_model`` and ``one_torch_thread`` come from tests/conftest.py; training runs only read the model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_training import synthetic_squad


@pytest.fixture(scope="session", autouse=True)
def _one_thread(one_torch_thread):
    yield


@pytest.fixture(scope="module")
def squad_file(tmp_path_factory) -> Path:
    return synthetic_squad(tmp_path_factory.mktemp("squad") / "train.json")


@pytest.fixture(scope="module")
def tokenizer(tiny_span_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_span_model), local_files_only=True)

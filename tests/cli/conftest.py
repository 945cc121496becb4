"""The command-line tests read with tiny models: one torch thread for all of them (see ``one_torch_thread``)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread(one_torch_thread):
    yield

"""Every fetching test runs with connections beyond the loopback interface refused, and fails if one was tried."""

from __future__ import annotations

import pytest
from local_site import LocalSite, loopback_only


@pytest.fixture(autouse=True)
def no_network():
    with loopback_only() as attempts:
        yield attempts
    assert attempts == [], f"a connection left the loopback interface: {attempts}"


@pytest.fixture
def site():
    with LocalSite() as served:
        yield served

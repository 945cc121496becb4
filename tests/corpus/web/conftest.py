"""Every fetching test runs with connections beyond the loopback interface refused, and fails if one was tried."""

from __future__ import annotations

from local_site import no_network_guard, site_fixture  # noqa: F401  (fixtures: no_network, site)

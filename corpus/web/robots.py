"""robots.txt, respected: each host's rules read once a run (``urllib.robotparser``) and asked before each fetch.

What happens when a site's robots.txt cannot be read follows RFC 9309 (section 2.3.1):
- found (2xx): its rules for our user agent (the product token ``article-qa``, else ``*``) decide; at most
  the first ``ROBOTS_MAX_BYTES`` (500 KiB, the RFC's minimum) are read;
- not there, or any other 4xx (404, 410, 401, 403 ...), or more redirects than ``fetch.MAX_REDIRECTS``: no
  rules, everything may be fetched (RFC 9309 2.3.1.3: "unavailable");
- a server error (5xx): the whole host is taken as disallowed for the rest of the run (2.3.1.4: "unreachable"),
  and each URL on it is reported as such;
- the host cannot be reached (no such name, connection refused, timed out): nothing is fetched from it; each
  URL on it fails with that reason, as its page would.
``urllib.robotparser`` applies the first rule that matches a path, where RFC 9309 takes the longest; sites
whose allow and disallow lines overlap may read differently (a known limit of the standard library).

Example:
    >>> rules = RobotsRules(get, "article-qa/0.1.0")     # doctest: +SKIP
    >>> rules.refusal("https://example.com/private/a.html")   # doctest: +SKIP
    'disallowed by https://example.com/robots.txt'
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

ROBOTS_MAX_BYTES = 500 * 1024
GetRobots = Callable[[str], tuple[int, bytes]]  # robots.txt URL -> (final status, body); raises on the network


class RobotsRules:
    """The robots.txt rules of every host met in one run, each read once."""

    def __init__(self, get: GetRobots, user_agent: str, network_error: type[Exception] = OSError):
        self._get = get
        self._agent = user_agent
        self._network_error = network_error
        self._hosts: dict[str, RobotFileParser | str] = {}  # origin -> its rules, or why nothing may be fetched

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be fetched under its host's robots.txt, or None when it may."""
        origin = robots_url(url)
        if origin not in self._hosts:
            self._hosts[origin] = self._read(origin)
        rules = self._hosts[origin]
        if isinstance(rules, str):
            return rules
        if not rules.can_fetch(self._agent, url):
            return f"disallowed by robots.txt ({origin})"
        return None

    def _read(self, robots: str) -> RobotFileParser | str:
        try:
            status, body = self._get(robots)
        except self._network_error as exc:  # the host cannot be reached: its pages cannot either
            return str(exc)
        parser = RobotFileParser(robots)
        if 200 <= status < 300:
            parser.parse(body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace").splitlines())
        elif status >= 500:
            return f"robots.txt unavailable (HTTP {status}): the site is not fetched while it cannot say what may be"
        else:  # 4xx, or redirected too often: no rules
            parser.allow_all = True
        return parser


def robots_url(url: str) -> str:
    """The robots.txt that governs ``url``: ``/robots.txt`` at its scheme, host and port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, "/robots.txt", "", ""))

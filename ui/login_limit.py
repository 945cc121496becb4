"""Failed logins, counted per client address: past ``limit`` failures in ``window_s`` seconds a client is refused
(HTTP 429, with ``Retry-After``) until its oldest failure in the window has aged out.

One ``FailedLogins`` serves both ways in: the JSON API's HTTP Basic check (``ui.api``) and the chat's login form
(Gradio's ``POST /login``, watched by ``LoginLimitMiddleware``: it refuses a limited client before Gradio sees the
request, and counts a 4xx answer to a login as a failure). A correct password does not lift a limit early: a
guesser that hit it must wait like anyone. Only attempts that carry credentials count (a request without an
``Authorization`` header is a client that has not tried yet).

Example:
    >>> logins = FailedLogins(limit=2, window_s=60.0, clock=lambda: 0.0)
    >>> logins.failed("10.0.0.7"); logins.failed("10.0.0.7"); logins.retry_after("10.0.0.7")
    60.0
    >>> logins.retry_after("10.0.0.8") is None
    True
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable

LOGIN_PATHS = frozenset({"/login", "/login/"})  # Gradio's login form, mounted at "/"
MAX_CLIENTS = 10_000  # addresses remembered at once; past it, those with no failure in the window are forgotten


class FailedLogins:
    def __init__(self, limit: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # the API's checks run on the event loop, Gradio's login in a thread

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None when it may try now."""
        with self._lock:
            recent = self._recent(client, self.clock())
            if recent is None or len(recent) < self.limit:
                return None
            return max(0.0, recent[0] + self.window_s - self.clock())

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            if client not in self._failures and len(self._failures) >= MAX_CLIENTS:
                for other in list(self._failures):
                    self._recent(other, now)
            self._failures.setdefault(client, deque()).append(now)

    def refusal(self, client: str) -> tuple[str, float] | None:
        """The message and Retry-After for a client over the limit, or None."""
        wait = self.retry_after(client)
        if wait is None:
            return None
        return (f"too many failed logins from this address: try again in {math.ceil(wait)} s", wait)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        """``client``'s failures inside the window (older ones dropped; a client with none is forgotten)."""
        recent = self._failures.get(client)
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        if recent is not None and not recent:
            del self._failures[client]
            return None
        return recent


def client_address(scope: dict) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class LoginLimitMiddleware:
    """ASGI middleware over the whole app: ``POST`` to Gradio's login form is refused with 429 while the client
    is over the limit, and a 4xx answer to it (wrong user or password) counts as a failed login."""

    def __init__(self, app, logins: FailedLogins):
        self.app, self.logins = app, logins

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in LOGIN_PATHS:
            return await self.app(scope, receive, send)
        client = client_address(scope)
        if refused := self.logins.refusal(client):
            message, wait = refused
            await send({"type": "http.response.start", "status": 429, "headers": [
                (b"content-type", b"application/json"), (b"retry-after", str(math.ceil(wait)).encode())]})
            await send({"type": "http.response.body", "body": json.dumps({"error": message}).encode()})
            return None
        status: list[int] = []

        async def watch(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and 400 <= status[0] < 500:
            self.logins.failed(client)
        return None

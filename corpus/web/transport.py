"""One HTTP exchange: a GET to an address already checked, with a connect timeout, a read timeout, an overall
deadline, and a body read no further than a size limit.

``http.client`` (the standard library under ``urllib``) does the protocol; the connection is opened here, to
the address ``addresses.checked_addresses`` allowed, while the ``Host`` header (and, for HTTPS, the name the
certificate must hold, with the system's certificate authorities) stay the URL's. Proxies (``$HTTP_PROXY``)
are not used: a proxy would connect to addresses that were never checked. Redirects, content types and
robots.txt are the fetcher's (``fetch.py``); this module never follows anything.

A failure is a ``NetworkError`` whose message is the reason in words ("connection refused", "timed out
connecting (after 10 s)", "DNS failure: no such host ...").

Example:
    >>> with open_exchange("http://127.0.0.1:8000/a.html", headers, limits) as response:   # doctest: +SKIP
    ...     response.status, response.header("content-type"), response.read_body(1_000_000)
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from corpus.web.addresses import (
    PRIVATE_REFUSED,
    Resolver,
    checked_addresses,
    system_resolver,
)

CHUNK = 64 * 1024


class NetworkError(Exception):
    """The page could not be had over the network; the message is the reason in words."""


class TooLarge(NetworkError):
    """The body is larger than the limit."""


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 10.0  # seconds to open the connection (each address tried)
    read_timeout: float = 30.0  # seconds without a byte from the server
    total_timeout: float = 60.0  # seconds for the whole exchange, however the bytes trickle in
    refuse_private: bool = True  # refuse loopback, private and link-local addresses (see addresses.py)
    refused_hint: str = PRIVATE_REFUSED  # said after such a refusal: what the user can do about it


class Response:
    """An open response: status, headers, and the body read on demand (at most a limit)."""

    def __init__(self, raw: http.client.HTTPResponse, deadline: float, total_timeout: float):
        self._raw, self._deadline, self._total = raw, deadline, total_timeout
        self.status: int = raw.status
        self.reason: str = raw.reason or http.client.responses.get(raw.status, "")

    def header(self, name: str) -> str | None:
        return self._raw.getheader(name)

    def read_body(self, limit: int, truncate: bool = False) -> bytes:
        """The body (decompressed when sent gzip- or deflate-encoded) up to ``limit`` bytes; over it,
        ``TooLarge`` (or the first ``limit`` bytes with ``truncate``). A declared length over the limit is
        refused before anything is read."""
        length = self.header("content-length")
        if not truncate and length and length.strip().isdigit() and int(length) > limit:
            raise TooLarge(f"too large ({_size(int(length))} declared; the limit is {_size(limit)})")
        decoder = _decoder(self.header("content-encoding"))
        out = bytearray()
        while True:
            if time.monotonic() > self._deadline:
                raise NetworkError(f"timed out (the page took over {self._total:g} s)")
            try:
                chunk = self._raw.read1(CHUNK) if hasattr(self._raw, "read1") else self._raw.read(CHUNK)
            except TimeoutError:
                raise NetworkError("timed out reading the page") from None
            except (http.client.HTTPException, OSError) as exc:
                raise NetworkError(f"connection broken while reading ({_reason(exc)})") from None
            if not chunk:
                break
            try:
                out += decoder.decompress(chunk, limit + 1 - len(out)) if decoder else chunk
            except zlib.error as exc:
                raise NetworkError(f"body not readable as its content encoding says ({exc})") from None
            if len(out) > limit:
                if truncate:
                    return bytes(out[:limit])
                raise TooLarge(f"too large (over {_size(limit)}, the limit)")
        if decoder:
            try:
                out += decoder.flush()
            except zlib.error as exc:
                raise NetworkError(f"body not readable as its content encoding says ({exc})") from None
        return bytes(out[:limit]) if truncate else bytes(out)


@contextmanager
def open_exchange(url: str, headers: dict[str, str], limits: Limits,
                  resolve: Resolver = system_resolver) -> Iterator[Response]:
    """GET ``url`` and yield the response with its body unread; the connection is closed afterwards."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + limits.total_timeout
    try:
        addresses = checked_addresses(host, port, limits.refuse_private, resolve, limits.refused_hint)
    except PermissionError as exc:
        raise NetworkError(f"refused: {exc}") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise NetworkError(f"DNS failure: {host} not found ({_reason(exc)})") from None
    sock = _connect(addresses, port, limits.connect_timeout)
    try:
        if parts.scheme == "https":
            try:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError as exc:
                raise NetworkError(f"TLS certificate not valid for {host} ({exc.verify_message})") from None
            except (ssl.SSLError, OSError) as exc:
                raise NetworkError(f"TLS error ({_reason(exc)})") from None
        sock.settimeout(limits.read_timeout)
        connection = http.client.HTTPConnection(host, port, timeout=limits.read_timeout)
        connection.sock = sock  # already connected (to the address checked): http.client does not connect again
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers={**headers, "Host": _host_header(parts)})
            raw = connection.getresponse()
        except TimeoutError:
            raise NetworkError(f"timed out waiting for a response (no answer for {limits.read_timeout:g} s)") from None
        except (http.client.HTTPException, OSError) as exc:
            raise NetworkError(f"bad HTTP response ({_reason(exc)})") from None
        try:
            yield Response(raw, deadline, limits.total_timeout)
        finally:
            raw.close()
            connection.close()
    finally:
        sock.close()


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connected socket to the first address that answers; the reason of the last failure otherwise."""
    failure = "no address"
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
            return sock
        except ConnectionRefusedError:
            failure = "connection refused"
        except TimeoutError:
            failure = f"timed out connecting (after {timeout:g} s)"
        except OSError as exc:
            failure = f"cannot connect ({_reason(exc)})"
        sock.close()
    raise NetworkError(failure)


def _host_header(parts) -> str:
    """The ``Host`` header: the URL's host, and its port when not the scheme's own."""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _decoder(encoding: str | None):
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise NetworkError(f"unsupported content encoding {encoding[:40]}")


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "strerror", None) or str(exc).strip()
    return message or exc.__class__.__name__


def _size(n: int) -> str:
    return f"{n / 2**20:.1f}".removesuffix(".0") + " MB" if n >= 2**20 else f"{n:,} bytes"

"""A web site on 127.0.0.1 for the fetching tests, and a guard that no socket leaves the loopback interface.

``LocalSite`` serves what a test puts on it (``page``, ``redirect``, ``route``) from a thread
(``http.server``), with real status codes, headers, delays and bodies, and records each request it answers
(path and headers). Anything not put on it is a 404, robots.txt included.

``loopback_only`` replaces the socket functions for the length of a test: connecting to (or looking up) any
address but a loopback one is refused and recorded; names under ``.invalid`` (RFC 6761: never resolvable)
fail as a resolver would fail them, with ``socket.gaierror``, without any lookup.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[1] / "pages"


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the response starts
    drip: float = 0.0  # seconds between 1 KB pieces of the body
    length: bool = True  # send Content-Length (else the body ends when the connection closes)


class LocalSite:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                site.requests.append((self.path, dict(self.headers)))
                route = site.routes.get(self.path, Route(404, b"<html><body><h1>Not Found</h1></body></html>",
                                                         {"Content-Type": "text/html"}))
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.send_response(route.status)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.length:
                        self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    for start in range(0, len(route.body), 1024 if route.drip else len(route.body) or 1):
                        if route.drip:
                            time.sleep(route.drip)
                        self.wfile.write(route.body[start:start + (1024 if route.drip else len(route.body))])
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout, a size limit)
                    pass

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def page(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8", **kw) -> str:
        headers = {"Content-Type": content_type} if content_type else {}
        return self.route(path, Route(body=body, headers=headers | kw.pop("headers", {}), **kw))

    def saved_page(self, path: str, name: str, content_type: str = "text/html; charset=utf-8") -> str:
        """One of the saved real pages of tests/corpus/pages, served as it was saved."""
        return self.page(path, (PAGES / name).read_bytes(), content_type)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.route(path, Route(status, b"", {"Location": location}))

    def paths_asked(self) -> list[str]:
        return [path for path, _ in self.requests]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@contextmanager
def loopback_only():
    """For the ``with`` block: only loopback connections and look-ups; every other attempt is refused and
    listed in the list yielded (a ``.invalid`` name fails to resolve, as it would anywhere, and is not)."""
    attempts: list[tuple[str, str]] = []
    real = socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo

    def check(what, address):
        if isinstance(address, (str, bytes)):  # a Unix socket: local
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_loopback(host):
            attempts.append((what, repr(address)))
            raise OSError(f"network disabled by the test: {what} {address!r}")

    def connect(self, address):
        check("connect", address)
        return real[0](self, address)

    def connect_ex(self, address):
        check("connect_ex", address)
        return real[1](self, address)

    def create_connection(address, *args, **kwargs):
        check("create_connection", address)
        return real[2](address, *args, **kwargs)

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host or "")
        if name.lower().rstrip(".").endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        check("getaddrinfo", (host, port))
        return real[3](host, port, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo = real


FEEDS = Path(__file__).resolve().parent / "feeds"
FEED_HOST = b"http://news.example"
# where the saved real pages are served, as the feeds in feeds/ link to them
NEWS_PAGES = {
    "/thailand/2019/01/80642.html": ("prachatai.html", "text/html; charset=utf-8"),
    "/us/2013/11/27/weather-thanksgiving.html?ref=rss": ("cnn_article.html", "text/html; charset=utf-8"),
    "/middle-east/2013/08/03/syria-clashes.html": ("cnn_arabic.html", "text/html; charset=utf-8"),
    "/korea/2019/08/20/AEN20190820002300325.html": ("yna_co_kr.html", "text/html;charset=UTF-8"),
    "/china/2023/11/17/drug-supply.html": ("xinhuanet.html", "text/html"),
    "/japan/2018/06/18/3178894.html": ("afpbb.shift_jis.html", "text/html"),  # its <meta charset> says Shift_JIS
    "/mirror/weather-thanksgiving.html": ("cnn_article.html", "text/html; charset=utf-8"),  # the same page again
}


def serve_news(site: LocalSite) -> dict[str, str]:
    """The saved pages at NEWS_PAGES and the two feeds (``world.rss``: 3 items, ``asia.atom``: 4, one of them
    the CNN page of world.rss at a second address); returns the feeds' URLs by name."""
    for path, (name, content_type) in NEWS_PAGES.items():
        site.saved_page(path, name, content_type)
    feeds = {}
    for name, path, content_type in (("world.rss", "/feeds/world.rss", "application/rss+xml; charset=utf-8"),
                                     ("asia.atom", "/feeds/asia.atom", "application/atom+xml")):
        source = "news.rss" if name.endswith(".rss") else "news.atom"
        body = (FEEDS / source).read_bytes().replace(FEED_HOST, site.base.encode("ascii"))
        feeds[name] = site.page(path, body, content_type)
    return feeds


# Fixtures for the modules that fetch: import them (``from local_site import no_network_guard, site_fixture``);
# pytest knows them as ``no_network`` and ``site``, so a test's ``site`` argument does not shadow the import.


@pytest.fixture(name="no_network", autouse=True)
def no_network_guard():
    """Every test of a module that imports it fails if a connection left the loopback interface."""
    with loopback_only() as attempts:
        yield attempts
    assert attempts == [], f"a connection left the loopback interface: {attempts}"


@pytest.fixture(name="site")
def site_fixture():
    """A ``LocalSite`` for the test, shut down after it."""
    with LocalSite() as served:
        yield served


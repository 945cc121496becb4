"""Fetch one article page (or a feed) as a polite, bounded client: ``Fetcher(policy).fetch(url)``.

Every request carries the user agent ``article-qa/<version> (+...)`` and asks for what it can read. A fetch
- takes http and https URLs only, and follows at most ``MAX_REDIRECTS`` (5) redirects, each to http(s) only;
- asks robots.txt first, for the URL and for every redirect target (``robots.py``: read once per host a run);
- gives up after a connect timeout (10 s), a read timeout (30 s without a byte) and an overall 60 s;
- reads at most ``$QA_MAX_ARTICLE_BYTES`` (the article size limit, 50 MB), refusing a larger declared length
  before reading;
- keeps a page only if it is ``text/html``, ``application/xhtml+xml`` (a page) or ``text/plain`` (a ``.txt``
  article); a response without a type is taken as HTML when its bytes start like HTML;
- succeeds on HTTP 200 (or 203) only;
- with ``refuse_private`` (the default here; the command line turns it off), refuses hosts that resolve to
  loopback, private or link-local addresses (``addresses.py``), redirect targets included.
Any failure raises ``FetchFailed`` naming the URL with the reason ("HTTP 404 Not Found", "connection
refused", "disallowed by robots.txt (...)", "too many redirects (more than 5)", ...).

Example:
    >>> page = Fetcher(FetchPolicy(refuse_private=False)).fetch("http://127.0.0.1:8000/a.html")   # doctest: +SKIP
    >>> page.final_url, page.status, page.content_type, page.charset, len(page.body)           # doctest: +SKIP
    ('http://127.0.0.1:8000/a.html', 200, 'text/html', 'utf-8', 41234)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from corpus.loaders.common import Failure
from corpus.loaders.files import MAX_ARTICLE_BYTES_ENV, max_article_bytes
from corpus.web.addresses import PRIVATE_REFUSED, Resolver, system_resolver
from corpus.web.robots import ROBOTS_MAX_BYTES, RobotsRules
from corpus.web.transport import Limits, NetworkError, TooLarge, open_exchange

MAX_REDIRECTS = 5
REDIRECTS = frozenset((301, 302, 303, 307, 308))
PAGE_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt"}  # type -> suffix
FEED_TYPES = {t: ".xml" for t in ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
                                   "application/xml", "text/xml", "application/x-rss+xml", "text/plain")}
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8"
FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1"
ABOUT = "a question-answering tool that fetches only the pages its user names"
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_LOOKS_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)[\s>]",
                         re.IGNORECASE | re.DOTALL)


def user_agent() -> str:
    """``article-qa/<version> (+<what it is>)``: the project's name and version, as a site's logs show it."""
    try:
        version = metadata.version("article-qa")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"article-qa/{version} (+{ABOUT})"


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str = field(default_factory=user_agent)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_bytes: int | None = None  # None: $QA_MAX_ARTICLE_BYTES, the article size limit (50 MB)
    max_redirects: int = MAX_REDIRECTS
    refuse_private: bool = True  # a server fetching for others refuses these; `qa add` turns it off
    refused_hint: str = PRIVATE_REFUSED  # said after such a refusal (the chat says how to allow them)

    def limits(self) -> Limits:
        return Limits(self.connect_timeout, self.read_timeout, self.total_timeout, self.refuse_private, self.refused_hint)


@dataclass(frozen=True)
class Fetched:
    """A page as the server sent it, and how it was had."""

    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    content_type: str  # the media type alone, lower-case ("text/html")
    charset: str | None  # the Content-Type's charset parameter, as sent
    body: bytes
    fetched_at: str  # UTC, ISO 8601 ("2024-05-01T12:00:00Z")
    redirects: tuple[str, ...] = ()  # the URLs redirected through, in order, the first asked for included

    @property
    def suffix(self) -> str:
        """The loader's suffix for this page: ``.html`` or ``.txt``."""
        return PAGE_TYPES.get(self.content_type, ".html")


class FetchFailed(Exception):
    """A URL that could not be fetched; ``str()`` names the URL and the reason."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


def is_url(text: str) -> bool:
    """Whether a command-line argument is a URL (``scheme://...``) rather than a file name."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text.strip()) is not None


def checked_url(url: str) -> str:
    """``url`` as it is requested: http or https, with a host, no fragment, its host in IDNA and its path and
    query percent-encoded; ``ValueError`` (the reason) otherwise."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http or https URL (scheme {scheme or 'none'})")
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if not host:
        raise ValueError("not a valid URL (no host)")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise ValueError(f"not a valid host name ({host[:80]})") from None
    host = f"[{host}]" if ":" in host else host
    netloc = host if port is None else f"{host}:{port}"
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    query = quote(parts.query, safe=_SAFE_PATH + "?")
    return urlunsplit((scheme, netloc, path, query, ""))


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Fetcher:
    """Fetches pages under one policy; robots.txt rules are kept for the fetcher's life (one run)."""

    def __init__(self, policy: FetchPolicy | None = None, resolve: Resolver = system_resolver):
        self.policy = policy or FetchPolicy()
        self._resolve = resolve
        self.robots = RobotsRules(self._get_robots, self.policy.user_agent, NetworkError)

    def fetch(self, url: str, types: Mapping[str, str] = PAGE_TYPES, accept: str = PAGE_ACCEPT,
              what: str = "a web page") -> Fetched:
        """The page at ``url`` (its type one of ``types``); ``FetchFailed`` with the reason otherwise."""
        try:
            current = checked_url(url)
        except ValueError as exc:
            raise FetchFailed(url, str(exc)) from None
        limit = self._limit(url)
        visited: list[str] = []
        for hop in range(self.policy.max_redirects + 1):
            after = f" (after a redirect to {current})" if visited else ""
            if (why := self.robots.refusal(current)) is not None:
                raise FetchFailed(url, why + after)
            try:
                with open_exchange(current, self._headers(accept), self.policy.limits(), self._resolve) as response:
                    if response.status in REDIRECTS:
                        visited.append(current)
                        current = self._redirect(url, current, response.header("location"), hop)
                        continue
                    if response.status not in (200, 203):
                        raise FetchFailed(url, f"HTTP {response.status} {response.reason}".strip() + after)
                    media, charset = content_type(response.header("content-type"))
                    if media and media not in types:
                        raise FetchFailed(url, wrong_type(media, types, what) + after)
                    body = response.read_body(limit)
            except TooLarge as exc:
                raise FetchFailed(url, f"{exc}, set {MAX_ARTICLE_BYTES_ENV}" + after) from None
            except NetworkError as exc:
                raise FetchFailed(url, str(exc) + after) from None
            if not media:
                if "text/html" not in types or not _LOOKS_HTML.match(body[:4096].lstrip(b"\xef\xbb\xbf")):
                    raise FetchFailed(url, f"no content type given, and it does not look like {what}" + after)
                media = "text/html"
            if not body:
                raise FetchFailed(url, "empty response" + after)
            return Fetched(url, current, response.status, media, charset, body, now_utc(), tuple(visited))
        raise FetchFailed(url, f"too many redirects (more than {self.policy.max_redirects})")

    def _redirect(self, url: str, current: str, location: str | None, hop: int) -> str:
        if not location:
            raise FetchFailed(url, f"a redirect without a Location, from {current}")
        if hop >= self.policy.max_redirects:
            raise FetchFailed(url, f"too many redirects (more than {self.policy.max_redirects})")
        target = urljoin(current, location.strip())
        try:
            return checked_url(target)
        except ValueError as exc:
            raise FetchFailed(url, f"redirected to {target[:200]}: {exc}") from None

    def _get_robots(self, robots: str) -> tuple[int, bytes]:
        """(status, body) of a robots.txt, redirects followed; too many of them count as none there (410)."""
        current = robots
        for _ in range(self.policy.max_redirects + 1):
            with open_exchange(current, self._headers("text/plain,*/*;q=0.5"), self.policy.limits(),
                               self._resolve) as response:
                location = response.header("location")
                if response.status in REDIRECTS and location:
                    try:
                        current = checked_url(urljoin(current, location.strip()))
                    except ValueError:
                        return 410, b""
                    continue
                body = response.read_body(ROBOTS_MAX_BYTES, truncate=True) if response.status < 300 else b""
                return response.status, body
        return 410, b""

    def _headers(self, accept: str) -> dict[str, str]:
        return {"User-Agent": self.policy.user_agent, "Accept": accept, "Accept-Encoding": "gzip",
                "Connection": "close"}

    def _limit(self, url: str) -> int:
        if self.policy.max_bytes is not None:
            return self.policy.max_bytes
        try:
            return max_article_bytes()
        except Failure as exc:
            raise FetchFailed(url, exc.reason) from None


def content_type(header: str | None) -> tuple[str | None, str | None]:
    """(the media type, lower-case; the charset parameter) of a Content-Type header."""
    if not header:
        return None, None
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower() or None, charset


def wrong_type(media: str, types: Mapping[str, str], what: str) -> str:
    hint = " (a feed? add it with --feed)" if media in FEED_TYPES and media not in types else ""
    wanted = ", ".join(sorted(types))
    return f"wrong content type {media[:80]}: not {what} ({wanted}){hint}"

"""The JSON HTTP endpoint served beside the chat: ``POST /api/ask``.

Request: ``{"question": "...", "k": 5, "mode": "hybrid", "sources": ["CNN"], "since": "2017-04-01", "until":
"2017-04-30"}`` (all but the question optional: ``k`` 1..50, ``mode`` hybrid|dense|bm25; ``sources`` a list of
source names, any of them, case-insensitive; ``since``/``until`` days as ``YYYY-MM-DD``, inclusive, which leave
out articles without a date; the question is checked by ``qa.question.check_question``, as in the CLI and the
chat). Response: the Answer JSON of ARCHITECTURE.md (``Answer.to_json_dict()``). Bad input gets status 400 and
``{"error": "..."}``, filters no article matches too ("no article matches the filters: ...").
A body over 64 KB gets 413 without being read: at once when its Content-Length says so, else as soon as the
streamed (chunked) body passes the limit, so a huge POST never sits in memory. When the app runs with
``--auth`` the endpoint wants the same user and password as HTTP Basic authentication (``curl -u user:pass``);
after 10 failed attempts in a minute a client address gets 429 for the rest of that minute
(``ui.login_limit``).

Example:
    $ curl -s http://127.0.0.1:7860/api/ask -H 'Content-Type: application/json' \\
        -d '{"question": "Who is the Chinese foreign ministry spokesman?", "k": 3}'
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from qa.filters import ArticleFilter
from qa.question import MAX_K, check_k, check_question
from qa.retriever import MODES
from ui.login_limit import FailedLogins, client_address

MAX_BODY_BYTES = 64 * 1024
K_RANGE = (1, MAX_K)
MAX_INT_DIGITS = 30  # a JSON number longer than this is refused before Python converts it (slow, then refused)
FIELDS = ("question", "k", "mode", "sources", "since", "until")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AskRequest:
    question: str
    k: int | None = None
    mode: str | None = None
    filters: ArticleFilter | None = None


@dataclass(frozen=True)
class _HugeInt:
    """A JSON integer with more than ``MAX_INT_DIGITS`` digits: only its size is kept."""

    digits: int


def _parse_int(text: str) -> int | _HugeInt:
    return _HugeInt(len(text.lstrip("-"))) if len(text) > MAX_INT_DIGITS else int(text)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or ``ApiError(413)`` as soon as it is known to pass ``limit``: from its Content-Length
    before reading anything, or while reading a streamed one (never more than ``limit`` plus one chunk held)."""
    too_large = ApiError(413, f"request body too large (limit {limit} bytes)")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit() or len(declared.strip()) > MAX_INT_DIGITS:
            raise ApiError(400, "the Content-Length header is not a number of bytes")
        if int(declared) > limit:
            raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_ask(body: bytes) -> AskRequest:
    """Validate a request body; ``ApiError(400 or 413)`` names what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body too large (limit {MAX_BODY_BYTES} bytes)")
    try:
        data = json.loads(body.decode("utf-8"), parse_int=_parse_int)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ApiError(400, f"the body must be a JSON object ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ApiError(400, 'the body must be a JSON object like {"question": "..."}')
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(FIELDS)})")
    question = data.get("question")
    if question is None:
        raise ApiError(400, 'missing "question"')
    if not isinstance(question, str):
        raise ApiError(400, '"question" must be a string')
    try:
        question = check_question(question)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None  # "the question is …": it names the field
    k = data.get("k")
    if isinstance(k, _HugeInt):
        raise ApiError(400, f'"k" must be from {K_RANGE[0]} to {K_RANGE[1]} (got a {k.digits}-digit number)')
    if k is not None:
        try:
            k = check_k(k, '"k"')
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
    mode = data.get("mode")
    if mode is not None and (not isinstance(mode, str) or mode not in MODES):
        raise ApiError(400, f'"mode" must be one of {", ".join(MODES)}')
    return AskRequest(question, k, mode, parse_filters(data))


def parse_filters(data: dict) -> ArticleFilter | None:
    """``sources``, ``since`` and ``until`` of a request body (None when none is given); ``ApiError(400)``."""
    sources = data.get("sources")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise ApiError(400, '"sources" must be a list of source names, like ["CNN", "Reuters"]')
    for key in ("since", "until"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ApiError(400, f'"{key}" must be a date as a string "YYYY-MM-DD"')
    try:
        chosen = ArticleFilter.parse(sources, data.get("since"), data.get("until"), names=('"sources"', '"since"', '"until"'))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return chosen if chosen.active else None


def check_basic_auth(header: str | None, credentials: tuple[str, str] | None) -> bool:
    """True when no credentials are required, or the ``Authorization: Basic`` header carries them."""
    if credentials is None:
        return True
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    ok_user = hmac.compare_digest(user.encode(), credentials[0].encode())
    ok_pass = hmac.compare_digest(password.encode(), credentials[1].encode())
    return ok_user and ok_pass


def add_api_routes(app, service, credentials: tuple[str, str] | None = None, logins: FailedLogins | None = None) -> None:
    """Add ``POST /api/ask`` (and ``GET /api/health``) to a FastAPI app, answering through ``service``.
    ``logins``: the failed logins shared with the chat's login form (a new count when None)."""
    logins = logins or FailedLogins()

    def error(status: int, message: str, retry_after: float | None = None) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="article-qa"'} if status == 401 else None
        if retry_after is not None:
            headers = {"Retry-After": str(math.ceil(retry_after))}
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def refused(request: Request, what: str) -> JSONResponse | None:
        """401 (counted as a failed login when credentials were given) or 429, or None when let in."""
        if credentials is None:
            return None
        client = client_address(request.scope)
        if limited := logins.refusal(client):
            return error(429, *limited)
        header = request.headers.get("authorization")
        if check_basic_auth(header, credentials):
            return None
        if header:
            logins.failed(client)
        return error(401, what)

    @app.post("/api/ask")
    async def ask(request: Request):
        if problem := refused(request, "authentication required (HTTP Basic, the --auth user and password)"):
            return problem
        try:
            req = parse_ask(await read_body(request))
        except ApiError as exc:
            return error(exc.status, exc.message)
        try:
            reply = await run_in_threadpool(service.ask, req.question, req.k, req.mode, filters=req.filters)
        except ValueError as exc:  # the answerer's own input checks; filters no article matches
            return error(400, str(exc))
        return JSONResponse(reply.answer.to_json_dict())

    @app.get("/api/health")
    async def health(request: Request):
        if problem := refused(request, "authentication required"):
            return problem
        return {"status": "ok", "articles": len(service.index.articles), "chunks": len(service.index.chunks)}

"""The JSON HTTP endpoint served beside the chat: ``POST /api/ask``.

Request: ``{"question": "...", "k": 5, "mode": "hybrid"}`` (``k`` 1..50 and ``mode`` hybrid|dense|bm25 are
optional). Response: the Answer JSON of ARCHITECTURE.md (``Answer.to_json_dict()``). Bad input gets status 400
and ``{"error": "..."}``; a body over 64 KB gets 413. When the app runs with ``--auth`` the endpoint wants the
same user and password as HTTP Basic authentication (``curl -u user:pass``).

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

from qa.retriever import MODES

MAX_BODY_BYTES = 64 * 1024
MAX_QUESTION_CHARS = 2000
K_RANGE = (1, 50)


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


def parse_ask(body: bytes) -> AskRequest:
    """Validate a request body; ``ApiError(400 or 413)`` names what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body too large (limit {MAX_BODY_BYTES} bytes)")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the body must be a JSON object ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ApiError(400, 'the body must be a JSON object like {"question": "..."}')
    unknown = sorted(set(data) - {"question", "k", "mode"})
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)} (allowed: question, k, mode)")
    question = data.get("question")
    if question is None:
        raise ApiError(400, 'missing "question"')
    if not isinstance(question, str):
        raise ApiError(400, '"question" must be a string')
    if not question.strip():
        raise ApiError(400, '"question" is empty')
    if len(question) > MAX_QUESTION_CHARS:
        raise ApiError(400, f'"question" is too long (limit {MAX_QUESTION_CHARS} characters)')
    k = data.get("k")
    if k is not None:
        if isinstance(k, float) and math.isfinite(k) and k.is_integer():
            k = int(k)
        if isinstance(k, bool) or not isinstance(k, int):
            raise ApiError(400, f'"k" must be an integer from {K_RANGE[0]} to {K_RANGE[1]}')
        if not K_RANGE[0] <= k <= K_RANGE[1]:
            raise ApiError(400, f'"k" must be from {K_RANGE[0]} to {K_RANGE[1]} (got {k})')
    mode = data.get("mode")
    if mode is not None and mode not in MODES:
        raise ApiError(400, f'"mode" must be one of {", ".join(MODES)}')
    return AskRequest(question.strip(), k, mode)


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


def add_api_routes(app, service, credentials: tuple[str, str] | None = None) -> None:
    """Add ``POST /api/ask`` (and ``GET /api/health``) to a FastAPI app, answering through ``service``."""
    def error(status: int, message: str) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="article-qa"'} if status == 401 else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.post("/api/ask")
    async def ask(request: Request):
        if not check_basic_auth(request.headers.get("authorization"), credentials):
            return error(401, "authentication required (HTTP Basic, the --auth user and password)")
        try:
            req = parse_ask(await request.body())
        except ApiError as exc:
            return error(exc.status, exc.message)
        try:
            reply = await run_in_threadpool(service.ask, req.question, req.k, req.mode)
        except ValueError as exc:  # the answerer's own input checks
            return error(400, str(exc))
        return JSONResponse(reply.answer.to_json_dict())

    @app.get("/api/health")
    async def health(request: Request):
        if not check_basic_auth(request.headers.get("authorization"), credentials):
            return error(401, "authentication required")
        return {"status": "ok", "articles": len(service.index.articles), "chunks": len(service.index.chunks)}

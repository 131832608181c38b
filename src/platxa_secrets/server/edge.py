"""The outermost layer of every HTTP request, as plain ASGI.

It gives the request its id, refuses a token in the query string,
bounds the body in size and in time, adds the headers every response
carries, counts and times the request, writes the access log line, and
is the last resort for an unexpected error:

- `X-Request-ID`: taken from the request when it is sane (1 to 64 of
  `[A-Za-z0-9._-]`) and does not look like a key or a token (a long
  random run included), else a fresh random one; echoed on every
  response and stamped on the request's audit events;
- a token in the query string (`access_token=`, `token=`, or anything
  shaped like a Platxa token) is refused with 401 before routing, on
  every path: such a URL is already in some log, so the token counts
  as leaked, whatever route it was meant for;
- a body larger than `max_body` is refused with 413 as soon as its
  `Content-Length` (or, when it is streamed, its running size) says so,
  before it is read whole; a body that has not arrived `body_timeout`
  seconds after the request began is refused with 408, so a client
  trickling bytes cannot hold a connection for ever;
- a response sent before the request body was read to its end says
  `Connection: close`: uvicorn then drops the connection instead of
  waiting for the rest of a body nobody will read;
- `Cache-Control: no-store` unless a route chose otherwise (responses
  can hold secrets), and `X-Content-Type-Options: nosniff`;
- the access log names the method, the path (never the query string,
  which is where a misplaced token would be), the status, the time and
  the request id; uvicorn's own access log stays off;
- an exception no handler took becomes a 500 problem with no detail; its
  type, and only its type, is logged (its text could quote input).

Plain ASGI rather than Starlette's `BaseHTTPMiddleware`: no extra task
and no body buffering on the hot path.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platxa_secrets.core.shapes import looks_secret
from platxa_secrets.errors import AuthenticationError, PlatxaSecretsError
from platxa_secrets.logs import get_logger
from platxa_secrets.server import problems
from platxa_secrets.server.bearer import challenge, error_code, refuse_query_token
from platxa_secrets.server.metrics import Metrics

REQUEST_ID = "pxs.request_id"
MAX_BODY = 16 * 1024 * 1024
BODY_TIMEOUT = 30.0
UNMATCHED = "unmatched"

# Records a refusal made here, before any route: (scope, detail).
RefusalAudit = Callable[[Scope, str], Awaitable[None]]

_REQUEST_ID_RE = re.compile(rb"[A-Za-z0-9._-]{1,64}")
# Hex ids and UUIDs (nginx's $request_id, most tracers): no key or token
# of ours is written in hex, so they are kept even when long.
_CORRELATION_ID_RE = re.compile(
    r"[0-9a-f]{16,64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
_DEFAULT_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)
_CLOSE = (b"connection", b"close")

log = get_logger(__name__)
access = get_logger("platxa_secrets.server.access")


class BodyTooLarge(HTTPException):
    """The request body is over the limit; raised from `receive`."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyTimeout(HTTPException):
    """The request body did not arrive in time; raised from `receive`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408, f"the request body did not arrive within {seconds:g} seconds"
        )


@dataclass
class _Exchange:
    """What the layer learns about the request and response as they pass."""

    status: int = 500
    started: bool = False
    body_done: bool = True


def request_id_of(scope: Scope) -> str:
    return str(scope.get(REQUEST_ID, ""))


def route_template(scope: Scope) -> str:
    """The matched route's path template, or "unmatched"."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Edge:
    """Request id, query tokens, body limits, headers, metrics, last resort."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body: int = MAX_BODY,
        body_timeout: float = BODY_TIMEOUT,
        audit: RefusalAudit | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        scope[REQUEST_ID] = _request_id(scope)
        started = time.monotonic()
        declared, has_body = _body_framing(scope)
        exchange = _Exchange(body_done=not has_body)
        deadline = started + self.body_timeout
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            if exchange.body_done:
                return await receive()
            if declared is not None and declared > self.max_body:
                raise BodyTooLarge(self.max_body)

            try:
                with anyio.fail_after(max(deadline - time.monotonic(), 0.0)):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(self.body_timeout) from None

            received += len(message.get("body", b""))
            if received > self.max_body:
                raise BodyTooLarge(self.max_body)
            if message["type"] != "http.request" or not message.get("more_body"):
                exchange.body_done = True
            return message

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status, exchange.started = message["status"], True
                message = {**message, "headers": _headers(message, scope, exchange)}
            await send(message)

        try:
            if not await self._refused_query_token(scope, send_marked):
                await self.app(scope, receive_limited, send_marked)
        except Exception as exc:
            await self._last_resort(scope, exc, exchange, send_marked)
        finally:
            self._account(scope, exchange.status, time.monotonic() - started)

    async def _refused_query_token(self, scope: Scope, send: Send) -> bool:
        """Answer 401 if the query string carries a token; True if it did."""
        try:
            refuse_query_token(scope.get("query_string"))
        except AuthenticationError as exc:
            refusal = exc
        else:
            return False

        reason = str(getattr(refusal, "reason", "token in query string"))
        self.metrics.auth_failure(reason)
        self.metrics.problem(UNMATCHED, problems.UNAUTHENTICATED.slug)
        log.info("%s refused %s: %s", request_id_of(scope), _method(scope), reason)
        if self.audit is not None:
            try:
                await self.audit(scope, f"{_method(scope)} (any route) 401: {reason}")
            except PlatxaSecretsError as exc:
                log.warning("could not audit a refusal: %s", type(exc).__name__)

        payload = problems.body(
            problems.UNAUTHENTICATED,
            refusal.message,
            scope["path"],
            request_id_of(scope),
        )
        challenge_value = challenge(error_code(refusal)).encode("ascii")
        await _send_problem(
            send, 401, payload, [(b"www-authenticate", challenge_value)]
        )
        return True

    async def _last_resort(
        self, scope: Scope, exc: Exception, exchange: _Exchange, send: Send
    ) -> None:
        route = route_template(scope)
        log.error("unexpected %s on %s %s", type(exc).__name__, scope["method"], route)
        self.metrics.problem(route, problems.INTERNAL.slug)
        if exchange.started:
            return

        payload = problems.body(
            problems.INTERNAL, None, scope["path"], request_id_of(scope)
        )
        await _send_problem(send, 500, payload)

    def _account(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        self.metrics.observe(route, scope["method"], status, seconds)
        access.info(
            "%s %s %s %d %.1fms",
            request_id_of(scope),
            scope["method"],
            json.dumps(scope["path"])[1:-1],
            status,
            seconds * 1000,
        )


async def _send_problem(
    send: Send, status: int, payload: bytes, headers: list[Any] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", problems.PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _request_id(scope: Scope) -> str:
    """The caller's request id if it is sane and no secret; else a new one.

    Lower-case hex ids and UUIDs are kept as sent (proxies and tracers
    use them); anything else shaped like a key or a token is replaced.

    A fresh id is 24 hex digits: short of the random runs that
    `looks_secret` flags, so a client may send it back.
    """
    for name, value in scope["headers"]:
        if name != b"x-request-id" or not _REQUEST_ID_RE.fullmatch(value):
            continue
        text = str(value.decode("ascii"))
        if _CORRELATION_ID_RE.fullmatch(text) or not looks_secret(text):
            return text
        log.info("refused an X-Request-ID shaped like a key or token")
        break
    return secrets.token_hex(12)


def _body_framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared `Content-Length`, and whether a body follows at all."""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked or bool(declared)


def _method(scope: Scope) -> str:
    method = str(scope.get("method", ""))
    return method if method.isalpha() and len(method) <= 16 else "OTHER"


def _headers(message: Message, scope: Scope, exchange: _Exchange) -> list[Any]:
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    headers.extend(pair for pair in _DEFAULT_HEADERS if pair[0] not in present)
    if not exchange.body_done and b"connection" not in present:
        headers.append(_CLOSE)
    headers.append((b"x-request-id", request_id_of(scope).encode("ascii")))
    return headers

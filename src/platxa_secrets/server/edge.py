"""The outermost layer of every HTTP request, as plain ASGI.

It gives the request its id, caps the body before it is read, adds the
headers every response carries, counts and times the request, writes
the access log line, and is the last resort for an unexpected error:

- `X-Request-ID`: taken from the request when it is sane (1 to 64 of
  `[A-Za-z0-9._-]`), else a fresh random one; echoed on every response
  and stamped on the request's audit events;
- a body larger than `max_body` is refused with 413 as soon as its
  `Content-Length` (or, when it is streamed, its running size) says so,
  before it is read whole;
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
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from platxa_secrets.logs import get_logger
from platxa_secrets.server import problems
from platxa_secrets.server.metrics import Metrics

REQUEST_ID = "pxs.request_id"
MAX_BODY = 16 * 1024 * 1024
UNMATCHED = "unmatched"

_REQUEST_ID_RE = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_DEFAULT_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)

log = get_logger(__name__)
access = get_logger("platxa_secrets.server.access")


class BodyTooLarge(HTTPException):
    """The request body is over the limit; raised from `receive`."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


@dataclass
class _Exchange:
    """What the layer learns about the response while it is sent."""

    status: int = 500
    started: bool = False


def request_id_of(scope: Scope) -> str:
    return str(scope.get(REQUEST_ID, ""))


def route_template(scope: Scope) -> str:
    """The matched route's path template, or "unmatched"."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Edge:
    """Request id, body cap, standard headers, metrics and last resort."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body: int = MAX_BODY):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        scope[REQUEST_ID] = request_id
        exchange = _Exchange()
        started = time.perf_counter()
        declared = _content_length(scope)
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            if declared is not None and declared > self.max_body:
                raise BodyTooLarge(self.max_body)
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise BodyTooLarge(self.max_body)
            return message

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status, exchange.started = message["status"], True
                message = {**message, "headers": _headers(message, request_id)}
            await send(message)

        try:
            await self.app(scope, receive_limited, send_marked)
        except Exception as exc:
            await self._last_resort(scope, exc, exchange, send_marked)
        finally:
            self._account(scope, exchange.status, time.perf_counter() - started)

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
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", problems.PROBLEM_JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

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


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _REQUEST_ID_RE.fullmatch(value):
            return str(value.decode("ascii"))
    return secrets.token_hex(16)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _headers(message: Message, request_id: str) -> list[Any]:
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    headers.extend(pair for pair in _DEFAULT_HEADERS if pair[0] not in present)
    headers.append((b"x-request-id", request_id.encode("ascii")))
    return headers

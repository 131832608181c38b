"""The HTTP layer: one request in, one Kubernetes response out.

Each request goes through the same steps, in the API server's order:
read the body (bounded), meet an injected failure if one is queued,
authenticate the bearer token (401), route the path (404) and method
(405), authorize against the policy (403), then run the endpoint.
Whatever the outcome, the call is recorded with its status code.

The server binds 127.0.0.1 only, speaks HTTP/1.1 with keep-alive as a
real API server does, and never writes to stderr: the standard
library's request log and error traceback could otherwise carry a
Secret's name or, in an exception message, its data.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from platxa_secrets.testing._handlers import Api, Request
from platxa_secrets.testing._instrument import Call, CallLog, Failure, FailurePlan
from platxa_secrets.testing._policy import Policy, forbidden
from platxa_secrets.testing._routing import Route, route
from platxa_secrets.testing._status import (
    JSON,
    ApiError,
    bad_request,
    unauthorized,
)

if TYPE_CHECKING:
    from platxa_secrets.testing._emulator import KubeEmulator

MAX_BODY = 3 * 1024 * 1024
_FAILURE_REASONS = {
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class EmulatorServer(ThreadingHTTPServer):
    """A loopback-only threading server that can drop its open connections."""

    daemon_threads = True
    request_queue_size = 128  # a burst of clients must not wait out a SYN retry

    def __init__(
        self,
        emulator: KubeEmulator,
        api: Api,
        calls: CallLog,
        failures: FailurePlan,
        bugs: list[tuple[str, list[str]]],
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator  # read per request: token, user, policy
        self.api = api
        self.calls = calls
        self.failures = failures
        self.bugs = bugs
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close idle keep-alive connections so their threads end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay silent: the default prints a traceback to stderr."""


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "platxa-kube-emulator"
    timeout = 30
    wbufsize = -1  # headers and body leave in one segment: no Nagle stall

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay silent: a request log is not the emulator's to keep."""

    def _serve(self) -> None:
        server = self.server
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        call: dict[str, Any] = {
            "method": self.command,
            "path": url.path,
            "verb": "",
            "resource": "",
            "namespace": "",
            "name": "",
            "content_type": _media_type(self.headers.get("Content-Type", "")),
            "query": tuple((k, v) for k, values in query.items() for v in values),
        }
        status, body = 500, dict[str, Any]()

        try:
            raw = self._read_body()
            with contextlib.suppress(ApiError):
                target = route(url.path)
                call.update(
                    verb=target.verb(self.command, _watch(query)),
                    resource=target.resource,
                    namespace=target.namespace,
                    name=target.name,
                )

            failure = server.failures.take(call["verb"])
            if failure is not None:
                status = self._fail(failure)
                return

            self._authenticate()
            target = route(url.path)
            verb = target.verb(self.command, _watch(query))
            policy = server.emulator.policy
            self._authorize(target, verb, policy)

            request = Request(
                self.command,
                query,
                call["content_type"],
                self.headers.get("User-Agent", ""),
                raw,
                f"127.0.0.1:{server.server_address[1]}",
            )
            status, body = server.api.handle(request, target, policy)
        except ApiError as error:
            status, body = error.code, error.status()
        except Exception as error:  # a bug in the emulator, not in the caller
            trace = traceback.format_tb(error.__traceback__)
            server.bugs.append((type(error).__name__, trace))  # never the message
            bug = ApiError(
                500, "InternalError", f"emulator bug: {type(error).__name__}"
            )
            status, body = 500, bug.status()
        finally:
            server.calls.record(Call(status=status, **call))

        self._send(status, body)

    def _authorize(self, target: Route, verb: str, policy: Policy) -> None:
        """403 unless the policy allows; discovery and self-reviews are open."""
        emulator = self.server.emulator
        if not target.resource or target.endpoint == "selfsubjectaccessreviews":
            return
        if not policy.allows(verb, target.resource, target.namespace):
            raise forbidden(emulator.user, target.attributes(verb))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise bad_request(
                "chunked request bodies are not supported by the emulator"
            )
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise bad_request("the Content-Length header is not a number") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(
                413,
                "RequestEntityTooLarge",
                f"Request entity too large: limit is {MAX_BODY}",
            )
        return self.rfile.read(length) if length > 0 else b""

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.server.emulator.token.encode("utf-8")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode("utf-8"), expected
        ):
            raise unauthorized()

    def _fail(self, failure: Failure) -> int:
        """Answer with the injected failure; 0 means the connection was cut."""
        if failure.status == 0:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return 0

        reason = _FAILURE_REASONS.get(failure.status, "InternalError")
        details: JSON = {}
        headers = {}
        if failure.retry_after is not None:
            details["retryAfterSeconds"] = failure.retry_after
            headers["Retry-After"] = str(failure.retry_after)
        error = ApiError(
            failure.status, reason, f"injected failure ({failure.status})", details
        )
        self._send(failure.status, error.status(), headers)
        return failure.status

    def _send(
        self, status: int, body: JSON, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


def _watch(query: dict[str, list[str]]) -> bool:
    return query.get("watch", [""])[0] in ("true", "1")


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()

"""Bearer-token authentication for any ASGI application.

For Platxa's Python services (FastAPI, Starlette, or bare ASGI) that
accept Platxa API tokens. Wrap the application once:

    import platxa_secrets
    from fastapi import FastAPI, Request
    from platxa_secrets.server.middleware import (
        BearerAuthMiddleware,
        verifier_from,
    )

    app = FastAPI()
    app.add_middleware(
        BearerAuthMiddleware,
        verify=verifier_from(platxa_secrets.connect()),
        exempt_paths=("/healthz",),
    )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tenants/{namespace}/config")
    def config(namespace: str, request: Request) -> dict[str, str]:
        request.state.principal.require(namespace, "read")  # 403 if not
        ...

What it does on each HTTP or WebSocket request:

- a token in the query string is refused, on every path (exempt or not);
- a path in `exempt_paths` (exact match) passes without a credential;
- otherwise the `Authorization` header must carry one valid bearer
  token; the `Principal` is then put in `scope["state"]["principal"]`
  (`request.state.principal` in Starlette and FastAPI) on a copy of the
  state, so nothing leaks between requests;
- a refusal is `401 application/problem+json` with `WWW-Authenticate:
  Bearer realm="…"` and, when a credential was sent but rejected,
  `error="invalid_token"` or `error="invalid_request"` (RFC 6750 §3.1);
  a WebSocket is closed with code 1008 before it is accepted;
- a store that cannot answer (`StoreError`, or any other failure of the
  project that is not about the credential) is `503`, never a 401 that
  would make clients drop a good token, and never a 500.

Scopes are checked by the route (`Principal.require`, `require_admin`,
`require_capability`): the middleware authenticates, it does not
authorise; a `PermissionDeniedError` a route raises before it starts
its response is answered 403 problem+json by the middleware. `verify`
is called on the event loop: it is one primary-key SELECT, cheaper
than a hop to a thread pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from platxa_secrets.core.scopes import Principal
from platxa_secrets.errors import (
    PermissionDeniedError,
    PlatxaSecretsError,
)
from platxa_secrets.server.bearer import (
    REALM,
    bearer_token,
    check_realm,
    problem,
    refusal,
    refuse_query_token,
    single_header,
)

if TYPE_CHECKING:
    from platxa_secrets.api import Platxa

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Verify = Callable[[str], Principal]

STATE_KEY = "principal"
_POLICY_VIOLATION = 1008


class BearerAuthMiddleware:
    """Admit only requests with a valid Platxa API token (see module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        verify: Verify,
        exempt_paths: Iterable[str] = (),
        realm: str = REALM,
    ) -> None:
        self.app = app
        self._verify = verify
        self._exempt = frozenset(exempt_paths)
        self._realm = check_realm(realm)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        try:
            principal = self._authenticate(scope)
        except PlatxaSecretsError as exc:
            await _refuse(scope, send, *refusal(exc, self._realm))
            return

        if principal is not None:
            state = dict(scope.get("state") or {})
            state[STATE_KEY] = principal
            scope = {**scope, "state": state}
        await self._call_app(scope, receive, send)

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; a route's `principal.require(...)` that fails
        becomes a 403 problem, as long as no response has started."""
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] in (
                "http.response.start",
                "websocket.accept",
            )
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except PermissionDeniedError as exc:
            if started:
                raise
            await _refuse(scope, send, *refusal(exc, self._realm))

    def _authenticate(self, scope: Scope) -> Principal | None:
        """The request's principal; None on an exempt path."""
        refuse_query_token(scope.get("query_string"))
        if scope.get("path") in self._exempt:
            return None

        values = [
            value
            for name, value in scope.get("headers", ())
            if name.lower() == b"authorization"
        ]
        return self._verify(bearer_token(single_header(values)))


def verifier_from(platxa: Platxa) -> Verify:
    """`authenticate` of one `TokenService` over `platxa`'s store.

    One service per process, so its once-a-minute `last_used_at` memo
    is shared by every request.
    """
    from platxa_secrets.services.tokens import TokenService

    return TokenService(platxa.runtime).authenticate


async def _refuse(
    scope: Scope, send: Send, status: int, detail: str, www_authenticate: str | None
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
        return

    body = problem(status, detail)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", b"no-store"),
    ]
    if www_authenticate is not None:
        headers.append((b"www-authenticate", www_authenticate.encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

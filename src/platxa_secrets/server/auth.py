"""Who is calling, and what they may do: the `/v1` routes' dependency.

Every `/v1` route takes a `Caller`, which exists only once the request
has passed these steps, in this order (a token in the query string was
already refused by `edge.Edge`, on every path):

1. exactly one `Authorization: Bearer <token>` header, printable ASCII
   (`server.bearer`): else 401;
2. the token authenticates (`TokenService.authenticate`): else 401,
   whatever the cause: unknown, expired, revoked, wrong secret;
3. a request with a body says it is `application/json`: else 415.

Scopes are checked through the caller (`require`, `require_admin`,
`require_capability`) before any service runs; a refusal is 403 and
names the scope that would have allowed the call, never the token.
A route whose path names the namespace takes its caller from
`scoped(level)`, which checks the scope as a dependency: FastAPI
solves dependencies before it validates the body, so a caller without
the scope learns nothing about the body's rules. (The body is still
read, and refused if it is not JSON at all, before any dependency.)

`Caller.run` is the only way a route reaches a service: it stamps the
runtime with the token's actor (`token:<id>`) and the request id, so
the service's own audit event says who and which request. A request
refused before that point is audited by the error handlers
(`http.denied`), see `handlers.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from platxa_secrets.core.names import check_namespace
from platxa_secrets.core.scopes import Principal
from platxa_secrets.errors import (
    AuthenticationError,
    PermissionDeniedError,
    PlatxaSecretsError,
)
from platxa_secrets.logs import get_logger
from platxa_secrets.server.bearer import bearer_token, single_header
from platxa_secrets.server.edge import request_id_of, route_template
from platxa_secrets.server.runtimes import Slot
from platxa_secrets.server.schemas.common import NamespacePath
from platxa_secrets.server.state import state_of
from platxa_secrets.services.audit import AuditLog

T = TypeVar("T")
PRINCIPAL = "pxs.principal"
REACHED_SERVICE = "pxs.reached_service"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

log = get_logger(__name__)

# Declares the scheme in OpenAPI; the header itself is read by `bearer`.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="pxs_<id>_<secret>_<checksum>",
    description="An API token from `pxs token create`.",
)


class UnsupportedMediaType(HTTPException):
    def __init__(self) -> None:
        super().__init__(415, "send the request body as application/json")


@dataclass(frozen=True)
class Caller:
    """An authenticated request: its principal and the way to a service."""

    principal: Principal
    request: Request

    @property
    def request_id(self) -> str:
        return request_id_of(self.request.scope)

    def require(self, namespace: str, level: str) -> None:
        """403 unless a scope grants `level` on `namespace` (checked first)."""
        check_namespace(namespace)
        if not self.principal.allows(namespace, level):
            raise PermissionDeniedError(
                f"this token has no scope allowing {level} on namespace {namespace}",
                namespace=namespace,
                scope=f"{namespace}:{level}",
            )

    def require_admin(self) -> None:
        if not any(scope.is_global_admin for scope in self.principal.scopes):
            raise PermissionDeniedError(
                "this operation needs the scope '*:admin'", scope="*:admin"
            )

    def require_capability(self, capability: str) -> None:
        try:
            self.principal.require_capability(capability)
        except PermissionDeniedError:
            raise PermissionDeniedError(
                f"this operation needs the scope {capability!r}", scope=capability
            ) from None

    async def run(self, work: Callable[[Slot], T]) -> T:
        """Run a service call as this caller; the service audits it."""
        self.request.scope[REACHED_SERVICE] = True
        runtimes = state_of(self.request).runtimes
        return await runtimes.call(self.principal.actor, self.request_id, work)

    async def run_recorded(
        self,
        action: str,
        namespace: str | None,
        work: Callable[[Slot], T],
        detail: Callable[[T], str] | None = None,
    ) -> T:
        """Run a call whose service writes no event, and record one.

        For reads that change nothing (listings, key status, encryption
        as a service): the event names the action and the namespace,
        and `detail` may add counts, never values.
        """

        def recorded(slot: Slot) -> T:
            audit = AuditLog(slot.runtime)
            try:
                result = work(slot)
            except PlatxaSecretsError as exc:
                audit.record(action, "error", namespace, detail=exc.message)
                raise
            audit.record(
                action, "ok", namespace, detail=detail(result) if detail else None
            )
            return result

        return await self.run(recorded)


async def authenticated(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """The dependency of every `/v1` route: a `Caller`, or a refusal."""
    state = state_of(request)
    try:
        headers = [v for k, v in request.scope["headers"] if k == b"authorization"]
        token = bearer_token(single_header(headers))
        principal = await state.runtimes.authenticate(
            token, request_id_of(request.scope)
        )
    except AuthenticationError as exc:
        state.metrics.auth_failure(getattr(exc, "reason", None))
        log.info(
            "%s refused %s %s: %s",
            request_id_of(request.scope),
            request.method,
            route_template(request.scope),
            getattr(exc, "reason", "invalid credentials"),
        )
        raise

    request.scope[PRINCIPAL] = principal
    _check_media_type(request)
    return Caller(principal, request)


def scoped(level: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, once it holds `level` on the path's namespace.

    A malformed namespace is a 422 naming `path.namespace`, as on any
    route, once the token has authenticated.
    """

    async def caller_with_scope(
        namespace: NamespacePath, caller: Annotated[Caller, Depends(authenticated)]
    ) -> Caller:
        caller.require(namespace, level)
        return caller

    return caller_with_scope


def principal_of(request: Request) -> Principal | None:
    principal = request.scope.get(PRINCIPAL)
    return principal if isinstance(principal, Principal) else None


def _check_media_type(request: Request) -> None:
    """A body must be JSON; a body of another type is 415, not a guess."""
    if request.method not in _BODY_METHODS:
        return
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return
    media = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise UnsupportedMediaType

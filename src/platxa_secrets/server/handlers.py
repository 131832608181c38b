"""Turn every failure into a problem response, and audit refusals.

Three sources of failure reach these handlers: an error of the project
(`PlatxaSecretsError`, mapped by family in `problems`), FastAPI's
request validation (pydantic), and Starlette's HTTP errors (unknown
route, wrong method, a body too large or of the wrong type). Whatever
escapes them all is the last resort of `edge.Edge`: a bare 500.

A `/v1` request refused before any service ran (no token, a scope
missing, a malformed body) writes one `http.denied` audit event: the
actor (`token:<id>` once authenticated, else `http:anonymous`), the
namespace when the path names a valid one, and as detail the method,
the route template and the status. Never the token, never a value.
A token in a query string is refused by `edge.Edge` before routing, on
any path; `edge_audit` gives it the same kind of event.

A rule broken in a service (`ValidationError` with a `field`) is shown
like a rule of the request's shape: `errors: [{field, message}]`, and
the same `field` at the top level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from platxa_secrets.core.names import check_namespace
from platxa_secrets.errors import (
    AuthenticationError,
    PermissionDeniedError,
    PlatxaSecretsError,
    ValidationError,
)
from platxa_secrets.logs import get_logger
from platxa_secrets.server import problems
from platxa_secrets.server.auth import REACHED_SERVICE, principal_of
from platxa_secrets.server.bearer import INSUFFICIENT_SCOPE, challenge, error_code
from platxa_secrets.server.edge import RefusalAudit, request_id_of, route_template
from platxa_secrets.server.runtimes import ANONYMOUS, Runtimes, Slot
from platxa_secrets.server.state import state_of
from platxa_secrets.services.audit import AuditLog

DENIED = "http.denied"
log = get_logger(__name__)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PlatxaSecretsError, _on_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _on_http)  # type: ignore[arg-type]


async def respond(
    request: Request,
    family: problems.Family,
    detail: str | None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The problem response; counted, and audited if it is a refusal."""
    route = route_template(request.scope)
    state_of(request).metrics.problem(route, family.slug)
    if family.status < 500:
        await _audit_refusal(request, family.status)

    payload = problems.body(
        family, detail, request.url.path, request_id_of(request.scope), extra
    )
    return Response(
        payload,
        status_code=family.status,
        media_type=problems.PROBLEM_JSON,
        headers=dict(headers or {}),
    )


async def _on_error(request: Request, exc: PlatxaSecretsError) -> Response:
    family = problems.family_of(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}

    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = challenge(error_code(exc))
    elif isinstance(exc, PermissionDeniedError):
        scope = exc.context.get("scope")
        headers["WWW-Authenticate"] = challenge(
            INSUFFICIENT_SCOPE, scope=scope if isinstance(scope, str) else None
        )
    elif isinstance(exc, ValidationError) and isinstance(exc.context.get("field"), str):
        extra = problems.field_errors(exc.context["field"], exc.message)

    if family.status >= 500 or family is problems.INVALID_CRYPTO:
        # The operator's message names objects and key ids, never values.
        log.warning(
            "%s on %s %s: %s",
            type(exc).__name__,
            request.method,
            route_template(request.scope),
            exc.message,
        )
    return await respond(
        request, family, problems.shown_detail(exc, family), extra, headers
    )


async def _on_invalid(request: Request, exc: RequestValidationError) -> Response:
    raw = exc.errors()
    if problems.is_malformed_json(raw):
        return await respond(
            request,
            problems.BAD_REQUEST,
            "the request body is not valid JSON",
            {"errors": [{"field": "body", "message": "is not valid JSON"}]},
        )

    shown = problems.validation_errors(raw)
    return await respond(
        request, problems.VALIDATION, problems.summary(shown), {"errors": shown}
    )


async def _on_http(request: Request, exc: HTTPException) -> Response:
    family = problems.family_of_status(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = "the request body cannot be parsed as JSON"
    return await respond(request, family, detail, headers=exc.headers)


def edge_audit(runtimes: Runtimes) -> RefusalAudit:
    """How `edge.Edge` records a refusal it made before any route."""

    async def record(scope: Scope, detail: str) -> None:
        def write(slot: Slot) -> None:
            AuditLog(slot.runtime).record(DENIED, "denied", None, detail=detail)

        await runtimes.call(ANONYMOUS, request_id_of(scope), write)

    return record


async def _audit_refusal(request: Request, status: int) -> None:
    """One `http.denied` event for a `/v1` request no service saw."""
    scope = request.scope
    if scope.get(REACHED_SERVICE) or not request.url.path.startswith("/v1/"):
        return
    route = route_template(scope)
    if route == "unmatched":
        return

    principal = principal_of(request)
    actor = principal.actor if principal else ANONYMOUS
    namespace = _namespace(request.path_params.get("namespace"))
    detail = f"{request.method} {route} {status}"

    def record(slot: Any) -> None:
        AuditLog(slot.runtime).record(DENIED, "denied", namespace, detail=detail)

    await state_of(request).runtimes.call(actor, request_id_of(scope), record)


def _namespace(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return check_namespace(value)
    except ValidationError:
        return None

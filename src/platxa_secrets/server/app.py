"""The HTTP API: `create_app(config)` builds the FastAPI application.

    uvicorn --factory platxa_secrets.server.app:app_from_environment

or `pxs serve`, which checks the store first. Routes, by area:

- secrets: `/v1/namespaces/{namespace}/secrets[/{name}[/…]]` and
  `/v1/namespaces/{namespace}/provision`; read, write or admin on the
  namespace;
- keys: `/v1/keys`, `/v1/keys/census`, `/v1/keys/rotation`; `*:admin`;
- encryption: `/v1/encrypt`, `/v1/decrypt`, `/v1/rewrap`; write or read
  on the namespace that starts each item's context;
- JWT: `/v1/jwt/sign` (`jwt:sign`), `/v1/jwt/verify` (any token),
  `/.well-known/jwks.json` (public);
- webhooks: `/v1/webhooks/{receiver}`; `webhook:<receiver>`;
- operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`; no
  token.

Errors are `application/problem+json` (`problems`, `handlers`); every
response carries `X-Request-ID` (`edge`). A path with a trailing slash
is 404, not a redirect: Starlette would build the redirect from the
`Host` header the client sent (an open redirect) and copy the query
string, token included, into `Location`. There is no Swagger UI: its
page would load scripts from a CDN; `/openapi.json` feeds any viewer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from platxa_secrets.clock import Clock
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.server import handlers, problems
from platxa_secrets.server.edge import BODY_TIMEOUT, MAX_BODY, Edge
from platxa_secrets.server.metrics import Metrics
from platxa_secrets.server.routes import crypto, health, jwt, keys, secrets, webhooks
from platxa_secrets.server.runtimes import Runtimes
from platxa_secrets.server.schemas.common import problem_responses
from platxa_secrets.server.state import ServerState

TITLE = "Platxa Secrets"
THREADS = 0  # inline: measured faster, see runtimes
_V1_PROBLEMS = (400, 401, 403, 404, 408, 409, 413, 415, 422, 503)
_PUBLIC_PROBLEMS = (503,)


def create_app(
    config: Config,
    clock: Clock | None = None,
    *,
    threads: int = THREADS,
    body_timeout: float = BODY_TIMEOUT,
) -> FastAPI:
    """The application over the store `config` names.

    Service calls run on `threads` worker threads, or on the event loop
    itself with `threads=0` (see `runtimes`). A request body must have
    arrived `body_timeout` seconds after the request began (`edge`).
    `clock` is for tests.
    """
    runtimes = Runtimes(config, clock, threads)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            runtimes.close()

    app = FastAPI(
        title=TITLE,
        version=_version(),
        description="Encrypted, versioned secrets for per-tenant Odoo.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, as a route the metrics can name
        redirect_slashes=False,
    )
    app.state.pxs = ServerState(config, runtimes, metrics)
    handlers.install(app)

    v1_problems = problem_responses(*_V1_PROBLEMS)
    app.include_router(health.router)
    app.include_router(jwt.router, responses=problem_responses(*_PUBLIC_PROBLEMS))
    for router in (secrets.router, keys.router, crypto.router, webhooks.router):
        app.include_router(router, responses=v1_problems)

    app.add_middleware(
        Edge,
        metrics=metrics,
        max_body=MAX_BODY,
        body_timeout=body_timeout,
        audit=handlers.edge_audit(runtimes),
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory: each worker process builds its own app."""
    return create_app(load_config(actor="server"))


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with every error documented as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema

    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if (
                    status.isdigit()
                    and int(status) >= 400
                    and "application/json" in content
                ):
                    content[problems.PROBLEM_JSON] = content.pop("application/json")
    schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
    schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("platxa-secrets")
    except PackageNotFoundError:
        return "0.0.0"

"""Bearer-token checks for Flask views, for Platxa's other services.

    import platxa_secrets
    from flask import Flask, g
    from platxa_secrets.server.flask import init_app, require_token
    from platxa_secrets.server.middleware import verifier_from

    app = Flask(__name__)
    init_app(app, verifier_from(platxa_secrets.connect()))

    @app.post("/hooks/alertmanager")
    @require_token("webhook:alertmanager")
    def alertmanager() -> str:
        return f"accepted from {g.principal.actor}"

`require_token(scope)` admits a request only with one valid bearer
token (parsed as `bearer.py` describes) whose scopes cover `scope`:

- `tenant-acme:read` — a namespace and a level (`*:admin` covers all);
- `jwt:sign`, `webhook:<receiver>` — a named capability;
- None — any valid token.

The principal is then `flask.g.principal`. A refusal answers with
`application/problem+json`: 401 with `WWW-Authenticate: Bearer …`
(`error="invalid_token"` when a token was sent and rejected), 403 with
`error="insufficient_scope"` and the scope needed, 503 when the token
store cannot answer. A token in the query string is always refused.

Flask is imported only when a request arrives, so this module imports
without Flask installed; the required scope is parsed at decoration
time, so a typo in it fails when the app starts, not on a request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from platxa_secrets.core.scopes import LEVELS, Principal, Scope, parse_scope
from platxa_secrets.errors import (
    ConfigError,
    PermissionDeniedError,
    PlatxaSecretsError,
)
from platxa_secrets.server.bearer import (
    INSUFFICIENT_SCOPE,
    REALM,
    bearer_token,
    challenge,
    check_realm,
    problem,
    refusal,
    refuse_query_token,
    single_header,
)

if TYPE_CHECKING:
    from flask import Flask, Response

View = TypeVar("View", bound=Callable[..., Any])
Verify = Callable[[str], Principal]

EXTENSION = "platxa_secrets"


@dataclass(frozen=True)
class _Settings:
    verify: Verify
    realm: str


def init_app(app: Flask, verify: Verify, realm: str = REALM) -> None:
    """Give every `require_token` view of `app` its verifier."""
    app.extensions[EXTENSION] = _Settings(verify, check_realm(realm))


def require_token(
    scope: str | None = None, *, verify: Verify | None = None
) -> Callable[[View], View]:
    """Decorate a view so it runs only for a token that covers `scope`.

    `verify` overrides the verifier given to `init_app`.
    """
    required = parse_scope(scope) if scope is not None else None

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from flask import g

            settings = _settings(verify)
            try:
                principal = _authenticate(settings.verify)
            except PlatxaSecretsError as exc:
                return _answer(*refusal(exc, settings.realm))

            if required is not None:
                try:
                    _check(principal, required)
                except PermissionDeniedError as exc:
                    header = challenge(
                        INSUFFICIENT_SCOPE, settings.realm, str(required)
                    )
                    return _answer(403, exc.message, header)

            g.principal = principal
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def _settings(verify: Verify | None) -> _Settings:
    from flask import current_app

    settings = current_app.extensions.get(EXTENSION)
    if verify is not None:
        return _Settings(verify, settings.realm if settings else REALM)
    if not isinstance(settings, _Settings):
        raise ConfigError(
            "require_token has no verifier: call "
            "platxa_secrets.server.flask.init_app(app, verify) first, or pass "
            "verify=",
            field="verify",
        )
    return settings


def _authenticate(verify: Verify) -> Principal:
    from flask import request

    refuse_query_token(request.query_string)
    values = request.headers.getlist("Authorization")
    return verify(bearer_token(single_header(values)))


def _check(principal: Principal, required: Scope) -> None:
    """A capability by name; `*:admin` as admin; else a namespace and level."""
    if required.level not in LEVELS:
        principal.require_capability(str(required))
    elif required.is_global_admin:
        principal.require_admin()
    else:
        principal.require(required.pattern, required.level)


def _answer(status: int, detail: str, www_authenticate: str | None) -> Response:
    from flask import current_app

    headers = {"Cache-Control": "no-store"}
    if www_authenticate is not None:
        headers["WWW-Authenticate"] = www_authenticate
    return current_app.response_class(
        problem(status, detail),
        status=status,
        mimetype="application/problem+json",
        headers=headers,
    )

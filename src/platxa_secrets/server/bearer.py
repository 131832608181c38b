"""Reading a bearer token from a request, and answering a bad one.

The header is parsed as RFC 9110 (§11.4, §11.6.2) and RFC 6750 (§2.1)
describe it:

    Authorization: Bearer pxs_k3v9q2m7x4ab_<40 characters>_1a2B3c

- the scheme is case-insensitive (`bearer`, `BEARER` are fine);
- the token is case-sensitive and returned exactly as sent;
- whitespace around the whole value is trimmed;
- exactly one credential: a second `Authorization` header, a comma or a
  space inside the token is refused, never guessed at.

Every refusal is an `AuthenticationError` with a fixed message that
never quotes the header, an operator-facing `reason`, and an `error`
attribute holding the RFC 6750 error code for the challenge: None when
the request carried no bearer credential at all (§3.1 says to send no
code then), `invalid_request` for a malformed header, and, for a token
that fails verification later, `invalid_token` (the default).

A token in the query string is refused outright (`refuse_query_token`):
URLs end up in access logs, proxies and browser history (RFC 6750 §2.3
and §5.3), so such a token must be treated as leaked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, unquote_plus

from platxa_secrets.core.shapes import mask
from platxa_secrets.core.text import decode_or_none
from platxa_secrets.core.token_format import PATTERN
from platxa_secrets.errors import (
    AuthenticationError,
    ConfigError,
    PermissionDeniedError,
    PlatxaSecretsError,
)
from platxa_secrets.logs import get_logger

REALM = "platxa-secrets"
INVALID_REQUEST = "invalid_request"
INVALID_TOKEN = "invalid_token"
INSUFFICIENT_SCOPE = "insufficient_scope"

_SCHEME_AND_REST = re.compile(
    r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+(.*))?", re.DOTALL
)
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_VISIBLE = re.compile(r"[\x20-\x7e\t]*")
_QUOTABLE = re.compile(r"[\x20-\x7e]*")
_QUERY_NAMES = frozenset({"access_token", "token"})
_TITLES = {401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}
UNAVAILABLE = "tokens cannot be verified right now; try again later"
log = get_logger(__name__)


def single_header(values: Sequence[str | bytes]) -> str | bytes | None:
    """The one `Authorization` value of a request, or None if it has none.

    Two headers are two credentials: refused rather than picking one.
    """
    if not values:
        return None
    if len(values) > 1:
        raise _refused(
            "the request has several Authorization headers; send one",
            "several Authorization headers",
            INVALID_REQUEST,
        )
    return values[0]


def bearer_token(authorization: str | bytes | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value.

    Raises AuthenticationError for a missing, empty, non-ASCII or
    malformed value, another scheme, or several credentials.
    """
    if authorization is None:
        raise _refused(
            "the request has no Authorization header; send 'Bearer <token>'",
            "missing credentials",
            None,
        )

    text = (
        decode_or_none(authorization, "ascii")
        if isinstance(authorization, bytes)
        else authorization
    )
    if text is None or not text.isascii() or not _VISIBLE.fullmatch(text):
        raise _refused(
            "the Authorization header must be printable ASCII",
            "non-ASCII credentials",
            INVALID_REQUEST,
        )

    value = text.strip(" \t")
    if not value:
        raise _refused(
            "the Authorization header is empty; send 'Bearer <token>'",
            "empty credentials",
            INVALID_REQUEST,
        )

    match = _SCHEME_AND_REST.fullmatch(value)
    if match is None:
        raise _refused(
            "the Authorization header is not of the form 'Bearer <token>'",
            "malformed Authorization header",
            INVALID_REQUEST,
        )
    if match.group(1).lower() != "bearer":
        raise _refused(
            "the Authorization scheme is not Bearer; send 'Bearer <token>'",
            "other authorization scheme",
            None,
        )

    token = (match.group(2) or "").strip(" \t")
    if not token:
        raise _refused(
            "the Bearer token is empty", "empty bearer token", INVALID_REQUEST
        )
    if any(separator in token for separator in ", \t"):
        raise _refused(
            "the Authorization header holds several credentials; send one token",
            "several credentials",
            INVALID_REQUEST,
        )
    if not _TOKEN68.fullmatch(token):
        raise _refused(
            "the Bearer token has characters RFC 6750 does not allow",
            "malformed bearer token",
            INVALID_REQUEST,
        )
    return token


def refuse_query_token(query: str | bytes | None) -> None:
    """Refuse a request whose query string carries a token.

    Caught: the parameters `access_token` and `token` (any case, any
    value, even empty) and anything shaped like a Platxa token, raw or
    percent-encoded, under any name.
    """
    if not query:
        return
    text = query.decode("latin-1") if isinstance(query, bytes) else query

    names = {name.lower() for name, _ in parse_qsl(text, keep_blank_values=True)}
    if (
        names & _QUERY_NAMES
        or PATTERN.search(text)
        or PATTERN.search(unquote_plus(text))
    ):
        raise _refused(
            "a token in the query string is refused: URLs are logged, so treat "
            "that token as leaked and rotate it; send tokens in the "
            "Authorization header",
            "token in query string",
            INVALID_REQUEST,
        )


def error_code(exc: AuthenticationError) -> str | None:
    """The RFC 6750 error code for a refusal (`invalid_token` by default)."""
    code = getattr(exc, "error", INVALID_TOKEN)
    return None if code is None else str(code)


def challenge(error: str | None, realm: str = REALM, scope: str | None = None) -> str:
    """A `WWW-Authenticate` value: `Bearer realm="…"[, error="…"][, scope="…"]`."""
    parts = [f'Bearer realm="{_quoted(realm)}"']
    if error is not None:
        parts.append(f'error="{_quoted(error)}"')
    if scope is not None:
        parts.append(f'scope="{_quoted(scope)}"')
    return ", ".join(parts)


def refusal(exc: PlatxaSecretsError, realm: str) -> tuple[int, str, str | None]:
    """Status, detail and `WWW-Authenticate` for a failed token check.

    One answer for the ASGI middleware and the Flask decorator: 401 for
    the credential, 403 for its scopes, 503 when the store cannot say —
    never a 401 that would make a client drop a good token.
    """
    if isinstance(exc, AuthenticationError):
        log.info("request refused: %s", getattr(exc, "reason", "unknown"))
        return 401, mask(exc.message), challenge(error_code(exc), realm)
    if isinstance(exc, PermissionDeniedError):
        return 403, mask(exc.message), challenge(INSUFFICIENT_SCOPE, realm)
    log.warning("token verification failed: %s", exc.message)
    return 503, UNAVAILABLE, None


def problem(status: int, detail: str) -> bytes:
    """An `application/problem+json` body (RFC 9457) for `status`."""
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    return json.dumps(body).encode("utf-8")


def check_realm(realm: str) -> str:
    """A realm that can sit in a quoted string without escaping."""
    if not realm or not _QUOTABLE.fullmatch(realm) or '"' in realm or "\\" in realm:
        raise ConfigError(
            "realm must be printable ASCII without quotes or backslashes",
            field="realm",
        )
    return realm


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _refused(message: str, reason: str, error: str | None) -> AuthenticationError:
    return AuthenticationError(message, reason=reason, error=error)

"""Every error of the API as `application/problem+json` (RFC 9457).

    HTTP/1.1 409 Conflict
    Content-Type: application/problem+json

    {"type": "urn:platxa-secrets:problem:conflict", "title": "Conflict",
     "status": 409, "detail": "check-and-set failed for tenant-a/odoo: …",
     "instance": "/v1/namespaces/tenant-a/secrets/odoo",
     "request_id": "5d0c…"}

`type` names the family (its last part is a stable slug clients may
switch on), `detail` the object and the rule, `instance` the request
path and `request_id` the id that the audit trail and the logs carry.
Validation problems add `errors`: one `{field, message}` per broken
rule (a rule a service checks also names its `field` at the top level).

Nothing here ever echoes what the caller sent: pydantic's `input` is
dropped, a field path part that looks like a key or a token (a JSON
key is the caller's own text) is replaced, anything shaped like one
is masked in every text of the document, and a failure to
authenticate or to decrypt says no more than "invalid".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from platxa_secrets import errors
from platxa_secrets.core.shapes import MASK, looks_secret, mask

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:platxa-secrets:problem:"
INVALID_TOKEN = "invalid token"
INVALID_CIPHERTEXT = "invalid ciphertext"
_MAX_FIELD_PART = 64
_MAX_ERRORS = 20


class PreconditionFailed(errors.ConflictError):
    """A check-and-set asked for with `If-Match` / `If-None-Match` failed."""


class InvalidJwt(errors.PlatxaSecretsError):
    """A JWT given to verify failed a check; `reason` says which."""


@dataclass(frozen=True)
class Family:
    """How one kind of failure is shown: status, slug and title."""

    status: int
    slug: str
    title: str


BAD_REQUEST = Family(400, "bad-request", "Bad Request")
UNAUTHENTICATED = Family(401, "unauthenticated", "Unauthorized")
FORBIDDEN = Family(403, "forbidden", "Forbidden")
NOT_FOUND = Family(404, "not-found", "Not Found")
METHOD_NOT_ALLOWED = Family(405, "method-not-allowed", "Method Not Allowed")
CONFLICT = Family(409, "conflict", "Conflict")
PRECONDITION_FAILED = Family(412, "precondition-failed", "Precondition Failed")
REQUEST_TIMEOUT = Family(408, "request-timeout", "Request Timeout")
TOO_LARGE = Family(413, "too-large", "Content Too Large")
UNSUPPORTED_MEDIA = Family(415, "unsupported-media-type", "Unsupported Media Type")
VALIDATION = Family(422, "validation", "Unprocessable Content")
INVALID_CRYPTO = Family(400, "invalid-ciphertext", "Invalid Ciphertext")
INVALID_JWT = Family(400, "invalid-jwt", "Invalid Token")
INTERNAL = Family(500, "internal", "Internal Server Error")
NOT_IMPLEMENTED = Family(501, "not-implemented", "Not Implemented")
UNAVAILABLE = Family(503, "unavailable", "Service Unavailable")

_BY_STATUS = {
    family.status: family
    for family in (
        BAD_REQUEST,
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        CONFLICT,
        PRECONDITION_FAILED,
        REQUEST_TIMEOUT,
        TOO_LARGE,
        UNSUPPORTED_MEDIA,
        VALIDATION,
        INTERNAL,
        NOT_IMPLEMENTED,
        UNAVAILABLE,
    )
}

# Most specific first: AuthenticationError and PermissionDeniedError do
# not derive from one another, but a subclass must meet its own entry.
_FAMILIES: tuple[tuple[type[errors.PlatxaSecretsError], Family], ...] = (
    (PreconditionFailed, PRECONDITION_FAILED),
    (InvalidJwt, INVALID_JWT),
    (errors.AuthenticationError, UNAUTHENTICATED),
    (errors.PermissionDeniedError, FORBIDDEN),
    (errors.ValidationError, VALIDATION),
    (errors.NotFoundError, NOT_FOUND),
    (errors.ConflictError, CONFLICT),
    (errors.CryptoError, INVALID_CRYPTO),
    (errors.StoreError, UNAVAILABLE),
    (errors.UnsupportedError, NOT_IMPLEMENTED),
    (errors.ConfigError, INTERNAL),
)


def family_of_status(status: int) -> Family:
    """The family for a bare HTTP status (routing errors, size limits)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return BAD_REQUEST if status < 500 else INTERNAL


def family_of(exc: errors.PlatxaSecretsError) -> Family:
    for kind, family in _FAMILIES:
        if isinstance(exc, kind):
            return family
    return INTERNAL


def shown_detail(exc: errors.PlatxaSecretsError, family: Family) -> str | None:
    """What the caller may read of an error of the project.

    Authentication and decryption failures say only "invalid" (no
    oracle); store and configuration failures are the operator's
    business and are logged instead; everything else is the message,
    which by the project's rule names objects and rules, never values.
    """
    if family is UNAUTHENTICATED:
        return "a valid bearer token is required"
    if family is INVALID_CRYPTO:
        return INVALID_CIPHERTEXT
    if family is INVALID_JWT:
        return INVALID_TOKEN
    if family is UNAVAILABLE:
        return "the store is unavailable; try again later"
    if family.status >= 500:
        return None
    return exc.message


def body(
    family: Family,
    detail: str | None,
    instance: str,
    request_id: str,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """The serialised problem document, every caller-made text masked.

    `detail`, `instance` and the texts of `extra` (field paths, error
    messages) can carry the caller's own text: a path, a JSON key, a
    name quoted by a rule. Anything shaped like a key or token in them
    is masked here, whoever built the problem.
    """
    document: dict[str, Any] = {
        "type": TYPE_PREFIX + family.slug,
        "title": family.title,
        "status": family.status,
    }
    if detail:
        document["detail"] = mask(detail)
    document["instance"] = mask(instance)
    document["request_id"] = request_id
    document.update(_masked(extra or {}))
    return json.dumps(document, ensure_ascii=True).encode("ascii")


@contextmanager
def body_fields(fields: Mapping[str, str]) -> Iterator[None]:
    """Name a service's fields as the body fields the caller sent.

    A service names its own field (`parameters.db_host`), which the
    caller may know by another name (`params.db_host` in the body). A
    ValidationError raised inside whose field starts with a key of
    `fields` is raised again as `body.<name>`, its message saying so.
    """
    try:
        yield
    except errors.ValidationError as exc:
        field = exc.context.get("field")
        head, dot, rest = field.partition(".") if isinstance(field, str) else ("",) * 3
        if not isinstance(field, str) or head not in fields:
            raise
        shown = fields[head] + dot + rest
        context = {**exc.context, "field": f"body.{shown}"}
        raise errors.ValidationError(
            exc.message.replace(field, shown, 1), **context
        ) from None


def field_errors(field: str, message: str) -> dict[str, Any]:
    """The `errors` member for one broken rule, and its top-level `field`."""
    return {"field": field, "errors": [{"field": field, "message": message}]}


def validation_errors(raw: Sequence[Any]) -> list[dict[str, str]]:
    """pydantic's errors as `{field, message}` pairs, without any input.

    The location's parts are shortened: a dictionary key is the
    caller's own text, and a very long one is more likely a pasted
    value than a key.
    """
    shown = []
    for error in list(raw)[:_MAX_ERRORS]:
        if not isinstance(error, Mapping):
            continue
        location = [_part(p) for p in error.get("loc", ()) if p != "[key]"]
        message = str(error.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        entry = {"field": ".".join(location) or "body", "message": message}
        if entry not in shown:  # a path parameter a dependency checks too
            shown.append(entry)
    return shown


def is_malformed_json(raw: Sequence[Any]) -> bool:
    return any(
        isinstance(error, Mapping) and error.get("type") == "json_invalid"
        for error in raw
    )


def summary(problems: Sequence[Mapping[str, str]]) -> str:
    """One line naming every broken field, for `detail`."""
    parts = [f"{p['field']}: {p['message']}" for p in problems[:5]]
    more = len(problems) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _masked(value: Any) -> Any:
    """`value` with `mask` applied to every string it holds."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, Mapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def _part(part: object) -> str:
    """One part of a field path, safe to show: a JSON key is the caller's."""
    text = str(part)
    if looks_secret(text):
        return MASK
    if len(text) > _MAX_FIELD_PART:
        text = text[: _MAX_FIELD_PART - 1] + "…"
    return text.encode("ascii", "backslashreplace").decode("ascii")

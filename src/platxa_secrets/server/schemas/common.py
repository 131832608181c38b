"""Field types and bodies shared by every part of the API."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from platxa_secrets.core.names import MAX_SECRET_BYTES
from platxa_secrets.server.problems import family_of_status

MAX_VALUE_BYTES = MAX_SECRET_BYTES
_MAX_BASE64_CHARS = 4 * ((MAX_VALUE_BYTES + 2) // 3)
_DIGITS = re.compile(r"[0-9]{1,10}")
_BASE64_RULE = "must be standard base64 (RFC 4648 §4: A-Z a-z 0-9 + /, padded with =)"


def decode_base64(value: object) -> bytes:
    """Strict base64 to bytes; the message states the rule, never the text."""
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    too_long = f"must decode to at most {MAX_VALUE_BYTES} bytes"
    if len(value) > _MAX_BASE64_CHARS:
        raise ValueError(too_long)

    try:
        decoded = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise ValueError(_BASE64_RULE) from None

    if len(decoded) > MAX_VALUE_BYTES:
        raise ValueError(too_long)
    return decoded


def encode_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def unicode_text(value: str) -> str:
    """Text that can be encoded: JSON allows lone surrogates, UTF-8 does not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "must be valid Unicode text (no unpaired surrogates)"
        ) from None
    return value


def query_integer(value: object) -> object:
    """A query parameter's integer, written in digits and nothing else.

    A query string is text, so pydantic would read `" 1"`, `"1.0"` or
    `"+1"` as 1; one spelling per number leaves no room for a client
    and a proxy to disagree about what was asked.
    """
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("must be a whole number in digits 0-9, nothing else")
        return int(value)
    return value


Base64Value = Annotated[
    bytes,
    BeforeValidator(decode_base64),
    WithJsonSchema(
        {
            "type": "string",
            "format": "byte",
            "maxLength": _MAX_BASE64_CHARS,
            "description": "standard base64 (RFC 4648 §4), padded",
        }
    ),
]
Text = Annotated[str, AfterValidator(unicode_text)]
# The rules of core.names, for the schema (the services check them too).
LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NamespacePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=63,
        pattern=LABEL_PATTERN,
        description="an RFC 1123 label, e.g. tenant-acme",
    ),
]
KeyName = Annotated[
    str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")
]


class Body(BaseModel):
    """A request body: unknown fields are refused, and types are strict.

    Strict: `true` is not 1, `"0"` is not 0 and `1.5` is not an integer;
    a client that sends the wrong type learns it instead of having it
    guessed.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class FieldProblem(BaseModel):
    field: str = Field(description="where: body.items.0.context, query.version")
    message: str = Field(description="the rule that was broken")


class Problem(BaseModel):
    """An error, as RFC 9457 describes (`application/problem+json`)."""

    type: str = Field(description="urn:platxa-secrets:problem:<slug>")
    title: str
    status: int
    detail: str | None = None
    instance: str = Field(description="the request path")
    request_id: str = Field(description="also in X-Request-ID and the audit trail")
    errors: list[FieldProblem] | None = None
    field: str | None = None


class Health(BaseModel):
    status: Literal["ok", "ready"]


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting each status as a `Problem`."""
    return {
        status: {"model": Problem, "description": family_of_status(status).title}
        for status in statuses
    }

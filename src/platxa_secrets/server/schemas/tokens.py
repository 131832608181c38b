"""Bodies of the JWT and webhook routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from platxa_secrets.server.schemas.common import Body


class SignIn(Body):
    """Claims to sign; `iss`, `iat`, `nbf`, `exp`, `jti`, `aud` are set here."""

    claims: dict[str, Any] = Field(default_factory=dict)
    ttl: int | None = Field(
        None,
        ge=1,
        le=10 * 365 * 86400,
        description="lifetime in seconds (default and maximum: jwt_max_lifetime)",
    )
    audience: str | None = Field(None, min_length=1, max_length=255)


class SignOut(BaseModel):
    token: str


class VerifyIn(Body):
    token: str = Field(min_length=1, max_length=16 * 1024)
    audience: str | None = Field(None, min_length=1, max_length=255)


class VerifyOut(BaseModel):
    claims: dict[str, Any]


class Jwks(BaseModel):
    """A JWK Set (RFC 7517 §5) of the published public keys."""

    keys: list[dict[str, str]]


class WebhookOut(BaseModel):
    receiver: str
    received: int
    recorded: int = Field(description="alerts new or changed, now audited")
    duplicates: int = Field(description="alerts seen before: nothing written")

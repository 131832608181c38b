"""Signed JWTs (RFC 7519) in the one shape this project issues.

    header   {"alg": "RS256", "kid": "<RFC 7638 thumbprint>", "typ": "JWT"}
    claims   {"iss": "platxa-secrets", "aud": "odoo", "sub": "tenant-a",
              "iat": 1767225600, "nbf": 1767225600, "exp": 1767229200,
              "jti": "<128 random bits>", ...the caller's own claims}

`iss`, `iat`, `nbf`, `exp` and `jti` are always set here and cannot be
set by a caller; `aud` comes from its own argument. PyJWT's JWS layer
signs and checks signatures, always with an explicit one-algorithm list;
every claim is checked here, against a time the caller passes in, so the
clock stays injectable.

Reading a token is three paragraphs, each a gate: `parse_header` looks
at the unverified header (size, shape, members, `alg`, `kid`) without
trusting anything; the caller picks the published key that kid names;
`verify` checks the signature with that key and then each claim. Every
failure is an `AuthenticationError` whose message is "invalid token"
and whose `reason` names the check, never the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jwt.api_jws import PyJWS
from jwt.exceptions import InvalidSignatureError, PyJWTError

from platxa_secrets.core.crypto.jwk import ALGORITHMS, PrivateKey, PublicKey
from platxa_secrets.errors import AuthenticationError, ValidationError

MAX_TOKEN_CHARS = 16 * 1024
MAX_CLAIMS_BYTES = 8 * 1024
MAX_TEXT = 255
CLOCK_SKEW = timedelta(seconds=30)
SET_BY_ISSUER = ("iss", "iat", "nbf", "exp", "jti", "aud")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
_JWS = PyJWS(algorithms=list(ALGORITHMS))


@dataclass(frozen=True)
class UnverifiedHeader:
    """What a token claims about its key, before anything is checked."""

    alg: str
    kid: str


def build_claims(
    claims: Mapping[str, Any],
    issuer: str,
    audience: str | None,
    now: datetime,
    ttl: timedelta,
) -> dict[str, Any]:
    """The caller's claims plus the registered ones this service sets.

    A caller claim that would override one of them is refused rather
    than ignored: a caller who asks for a longer `exp` must hear no.
    """
    if not isinstance(claims, Mapping):
        raise ValidationError("claims must be a JSON object", field="claims")
    for name in claims:
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_TEXT:
            raise ValidationError(
                f"claim names must be text of 1 to {MAX_TEXT} characters",
                field="claims",
            )
        if name in SET_BY_ISSUER:
            raise ValidationError(
                f"claim {name!r} is set by the issuer; pass ttl for the lifetime "
                "and audience for 'aud'",
                field="claims",
            )

    issued = int(now.timestamp())
    payload = dict(claims)
    payload.update(
        iss=issuer,
        iat=issued,
        nbf=issued,
        exp=issued + int(ttl.total_seconds()),
        jti=secrets.token_urlsafe(16),
    )
    if audience is not None:
        payload["aud"] = check_audience(audience)
    if len(_encode_claims(payload)) > MAX_CLAIMS_BYTES:
        raise ValidationError(
            f"claims must encode to at most {MAX_CLAIMS_BYTES} bytes of JSON",
            field="claims",
        )
    return payload


def check_audience(audience: str) -> str:
    """An audience names a relying party: printable ASCII, no spaces."""
    if (
        not isinstance(audience, str)
        or not 1 <= len(audience) <= MAX_TEXT
        or not all("!" <= c <= "~" for c in audience)
    ):
        raise ValidationError(
            f"audience must be 1 to {MAX_TEXT} printable ASCII characters "
            "without spaces",
            field="audience",
        )
    return audience


def sign(payload: Mapping[str, Any], key: PrivateKey, alg: str, kid: str) -> str:
    """The compact JWS of `payload`, with `kid` and `typ` in the header."""
    return _JWS.encode(
        _encode_claims(payload), key, algorithm=alg, headers={"kid": kid}
    )


def parse_header(token: str) -> UnverifiedHeader:
    """Read the header of an untrusted token; refuse anything unusual.

    Only `alg`, `kid` and `typ` may appear: a header that names its own
    key (`jwk`, `jku`, `x5c`, `x5u`) or demands extensions (`crit`,
    `b64`) was never issued here. `alg: none` and any algorithm outside
    the signing set are refused before a key is even looked up.
    """
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise _invalid("malformed token")
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise _invalid("malformed token")

    header = _json_object(segments[0])
    if header is None:
        raise _invalid("malformed header")
    if set(header) - _HEADER_MEMBERS:
        raise _invalid("unexpected header member")
    if header.get("typ", "JWT") != "JWT":
        raise _invalid("unexpected token type")

    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise _invalid("alg none")
    if alg not in ALGORITHMS:
        raise _invalid("algorithm not allowed")

    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _invalid("missing kid")
    return UnverifiedHeader(alg, kid)


def verify(
    token: str,
    key: PublicKey,
    alg: str,
    *,
    issuer: str,
    audience: str | None,
    now: datetime,
    max_lifetime: timedelta,
) -> dict[str, Any]:
    """Check the signature with `key` under `alg` only, then every claim."""
    try:
        payload = _JWS.decode_complete(token, key=key, algorithms=[alg])["payload"]
    except InvalidSignatureError:
        raise _invalid("bad signature") from None
    except PyJWTError:
        raise _invalid("malformed token") from None

    claims = _json_object(payload)
    if claims is None:
        raise _invalid("malformed claims")

    if claims.get("iss") != issuer:
        raise _invalid("wrong issuer")
    if not _audience_matches(claims.get("aud", None), audience):
        raise _invalid("wrong audience")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise _invalid("missing claim jti")

    moment = now.timestamp()
    expires, issued = _number(claims, "exp"), _number(claims, "iat")
    not_before = _number(claims, "nbf") if "nbf" in claims else issued
    if moment >= expires:
        raise _invalid("expired")
    if max(issued, not_before) > moment + CLOCK_SKEW.total_seconds():
        raise _invalid("not yet valid")
    if expires - issued > max_lifetime.total_seconds():
        raise _invalid("lifetime longer than jwt_max_lifetime")
    return claims


def _audience_matches(found: Any, expected: str | None) -> bool:
    """No audience asked: the token must name none; else it must name it."""
    if expected is None:
        return found is None
    if isinstance(found, str):
        return found == expected
    return isinstance(found, list) and expected in found


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise _invalid(f"missing claim {name}")
    return float(value)


def _encode_claims(payload: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        # The encoder's message can quote a value; only the rule is told.
        raise ValidationError(
            "claims must hold only JSON values (text, numbers, booleans, null, "
            "lists and objects)",
            field="claims",
        ) from None
    return text.encode("utf-8")


def _json_object(segment: str | bytes) -> dict[str, Any] | None:
    """A base64url JSON object (or raw JSON bytes), duplicates refused."""
    try:
        raw = (
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            if isinstance(segment, str)
            else segment
        )
        value = json.loads(raw, object_pairs_hook=_no_duplicates)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Two values for one member let two parsers disagree; refuse them."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _invalid(reason: str) -> AuthenticationError:
    return AuthenticationError("invalid token", reason=reason)

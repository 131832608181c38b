"""Signed JWTs: the claims we set, and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from platxa_secrets.core.crypto import jwk, jwt_tokens
from platxa_secrets.errors import AuthenticationError, ValidationError
from tests.core.helpers import CANARY, assert_no_leak

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
ISSUER = "platxa-secrets"


@pytest.fixture(scope="module")
def pair() -> jwk.KeyPair:
    return jwk.generate("RS256")


@pytest.fixture(scope="module")
def private(pair: jwk.KeyPair) -> jwk.PrivateKey:
    return jwk.load_private_pem(pair.private_pem, pair.alg, pair.kid)


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def issue(
    private: jwk.PrivateKey,
    pair: jwk.KeyPair,
    claims: dict[str, Any] | None = None,
    audience: str | None = None,
    ttl: timedelta = HOUR,
    now: datetime = NOW,
) -> str:
    payload = jwt_tokens.build_claims(claims or {}, ISSUER, audience, now, ttl)
    return jwt_tokens.sign(payload, private, pair.alg, pair.kid)


def check(
    token: str,
    pair: jwk.KeyPair,
    audience: str | None = None,
    now: datetime = NOW,
    issuer: str = ISSUER,
) -> dict[str, Any]:
    header = jwt_tokens.parse_header(token)
    assert header.kid == pair.kid
    return jwt_tokens.verify(
        token,
        jwk.public_key(pair.public_jwk),
        pair.alg,
        issuer=issuer,
        audience=audience,
        now=now,
        max_lifetime=HOUR,
    )


def refused(reason: str, call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(AuthenticationError) as info:
        call(*args, **kwargs)
    assert info.value.message == "invalid token"
    assert info.value.context["reason"] == reason
    for arg in args:
        if isinstance(arg, str) and len(arg) > 20:
            assert_no_leak(info.value, arg)


# --- issuing ----------------------------------------------------------------


def test_the_issuer_sets_the_registered_claims() -> None:
    payload = jwt_tokens.build_claims({"sub": "tenant-a"}, ISSUER, "odoo", NOW, HOUR)

    issued = int(NOW.timestamp())
    assert payload["sub"] == "tenant-a"
    assert (payload["iss"], payload["aud"]) == (ISSUER, "odoo")
    assert (payload["iat"], payload["nbf"], payload["exp"]) == (
        issued,
        issued,
        issued + 3600,
    )
    assert len(payload["jti"]) >= 22
    again = jwt_tokens.build_claims({}, ISSUER, None, NOW, HOUR)
    assert again["jti"] != payload["jti"]
    assert "aud" not in again


@pytest.mark.parametrize("claim", jwt_tokens.SET_BY_ISSUER)
def test_a_caller_cannot_set_a_registered_claim(claim: str) -> None:
    with pytest.raises(ValidationError) as info:
        jwt_tokens.build_claims({claim: 4102444800}, ISSUER, None, NOW, HOUR)

    assert repr(claim) in info.value.message
    assert info.value.context["field"] == "claims"


@pytest.mark.parametrize(
    "claims",
    [
        {"v": CANARY.encode()},
        {"v": float("nan")},
        {"v": {CANARY}},
        {1: CANARY},
        {"": CANARY},
        {"v": CANARY * 2000},
    ],
)
def test_claims_that_are_not_small_json_are_refused_without_echo(
    claims: dict[Any, Any],
) -> None:
    with pytest.raises(ValidationError) as info:
        jwt_tokens.build_claims(claims, ISSUER, None, NOW, HOUR)

    assert info.value.context["field"] == "claims"
    assert_no_leak(info.value)


def test_claims_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        jwt_tokens.build_claims(["sub"], ISSUER, None, NOW, HOUR)  # type: ignore[arg-type]


@pytest.mark.parametrize("audience", ["", "two words", "x" * 256, "tab\t", "é"])
def test_a_malformed_audience_is_refused(audience: str) -> None:
    with pytest.raises(ValidationError) as info:
        jwt_tokens.build_claims({}, ISSUER, audience, NOW, HOUR)

    assert info.value.context["field"] == "audience"


def test_the_header_names_alg_kid_and_typ_only(
    private: jwk.PrivateKey, pair: jwk.KeyPair
) -> None:
    token = issue(private, pair)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))

    assert header == {"alg": "RS256", "kid": pair.kid, "typ": "JWT"}


@pytest.mark.parametrize("alg", jwk.ALGORITHMS)
def test_a_token_verifies_with_its_key(alg: str) -> None:
    pair = jwk.generate(alg)
    private = jwk.load_private_pem(pair.private_pem, alg, pair.kid)
    token = issue(private, pair, {"sub": "tenant-a", "roles": ["read"]}, "odoo")

    claims = check(token, pair, audience="odoo")

    assert claims["sub"] == "tenant-a"
    assert claims["roles"] == ["read"]


# --- the unverified header ----------------------------------------------------


def test_alg_none_is_refused(pair: jwk.KeyPair) -> None:
    for alg in ("none", "None", "NONE"):
        header = b64({"alg": alg, "kid": pair.kid, "typ": "JWT"})
        token = f"{header}.{b64({'sub': 'x'})}.c2ln"
        refused("alg none", jwt_tokens.parse_header, token)


def test_an_hmac_token_keyed_with_the_public_key_is_refused(
    private: jwk.PrivateKey, pair: jwk.KeyPair
) -> None:
    """Algorithm confusion: the public key must never become an HMAC secret."""
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt_tokens.build_claims({}, ISSUER, None, NOW, HOUR)
    signing_input = f"{b64({'alg': 'HS256', 'kid': pair.kid})}.{b64(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"

    refused("algorithm not allowed", jwt_tokens.parse_header, token)
    refused(
        "malformed token",
        jwt_tokens.verify,
        token,
        jwk.public_key(pair.public_jwk),
        "RS256",
        issuer=ISSUER,
        audience=None,
        now=NOW,
        max_lifetime=HOUR,
    )


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"kid": "k"}, "alg none"),
        ({"alg": 256, "kid": "k"}, "alg none"),
        ({"alg": "ES256", "kid": "k"}, "algorithm not allowed"),
        ({"alg": "RS256"}, "missing kid"),
        ({"alg": "RS256", "kid": ""}, "missing kid"),
        ({"alg": "RS256", "kid": 7}, "missing kid"),
        (
            {"alg": "RS256", "kid": "k", "jwk": {"kty": "RSA"}},
            "unexpected header member",
        ),
        (
            {"alg": "RS256", "kid": "k", "jku": "http://127.0.0.1/"},
            "unexpected header member",
        ),
        (
            {"alg": "RS256", "kid": "k", "crit": ["b64"], "b64": False},
            "unexpected header member",
        ),
        ({"alg": "RS256", "kid": "k", "x5c": ["AAAA"]}, "unexpected header member"),
        ({"alg": "RS256", "kid": "k", "typ": "at+jwt"}, "unexpected token type"),
    ],
)
def test_unusual_headers_are_refused(header: dict[str, Any], reason: str) -> None:
    refused(reason, jwt_tokens.parse_header, f"{b64(header)}.{b64({})}.c2ln")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "..",
        "e30.e30.",
        "e30=.e30.c2ln",
        "e3 0.e30.c2ln",
        "W10.e30.c2ln",  # header is a list
        "bm90IGpzb24.e30.c2ln",  # header is not JSON
        "x" * (jwt_tokens.MAX_TOKEN_CHARS + 1),
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        jwt_tokens.parse_header(token)

    assert info.value.message == "invalid token"
    assert info.value.context["reason"] in ("malformed token", "malformed header")


def test_a_header_with_a_duplicate_member_is_refused(pair: jwk.KeyPair) -> None:
    text = f'{{"alg":"RS256","kid":"{pair.kid}","alg":"none"}}'.encode()

    refused("malformed header", jwt_tokens.parse_header, f"{b64(text)}.e30.c2ln")


def test_a_non_text_token_is_refused() -> None:
    refused("malformed token", jwt_tokens.parse_header, b"e30.e30.c2ln")


# --- signature and claims -----------------------------------------------------


def test_a_tampered_payload_is_refused(
    private: jwk.PrivateKey, pair: jwk.KeyPair
) -> None:
    token = issue(private, pair, {"role": "reader"})
    header, _, signature = token.split(".")
    claims = check(token, pair)
    forged = f"{header}.{b64({**claims, 'role': 'admin'})}.{signature}"

    refused("bad signature", check, forged, pair)


def test_a_token_signed_by_another_key_is_refused(
    private: jwk.PrivateKey, pair: jwk.KeyPair
) -> None:
    token = issue(private, pair)
    other = jwk.generate("RS256")

    with pytest.raises(AuthenticationError) as info:
        jwt_tokens.verify(
            token,
            jwk.public_key(other.public_jwk),
            "RS256",
            issuer=ISSUER,
            audience=None,
            now=NOW,
            max_lifetime=HOUR,
        )

    assert info.value.context["reason"] == "bad signature"


def test_expiry_is_exact(private: jwk.PrivateKey, pair: jwk.KeyPair) -> None:
    token = issue(private, pair, ttl=timedelta(minutes=5))

    assert check(token, pair, now=NOW + timedelta(minutes=5, seconds=-1))
    refused("expired", check, token, pair, now=NOW + timedelta(minutes=5))


def test_a_token_from_the_future_is_refused_beyond_the_clock_skew(
    private: jwk.PrivateKey, pair: jwk.KeyPair
) -> None:
    token = issue(private, pair, now=NOW + timedelta(minutes=1))

    assert check(token, pair, now=NOW + timedelta(seconds=31))
    refused("not yet valid", check, token, pair, now=NOW + timedelta(seconds=29))


def test_the_issuer_must_match(private: jwk.PrivateKey, pair: jwk.KeyPair) -> None:
    token = issue(private, pair)

    refused("wrong issuer", check, token, pair, issuer="someone-else")


@pytest.mark.parametrize(
    ("issued_for", "asked_for", "accepted"),
    [
        (None, None, True),
        ("odoo", "odoo", True),
        ("odoo", None, False),
        (None, "odoo", False),
        ("odoo", "grafana", False),
    ],
)
def test_the_audience_must_match(
    private: jwk.PrivateKey,
    pair: jwk.KeyPair,
    issued_for: str | None,
    asked_for: str | None,
    accepted: bool,
) -> None:
    token = issue(private, pair, audience=issued_for)

    if accepted:
        assert check(token, pair, audience=asked_for)["iss"] == ISSUER
    else:
        refused("wrong audience", check, token, pair, audience=asked_for)


def test_a_lifetime_longer_than_the_maximum_is_refused(
    private: jwk.PrivateKey, pair: jwk.KeyPair
) -> None:
    token = issue(private, pair, ttl=2 * HOUR)

    refused("lifetime longer than jwt_max_lifetime", check, token, pair)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": None}, "missing claim exp"),
        ({"exp": "never"}, "missing claim exp"),
        ({"exp": True}, "missing claim exp"),
        ({"iat": None}, "missing claim iat"),
        ({"jti": None}, "missing claim jti"),
        ({"jti": ""}, "missing claim jti"),
    ],
)
def test_claims_of_the_wrong_type_are_refused(
    private: jwk.PrivateKey, pair: jwk.KeyPair, change: dict[str, Any], reason: str
) -> None:
    payload = jwt_tokens.build_claims({}, ISSUER, None, NOW, HOUR)
    payload.update(change)
    payload = {k: v for k, v in payload.items() if v is not None}
    token = jwt_tokens.sign(payload, private, pair.alg, pair.kid)

    refused(reason, check, token, pair)

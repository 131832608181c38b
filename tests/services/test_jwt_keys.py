"""JWT signing keys on a real store, with a clock the test moves.

Defaults: jwt_publish_grace 10 minutes, jwt_max_lifetime 1 hour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.core.store import jwt_rows
from platxa_secrets.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.jwt_keys import (
    PRIVATE_KEY,
    SYSTEM_NAMESPACE,
    JwtService,
    secret_name,
)
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService

GRACE = timedelta(minutes=10)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
CANARY = "CANARY-jwt-4b1d-claim"


@pytest.fixture
def runtime(config: Config, clock: FrozenClock) -> Iterator[Runtime]:
    rt = Runtime(config, clock=clock, actor="test:operator")
    initialise(rt)
    yield rt
    rt.close()


@pytest.fixture
def jwt(runtime: Runtime) -> JwtService:
    return JwtService(runtime)


@pytest.fixture
def replica(
    config: Config, clock: FrozenClock, runtime: Runtime
) -> Iterator[JwtService]:
    """A second process on the same store and the same clock."""
    rt = Runtime(config, clock=clock, actor="test:replica")
    yield JwtService(rt)
    rt.close()


def kid_of(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"])


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def states(jwt: JwtService) -> dict[str, str]:
    return {k.kid: k.state for k in jwt.keys()}  # noqa: SIM118


def published(jwt: JwtService) -> list[str]:
    return [k["kid"] for k in jwt.jwks()["keys"]]


def refused(jwt: JwtService, token: str, reason: str, **kwargs: Any) -> None:
    with pytest.raises(AuthenticationError) as info:
        jwt.verify(token, **kwargs)
    assert info.value.message == "invalid token"
    assert info.value.context["reason"] == reason
    assert token[-20:] not in repr(info.value.__dict__)


def rows(runtime: Runtime, sql: str) -> list[tuple[Any, ...]]:
    with runtime.database.read() as tx:
        return tx.all(sql)


def events(runtime: Runtime, action: str) -> list[Any]:
    return [e for e in AuditLog(runtime).list(limit=1000) if e.action == action]


# --- the first key ----------------------------------------------------------


def test_the_first_key_signs_at_once(jwt: JwtService, clock: FrozenClock) -> None:
    key = jwt.rotate()

    token = jwt.sign({"sub": "tenant-a"}, audience="odoo")
    claims = jwt.verify(token, audience="odoo")

    assert (key.state, key.signs_from, key.alg) == ("signing", key.created_at, "RS256")
    assert kid_of(token) == key.kid
    assert claims["sub"] == "tenant-a"
    assert claims["iss"] == "platxa-secrets"
    assert claims["exp"] - claims["iat"] == 3600
    assert published(jwt) == [key.kid]


def test_signing_without_a_key_is_refused(jwt: JwtService) -> None:
    with pytest.raises(NotFoundError, match="pxs jwt rotate"):
        jwt.sign({"sub": "tenant-a"})


@pytest.mark.parametrize("alg", ["EdDSA", "RS256"])
def test_either_algorithm_signs_and_verifies(jwt: JwtService, alg: str) -> None:
    key = jwt.rotate(alg)

    token = jwt.sign({"sub": "tenant-a"})

    assert (
        json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"]
        == key.alg
    )
    assert jwt.verify(token)["sub"] == "tenant-a"


def test_an_unknown_algorithm_is_refused_and_nothing_is_stored(
    jwt: JwtService, runtime: Runtime
) -> None:
    with pytest.raises(ValidationError) as info:
        jwt.rotate("HS256")

    assert info.value.context["field"] == "alg"
    assert rows(runtime, "SELECT kid FROM jwt_keys") == []


# --- rotation through the grace period and the verification window ----------


def test_a_new_key_is_published_before_it_signs(
    jwt: JwtService, clock: FrozenClock
) -> None:
    old = jwt.rotate()
    clock.advance(HOUR)

    new = jwt.rotate()

    assert new.state == "pending"
    assert new.signs_from == _later(new.created_at, GRACE)
    assert published(jwt) == [old.kid, new.kid]
    clock.advance(GRACE - SECOND)
    assert kid_of(jwt.sign({})) == old.kid
    assert states(jwt) == {old.kid: "signing", new.kid: "pending"}

    clock.advance(SECOND)
    assert kid_of(jwt.sign({})) == new.kid
    assert states(jwt) == {old.kid: "retired", new.kid: "signing"}


def test_old_tokens_verify_until_they_expire_and_the_old_key_stays_published(
    jwt: JwtService, clock: FrozenClock, runtime: Runtime
) -> None:
    old = jwt.rotate()
    new = jwt.rotate()
    clock.advance(GRACE - SECOND)
    last_old = jwt.sign({"sub": "last"})
    clock.advance(SECOND)
    first_new = jwt.sign({"sub": "first"})

    listed = {k.kid: k for k in jwt.keys()}  # noqa: SIM118
    assert listed[old.kid].retired_at == new.signs_from
    assert listed[old.kid].unpublish_at == _later(new.signs_from, HOUR)

    clock.advance(HOUR - 2 * SECOND)
    assert jwt.verify(last_old)["sub"] == "last"
    assert published(jwt) == [old.kid, new.kid]

    clock.advance(SECOND)
    refused(jwt, last_old, "expired")
    assert jwt.verify(first_new)["sub"] == "first"
    assert published(jwt) == [old.kid, new.kid]

    clock.advance(SECOND)
    assert published(jwt) == [new.kid]
    assert states(jwt)[old.kid] == "unpublished"
    fresh = jwt.sign({"sub": "fresh"})
    assert jwt.verify(fresh)["sub"] == "fresh"
    refused(jwt, _with_kid(fresh, old.kid), "key not published")


def test_maintain_destroys_unpublished_private_keys_once(
    jwt: JwtService, clock: FrozenClock, runtime: Runtime
) -> None:
    old = jwt.rotate()
    new = jwt.rotate()
    clock.advance(GRACE + HOUR)

    report = jwt.maintain()

    assert (report.retired, report.destroyed) == ([old.kid], [old.kid])
    assert states(jwt) == {old.kid: "destroyed", new.kid: "signing"}
    history = SecretService(runtime).history(SYSTEM_NAMESPACE, secret_name(old.kid))
    assert [v.state for v in history] == ["destroyed"]
    with pytest.raises(NotFoundError):
        SecretService(runtime).get(SYSTEM_NAMESPACE, secret_name(old.kid))
    assert SecretService(runtime).get(SYSTEM_NAMESPACE, secret_name(new.kid)).data

    again = jwt.maintain()
    assert (again.retired, again.destroyed) == ([], [])
    assert len(events(runtime, "jwt.retire")) == 1
    assert len([e for e in events(runtime, "jwt.destroy") if e.kid == old.kid]) == 1


def test_signing_records_a_due_retirement_without_a_cron(
    jwt: JwtService, clock: FrozenClock, runtime: Runtime
) -> None:
    old = jwt.rotate()
    new = jwt.rotate()
    clock.advance(GRACE)

    jwt.sign({})

    stored = {
        r[0]: r[1:]
        for r in rows(runtime, "SELECT kid, retired_at, unpublish_at FROM jwt_keys")
    }
    assert stored[old.kid] == (new.signs_from, _later(new.signs_from, HOUR))
    assert stored[new.kid] == (None, None)
    assert [e.kid for e in events(runtime, "jwt.retire")] == [old.kid]


def test_a_second_rotation_waits_for_the_pending_key(
    jwt: JwtService, clock: FrozenClock, runtime: Runtime
) -> None:
    jwt.rotate()
    pending = jwt.rotate()
    secrets_before = SecretService(runtime).list(SYSTEM_NAMESPACE)

    with pytest.raises(ConflictError) as info:
        jwt.rotate()

    assert info.value.context["kid"] == pending.kid
    assert pending.signs_from in info.value.message
    assert len(rows(runtime, "SELECT kid FROM jwt_keys")) == 2
    assert SecretService(runtime).list(SYSTEM_NAMESPACE) == secrets_before
    clock.advance(GRACE)
    assert jwt.rotate().state == "pending"


def test_a_failed_rotation_leaves_no_private_key_behind(
    jwt: JwtService, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise StoreError("the row could not be written")

    monkeypatch.setattr(jwt_rows, "insert_key", broken)

    with pytest.raises(StoreError):
        jwt.rotate()

    assert SecretService(runtime).list(SYSTEM_NAMESPACE) == []
    assert rows(runtime, "SELECT kid FROM jwt_keys") == []
    assert [e.outcome for e in events(runtime, "jwt.rotate")] == ["error"]


# --- replicas ------------------------------------------------------------------


def test_replicas_agree_on_the_signer_from_the_rows_and_the_clock(
    jwt: JwtService, replica: JwtService, clock: FrozenClock
) -> None:
    first = jwt.rotate()
    assert kid_of(replica.sign({})) == first.kid

    second = jwt.rotate()
    clock.advance(GRACE - SECOND)
    assert kid_of(jwt.sign({})) == kid_of(replica.sign({})) == first.kid

    clock.advance(SECOND)
    from_replica = replica.sign({"sub": "r"})
    from_first = jwt.sign({"sub": "f"})
    assert kid_of(from_replica) == kid_of(from_first) == second.kid
    assert jwt.verify(from_replica)["sub"] == "r"
    assert replica.verify(from_first)["sub"] == "f"


def test_a_replica_learns_a_new_key_within_the_refresh_interval(
    jwt: JwtService, replica: JwtService, clock: FrozenClock
) -> None:
    jwt.rotate()
    assert len(published(replica)) == 1

    new = jwt.rotate()
    assert new.kid not in published(replica)  # cached for keyring_refresh

    clock.advance(timedelta(seconds=60))
    assert new.kid in published(replica)
    assert states(replica)[new.kid] == "pending"


def test_a_replica_reloads_for_an_unknown_kid_at_most_once_a_second(
    jwt: JwtService, replica: JwtService, clock: FrozenClock
) -> None:
    assert published(replica) == []
    jwt.rotate()
    token = jwt.sign({"sub": "tenant-a"})

    refused(replica, token, "unknown kid")
    clock.advance(SECOND)
    assert replica.verify(token)["sub"] == "tenant-a"


# --- what verification refuses ---------------------------------------------------


def test_alg_none_is_refused(jwt: JwtService) -> None:
    key = jwt.rotate()
    claims = jwt.verify(jwt.sign({"sub": "tenant-a"}))
    token = f"{b64({'alg': 'none', 'kid': key.kid, 'typ': 'JWT'})}.{b64(claims)}."

    refused(jwt, token, "malformed token")
    refused(jwt, token + "c2ln", "alg none")


def test_an_hmac_token_keyed_with_the_published_key_is_refused(
    jwt: JwtService,
) -> None:
    key = jwt.rotate()
    claims = jwt.verify(jwt.sign({"sub": "tenant-a", "role": "reader"}))
    published_jwk = json.dumps(jwt.jwks()["keys"][0]).encode()
    n = base64.urlsafe_b64decode(jwt.jwks()["keys"][0]["n"] + "==")

    for secret in (published_jwk, n):
        signing_input = (
            f"{b64({'alg': 'HS256', 'kid': key.kid, 'typ': 'JWT'})}."
            f"{b64({**claims, 'role': 'admin'})}"
        )
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        refused(jwt, f"{signing_input}.{b64(mac)}", "algorithm not allowed")


def test_an_algorithm_that_does_not_match_the_key_is_refused(
    jwt: JwtService,
) -> None:
    jwt.rotate("EdDSA")
    token = jwt.sign({"sub": "tenant-a"})
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    rest = token.split(".", 1)[1]

    refused(
        jwt,
        f"{b64({**header, 'alg': 'RS256'})}.{rest}",
        "algorithm does not match the key",
    )


def test_unknown_and_missing_kids_are_refused(
    jwt: JwtService, clock: FrozenClock
) -> None:
    jwt.rotate()
    token = jwt.sign({})
    clock.advance(SECOND)

    refused(jwt, _with_kid(token, "not-a-known-kid"), "unknown kid")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    del header["kid"]
    refused(jwt, f"{b64(header)}.{token.split('.', 1)[1]}", "missing kid")


def test_a_tampered_payload_is_refused(jwt: JwtService) -> None:
    jwt.rotate()
    token = jwt.sign({"sub": "tenant-a", "role": "reader"})
    header, _, signature = token.split(".")
    claims = jwt.verify(token)

    refused(
        jwt, f"{header}.{b64({**claims, 'role': 'admin'})}.{signature}", "bad signature"
    )


def test_audience_and_issuer_are_checked(
    jwt: JwtService, runtime: Runtime, clock: FrozenClock
) -> None:
    jwt.rotate()
    token = jwt.sign({}, audience="odoo")

    refused(jwt, token, "wrong audience")
    refused(jwt, token, "wrong audience", audience="grafana")
    assert jwt.verify(token, audience="odoo")["aud"] == "odoo"

    env = {
        "PLATXA_SECRETS_HOME": str(runtime.config.home),
        "PLATXA_SECRETS_DATABASE_URL": runtime.config.database_url,
        "PLATXA_SECRETS_MASTER_KEY": runtime.config.master_key or "",
        "PLATXA_SECRETS_JWT_ISSUER": "https://other.example",
    }
    other = Runtime(load_config(env=env), clock=clock)
    try:
        refused(JwtService(other), token, "wrong issuer", audience="odoo")
    finally:
        other.close()


# --- what signing refuses ------------------------------------------------------------


def test_a_lifetime_outside_the_limits_is_refused_and_not_audited(
    jwt: JwtService, runtime: Runtime
) -> None:
    jwt.rotate()

    for ttl in (HOUR + SECOND, timedelta(days=1), timedelta(0), -SECOND, 3600):
        with pytest.raises(ValidationError) as info:
            jwt.sign({}, ttl=ttl)  # type: ignore[arg-type]

        assert info.value.context["field"] == "ttl"
        assert "jwt_max_lifetime (1h)" in info.value.message
    assert events(runtime, "jwt.sign") == []


def test_a_shorter_lifetime_is_kept(jwt: JwtService) -> None:
    jwt.rotate()

    claims = jwt.verify(jwt.sign({}, ttl=timedelta(minutes=5)))

    assert claims["exp"] - claims["iat"] == 300


def test_a_registered_claim_from_the_caller_is_refused(
    jwt: JwtService, runtime: Runtime
) -> None:
    jwt.rotate()

    for claim in ("exp", "iat", "nbf", "iss", "jti", "aud"):
        with pytest.raises(ValidationError) as info:
            jwt.sign({"sub": "tenant-a", claim: 4102444800})

        assert info.value.context["field"] == "claims"
    assert events(runtime, "jwt.sign") == []


# --- nothing private leaves the store ------------------------------------------------


def test_sign_is_audited_with_claim_names_but_no_values(
    jwt: JwtService, runtime: Runtime
) -> None:
    key = jwt.rotate()
    token = jwt.sign({"sub": CANARY, "email": CANARY}, audience="odoo")

    (event,) = events(runtime, "jwt.sign")

    assert event.kid == key.kid
    assert set(event.key_names) >= {"sub", "email", "exp", "aud"}
    assert "audience odoo" in (event.detail or "")
    assert jwt.verify(token, audience="odoo")["jti"] in (event.detail or "")
    assert CANARY not in repr(event)
    assert token.split(".")[2][:20] not in repr(event)


def test_the_private_key_appears_in_no_row_event_log_or_repr(
    jwt: JwtService,
    runtime: Runtime,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    old = jwt.rotate()
    new = jwt.rotate("EdDSA")
    jwt.sign({"sub": "tenant-a"})
    clock.advance(GRACE)
    jwt.sign({"sub": "tenant-a"})
    secrets = SecretService(runtime)
    pems = [
        secrets.get(SYSTEM_NAMESPACE, secret_name(k.kid)).data[PRIVATE_KEY]
        for k in (old, new)
    ]
    clock.advance(HOUR)
    jwt.maintain()

    texts = [
        repr(rows(runtime, "SELECT * FROM jwt_keys")),
        repr(rows(runtime, "SELECT * FROM audit_events")),
        caplog.text,
        repr(jwt),
        repr(jwt.keys()),
        json.dumps(jwt.jwks()),
    ]
    forms = {form for pem in pems for form in _private_forms(pem)}
    for text in texts:
        assert "PRIVATE KEY" not in text
        assert _pem_body(pems[0])[:32] not in text  # the PKCS#8 preamble
        assert not [form for form in forms if form in text]
    assert all(not {"d", "p", "q"} & set(k) for k in jwt.jwks()["keys"])
    assert "jwt.rotate" in caplog.text


def _private_forms(pem: bytes) -> set[str]:
    """Windows of every private component in hex and both base64 alphabets.

    Not of the whole PEM: it also holds the public modulus, which the
    JWKS rightly publishes.
    """
    key = load_pem_private_key(pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        values = [
            numbers.d,
            numbers.p,
            numbers.q,
            numbers.dmp1,
            numbers.dmq1,
            numbers.iqmp,
        ]
        parts = [v.to_bytes((v.bit_length() + 7) // 8, "big") for v in values]
    else:
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        parts = [key.private_bytes_raw()]

    encodings = []
    for part in parts:
        encodings.append(part.hex())
        for start in range(3):
            encodings.append(base64.b64encode(part[start:]).decode()[:-4])
            encodings.append(base64.urlsafe_b64encode(part[start:]).decode()[:-4])
    return {text[i : i + 16] for text in encodings for i in range(len(text) - 15)}


def _pem_body(pem: bytes) -> str:
    return "".join(line for line in pem.decode().splitlines() if "-----" not in line)


def _with_kid(token: str, kid: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return f"{b64({**header, 'kid': kid})}.{token.split('.', 1)[1]}"


def _later(text: str, delta: timedelta) -> str:
    from platxa_secrets.clock import from_text, to_text

    return to_text(from_text(text) + delta)

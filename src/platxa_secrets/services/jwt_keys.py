"""JWT signing keys: rotate, publish as a JWKS, sign, verify, maintain.

A key pair's private half is a secret like any other, encrypted in the
store as `platxa-system/jwt-<kid in hex>` under the data key
`private.pem`; its `jwt_keys` row holds the public JWK and the schedule
(see `_jwt_schedule` for the lifecycle and a worked example). The first
key ever signs at once; every later key is published for
`jwt_publish_grace` before it signs, and a key that stopped signing
stays published for `jwt_max_lifetime`, until every token it signed has
expired. Which key signs is worked out from the rows and the clock on
each `sign`, so replicas agree without a cron job; `maintain` (and
`sign`, lazily) records retirements and destroys private keys that are
no longer published.

Audit: `jwt.rotate`, `jwt.retire` and `jwt.destroy` name the kid (and,
as a second event, the secret that holds the private key). `jwt.sign`
names the kid, the `jti`, the lifetime, the audience and the *names* of
the claims, never a claim value: a subject can be a person's address,
and the audit trail is no place for the token's content. Verification
changes nothing and writes no event; an interface that turns a failed
verification into a refusal records that, with the error's `reason`.

Hold one service per process: it caches the rows for
`keyring_refresh`, the public keys, and each private key after its
first use, so signing decrypts a private key once, not per token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from platxa_secrets.clock import to_text
from platxa_secrets.core.crypto import jwk, jwt_tokens
from platxa_secrets.core.durations import format_duration
from platxa_secrets.core.names import SYSTEM_NAMESPACE
from platxa_secrets.core.store import jwt_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.core.store.jwt_rows import JwtKeyRow
from platxa_secrets.errors import (
    AuthenticationError,
    CryptoError,
    NotFoundError,
    ValidationError,
)
from platxa_secrets.logs import get_logger
from platxa_secrets.services._jwt_lifecycle import (
    PRIVATE_KEY,
    JwtLifecycle,
    JwtMaintenance,
    secret_name,
)
from platxa_secrets.services._jwt_schedule import PlannedKey, plan, signer
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService

__all__ = [
    "PRIVATE_KEY",
    "SYSTEM_NAMESPACE",
    "JwtKeyInfo",
    "JwtMaintenance",
    "JwtService",
    "secret_name",
]

_PUBLIC_MEMBERS = ("kty", "crv", "n", "e", "x", "kid", "alg", "use")
_UNKNOWN_KID_RELOAD = timedelta(seconds=1)
log = get_logger(__name__)


@dataclass(frozen=True)
class JwtKeyInfo:
    """A JWT key as operators see it: schedule and state, no key material."""

    kid: str
    alg: str
    state: str
    created_at: str
    created_by: str
    signs_from: str
    retired_at: str | None
    unpublish_at: str | None
    destroyed_at: str | None
    secret: str


class JwtService:
    """Rotate JWT signing keys, publish the JWKS, sign and verify tokens."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)
        self._lifecycle = JwtLifecycle(runtime)
        self._secrets = SecretService(runtime)
        self._rows: list[JwtKeyRow] = []
        self._rows_loaded: datetime | None = None
        self._public: dict[str, jwk.PublicKey] = {}
        self._private: dict[str, jwk.PrivateKey] = {}

    def __repr__(self) -> str:
        return f"JwtService({self._runtime!r})"

    # -- keys ----------------------------------------------------------------

    def rotate(self, alg: str = jwk.RS256) -> JwtKeyInfo:
        """Create a key pair: published now, signing after the grace period.

        Refused while another key is pending, so keys sign in the order
        they were made.
        """
        jwk.check_alg(alg)
        self._runtime.ready()

        row = self._lifecycle.create(jwk.generate(alg))
        self._rows_loaded = None
        return next(k for k in self.keys() if k.kid == row.kid)

    def keys(self) -> list[JwtKeyInfo]:
        """Every JWT key with its state now, in signing order."""
        self._runtime.ready()
        now = self._runtime.clock.now()
        return [_info(p) for p in self._plan(self._load_rows(), now)]

    def jwks(self) -> dict[str, Any]:
        """The published public keys as a JWK Set (RFC 7517 §5)."""
        self._runtime.ready()
        now = self._runtime.clock.now()
        published = [p for p in self._plan(self._cached_rows(now), now) if p.published]
        return {"keys": [_public_members(p.row) for p in published]}

    def maintain(self) -> JwtMaintenance:
        """Record retirements; destroy private keys no longer published.

        Idempotent, and safe on several replicas at once: each change is
        compare-and-set on its row.
        """
        self._runtime.ready()
        return self._maintain(self._plan(self._load_rows(), self._runtime.clock.now()))

    # -- tokens --------------------------------------------------------------

    def sign(
        self,
        claims: Mapping[str, Any],
        ttl: timedelta | None = None,
        audience: str | None = None,
    ) -> str:
        """A JWT carrying `claims`, signed by the key that signs now.

        `ttl` defaults to, and may not exceed, `jwt_max_lifetime`: the
        JWKS keeps a retired key only that long, so a longer-lived token
        would outlive the key that verifies it.
        """
        ttl = self._check_ttl(ttl)
        now = self._runtime.clock.now()
        payload = jwt_tokens.build_claims(
            claims, self._runtime.config.jwt_issuer, audience, now, ttl
        )
        self._runtime.ready()

        planned = self._plan(self._load_rows(), now)
        if any(p.retire_due or p.destroy_due for p in planned):
            self._maintain(planned)
        current = signer(planned)
        if current is None:
            raise NotFoundError("no JWT signing key exists; run `pxs jwt rotate`")

        kid, alg = current.row.kid, current.row.alg
        token = jwt_tokens.sign(payload, self._signing_key(current.row), alg, kid)

        def work(tx: Tx, outcome: Outcome) -> str:
            outcome.kid = kid
            outcome.key_names = sorted(payload)
            outcome.detail = (
                f"jti {payload['jti']}, ttl {format_duration(ttl)}, "
                f"audience {audience or '-'}"
            )
            return token

        return self._audit.run("jwt.sign", None, None, work)

    def verify(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """The claims of `token` if a published key signed it and it is valid.

        Raises AuthenticationError ("invalid token", `reason` saying
        which check failed) for anything else; a token without `aud`
        passes only when no audience is asked for, and the reverse.
        """
        if audience is not None:
            jwt_tokens.check_audience(audience)
        header = jwt_tokens.parse_header(token)
        self._runtime.ready()

        now = self._runtime.clock.now()
        key = self._verifying_key(header.kid, now)
        if key is None:
            raise AuthenticationError("invalid token", reason="unknown kid")
        if not key.published:
            raise AuthenticationError("invalid token", reason="key not published")
        if header.alg != key.row.alg:
            raise AuthenticationError(
                "invalid token", reason="algorithm does not match the key"
            )

        config = self._runtime.config
        return jwt_tokens.verify(
            token,
            self._public_key(key.row),
            key.row.alg,
            issuer=config.jwt_issuer,
            audience=audience,
            now=now,
            max_lifetime=config.jwt_max_lifetime,
        )

    # -- steps ---------------------------------------------------------------

    def _check_ttl(self, ttl: timedelta | None) -> timedelta:
        maximum = self._runtime.config.jwt_max_lifetime
        if ttl is None:
            return maximum
        if not isinstance(ttl, timedelta) or not (
            timedelta(seconds=1) <= ttl <= maximum
        ):
            raise ValidationError(
                f"ttl must be from 1s up to jwt_max_lifetime "
                f"({format_duration(maximum)})",
                field="ttl",
            )
        return ttl

    def _maintain(self, planned: list[PlannedKey]) -> JwtMaintenance:
        report = self._lifecycle.maintain(planned)
        for kid in report.destroyed:
            self._private.pop(kid, None)
        self._rows_loaded = None
        return report

    def _signing_key(self, row: JwtKeyRow) -> jwk.PrivateKey:
        """The private key of `row`, decrypted on first use and kept."""
        cached = self._private.get(row.kid)
        if cached is not None:
            return cached

        name = secret_name(row.kid)
        pem = self._secrets.get(SYSTEM_NAMESPACE, name).data.get(PRIVATE_KEY)
        if pem is None:
            raise CryptoError(
                f"secret {SYSTEM_NAMESPACE}/{name} has no key {PRIVATE_KEY}",
                kid=row.kid,
            )
        key = jwk.load_private_pem(pem, row.alg, row.kid)
        self._private[row.kid] = key
        log.info("loaded the private key of JWT key %s", row.kid)
        return key

    def _verifying_key(self, kid: str, now: datetime) -> PlannedKey | None:
        """The key a token names, reloading the rows once if it is unknown.

        A replica meets a new key's first token before its next refresh
        only for the very first key; the reload is limited to one a
        second so a stream of made-up kids cannot load the database.
        """
        rows = self._cached_rows(now)
        loaded = self._rows_loaded
        if all(r.kid != kid for r in rows) and (
            loaded is None or now - loaded >= _UNKNOWN_KID_RELOAD
        ):
            rows = self._load_rows()
        return next((p for p in self._plan(rows, now) if p.row.kid == kid), None)

    def _public_key(self, row: JwtKeyRow) -> jwk.PublicKey:
        key = self._public.get(row.kid)
        if key is None:
            key = jwk.public_key(json.loads(row.public_jwk))
            self._public[row.kid] = key
        return key

    def _plan(self, rows: list[JwtKeyRow], now: datetime) -> list[PlannedKey]:
        return plan(rows, now, self._runtime.config.jwt_max_lifetime)

    def _cached_rows(self, now: datetime) -> list[JwtKeyRow]:
        loaded = self._rows_loaded
        if loaded is None or now - loaded >= self._runtime.config.keyring_refresh:
            return self._load_rows()
        return self._rows

    def _load_rows(self) -> list[JwtKeyRow]:
        with self._runtime.database.read() as tx:
            rows = jwt_rows.load_keys(tx)
        self._rows, self._rows_loaded = rows, self._runtime.clock.now()
        return rows


def _public_members(row: JwtKeyRow) -> dict[str, str]:
    """The JWK of a row, limited to public members whatever the row holds."""
    stored = json.loads(row.public_jwk)
    return {m: stored[m] for m in _PUBLIC_MEMBERS if m in stored}


def _info(key: PlannedKey) -> JwtKeyInfo:
    row = key.row
    return JwtKeyInfo(
        kid=row.kid,
        alg=row.alg,
        state=key.state,
        created_at=row.created_at,
        created_by=row.created_by,
        signs_from=row.signs_from,
        retired_at=to_text(key.retired_at) if key.retired_at else None,
        unpublish_at=to_text(key.unpublish_at) if key.unpublish_at else None,
        destroyed_at=row.destroyed_at,
        secret=f"{SYSTEM_NAMESPACE}/{secret_name(row.kid)}",
    )

"""API tokens: create, list, revoke, rotate, and authenticate a request.

A token (`pxs_<id>_<secret>_<checksum>`, see `core/token_format.py`)
is shown once, when it is created; the store keeps only the SHA-256 of
its secret part. Each token has scopes, an optional expiry, and can be
revoked. Rotation gives a new token with the same name, scopes and
lifetime and lets the old one live on for a grace period, so a webhook
sender can be reconfigured while both work:

    new_text, new = tokens.rotate(old_id, grace=timedelta(hours=1))
    # old and new authenticate until now + 1h (or the old expiry, if sooner)

Revoking a revoked token is a `ConflictError` rather than a silent
success: an operator who revokes the wrong id twice learns it at once.

`authenticate` runs on every HTTP request. It answers every failure
with the same `AuthenticationError("invalid token")` (the cause is in
its `reason` attribute, for logs), costs one primary-key SELECT, and
hashes and compares even for an unknown id, so neither the message nor
the time tells a caller which ids exist. It writes no audit event (the
HTTP layer audits each request) and records `last_used_at` at most once
a minute per token.
"""

from __future__ import annotations

import builtins
import json
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from platxa_secrets.clock import from_text, to_text
from platxa_secrets.core import token_format
from platxa_secrets.core.crypto.compare import secret_equal
from platxa_secrets.core.scopes import Principal, Scope, parse_scope, parse_scopes
from platxa_secrets.core.store import token_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.core.store.token_rows import TokenRecord
from platxa_secrets.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    StoreError,
)
from platxa_secrets.logs import get_logger
from platxa_secrets.services._token_rules import (
    MAX_LIFETIME,
    MAX_NAME,
    TokenInfo,
    check_grace,
    check_lifetime,
    check_name,
    check_token_id,
    describe,
    info_of,
)
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime

__all__ = ["MAX_LIFETIME", "MAX_NAME", "TokenInfo", "TokenService"]

log = get_logger(__name__)

TOUCH_EVERY = timedelta(minutes=1)

# Compared against when the id is unknown, so that path costs the same.
_DUMMY_SHA256 = "0" * 64
_MEMO_LIMIT = 10_000


class TokenService:
    """Creates and verifies the API tokens of one store.

    Keep one instance per process for `authenticate`: it remembers when
    it last recorded each token's use. Its store access is serialised by
    a lock, so one instance may serve a threaded server.
    """

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)
        self._lock = threading.Lock()
        self._touched: dict[str, datetime] = {}

    def create(
        self,
        name: str,
        scopes: Sequence[str],
        expires_in: timedelta | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token's text (shown this once) and its description."""
        check_name(name)
        granted = parse_scopes([scopes] if isinstance(scopes, str) else scopes)
        check_lifetime(expires_in, "token expiry (--expires)")
        self._runtime.ready()

        text, parsed = token_format.new_token()
        now = self._runtime.clock.now()
        record = TokenRecord(
            id=parsed.id,
            name=name,
            secret_sha256=parsed.secret_sha256(),
            scopes=json.dumps([str(scope) for scope in granted]),
            created_at=to_text(now),
            created_by=self._runtime.actor,
            expires_at=to_text(now + expires_in) if expires_in else None,
        )

        def work(tx: Tx, outcome: Outcome) -> None:
            token_rows.insert_token(tx, record)
            outcome.detail = describe(record)

        self._audit.run("token.create", None, record.id, work)
        return text, info_of(record, now)

    def list(self, include_revoked: bool = False) -> builtins.list[TokenInfo]:
        """Every token, oldest first; revoked ones only when asked."""
        self._runtime.ready()
        now = self._runtime.clock.now()
        with self._runtime.database.read() as tx:
            records = token_rows.list_tokens(tx, include_revoked)
        return [info_of(record, now) for record in records]

    def get(self, token_id: str) -> TokenInfo:
        """One token by id; NotFoundError naming the id if there is none."""
        check_token_id(token_id)
        self._runtime.ready()
        now = self._runtime.clock.now()
        with self._runtime.database.read() as tx:
            return info_of(_find(tx, token_id), now)

    def revoke(self, token_id: str) -> TokenInfo:
        """Revoke a token now; a revoked token never authenticates again."""
        check_token_id(token_id)
        self._runtime.ready()
        now = self._runtime.clock.now()

        def work(tx: Tx, outcome: Outcome) -> TokenRecord:
            record = _find(tx, token_id)
            if not token_rows.revoke_token(
                tx, token_id, to_text(now), self._runtime.actor
            ):
                raise ConflictError(
                    f"token {token_id} is already revoked (at {record.revoked_at})",
                    token_id=token_id,
                )
            outcome.detail = f"name {record.name!r}"
            return _find(tx, token_id)

        return info_of(self._audit.run("token.revoke", None, token_id, work), now)

    def rotate(self, token_id: str, grace: timedelta) -> tuple[str, TokenInfo]:
        """Replace a token; the old one stays valid for `grace`.

        The new token has the old one's name, scopes and lifetime. The
        old one then expires at now + `grace`, or at its own expiry if
        that comes first: a rotation never extends a token's life.
        """
        check_token_id(token_id)
        check_grace(grace)
        self._runtime.ready()
        text, parsed = token_format.new_token()
        now = self._runtime.clock.now()

        def work(tx: Tx, outcome: Outcome) -> TokenRecord:
            old = _find(tx, token_id, lock=True)
            _check_rotatable(tx, old, now)

            lifetime = (
                from_text(old.expires_at) - from_text(old.created_at)
                if old.expires_at
                else None
            )
            new = TokenRecord(
                id=parsed.id,
                name=old.name,
                secret_sha256=parsed.secret_sha256(),
                scopes=old.scopes,
                created_at=to_text(now),
                created_by=self._runtime.actor,
                expires_at=to_text(now + lifetime) if lifetime else None,
                rotated_from=old.id,
            )
            token_rows.insert_token(tx, new)

            old_expiry = to_text(now + grace)
            if old.expires_at is not None:
                old_expiry = min(old_expiry, old.expires_at)
            token_rows.set_expiry(tx, old.id, old_expiry)
            outcome.detail = f"rotated into {new.id}; {old.id} expires at {old_expiry}"
            return new

        new = self._audit.run("token.rotate", None, token_id, work)
        return text, info_of(new, now)

    def authenticate(self, token_text: str) -> Principal:
        """The principal a token stands for; AuthenticationError otherwise.

        Every failure has the message "invalid token"; the `reason`
        attribute says which check failed, for the operator's logs.
        """
        parsed = token_format.parse_token(token_text)
        presented = parsed.secret_sha256()

        record = self._lookup(parsed.id)
        stored = record.secret_sha256 if record else _DUMMY_SHA256
        matches = secret_equal(presented, stored)
        if record is None:
            raise _invalid("unknown token id", parsed.id)
        if not matches:
            raise _invalid("wrong token secret", parsed.id)

        now = self._runtime.clock.now()
        if record.revoked_at is not None:
            raise _invalid("token revoked", parsed.id)
        if record.expires_at is not None and record.expires_at <= to_text(now):
            raise _invalid("token expired", parsed.id)

        self._touch(record, now)
        return Principal(record.id, record.name, _scopes(record.scopes))

    def _lookup(self, token_id: str) -> TokenRecord | None:
        with self._lock:
            self._runtime.ready()
            with self._runtime.database.read() as tx:
                return token_rows.find_token(tx, token_id)

    def _touch(self, record: TokenRecord, now: datetime) -> None:
        """Record a use, unless this token's use was recorded < 1 min ago.

        The memo holds attempts, not only successes: a store that cannot
        take the write (read-only replica, long lock) is not asked again
        on every request.
        """
        memo = self._touched.get(record.id)
        if memo is not None and now - memo < TOUCH_EVERY:
            return  # the common case on a busy server: no parsing at all
        if record.last_used_at and now - from_text(record.last_used_at) < TOUCH_EVERY:
            self._touched[record.id] = from_text(record.last_used_at)
            return

        if len(self._touched) >= _MEMO_LIMIT:
            self._touched.clear()
        self._touched[record.id] = now
        try:
            with self._lock:
                self._runtime.database.write(
                    lambda tx: token_rows.touch_token(tx, record.id, to_text(now))
                )
        except StoreError as exc:
            log.warning("could not record a use of token %s: %s", record.id, exc)


def _check_rotatable(tx: Tx, old: TokenRecord, now: datetime) -> None:
    if old.revoked_at is not None:
        raise ConflictError(
            f"token {old.id} is revoked; create a new token instead",
            token_id=old.id,
        )
    successor = token_rows.successor_of(tx, old.id)
    if successor is not None:
        raise ConflictError(
            f"token {old.id} was already rotated into {successor}; rotate "
            f"{successor} instead",
            token_id=old.id,
        )
    if old.expires_at is not None and old.expires_at <= to_text(now):
        raise ConflictError(
            f"token {old.id} expired at {old.expires_at}; create a new token instead",
            token_id=old.id,
        )


def _find(tx: Tx, token_id: str, lock: bool = False) -> TokenRecord:
    record = token_rows.find_token(tx, token_id, lock=lock)
    if record is None:
        raise NotFoundError(f"no API token with id {token_id}", token_id=token_id)
    return record


def _invalid(reason: str, token_id: str) -> AuthenticationError:
    return AuthenticationError("invalid token", reason=reason, token_id=token_id)


@lru_cache(maxsize=1024)
def _scopes(stored: str) -> tuple[Scope, ...]:
    """Parse a row's scopes once per distinct value, not once per request."""
    return tuple(parse_scope(text) for text in json.loads(stored))

"""Rows of `api_tokens`: who may call the API, never the token itself.

A row keeps the SHA-256 of a token's secret part (hex), so a copy of
the database cannot be replayed as a credential. Lookups are by primary
key (the token id), the one statement that runs on every HTTP request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from platxa_secrets.core.store.db import Tx

_FIELDS = (
    "id",
    "name",
    "secret_sha256",
    "scopes",
    "created_at",
    "created_by",
    "expires_at",
    "revoked_at",
    "revoked_by",
    "last_used_at",
    "rotated_from",
)
_COLUMNS = ", ".join(_FIELDS)


@dataclass(frozen=True)
class TokenRecord:
    """One row of `api_tokens`; `scopes` is the stored JSON text.

    The digest stays out of the repr: it is not the token, but nothing
    derived from a credential belongs in a log line.
    """

    id: str
    name: str
    secret_sha256: str = field(repr=False)
    scopes: str
    created_at: str
    created_by: str
    expires_at: str | None = None
    revoked_at: str | None = None
    revoked_by: str | None = None
    last_used_at: str | None = None
    rotated_from: str | None = None


def insert_token(tx: Tx, record: TokenRecord) -> None:
    placeholders = ", ".join("?" for _ in _FIELDS)
    tx.execute(
        f"INSERT INTO api_tokens ({_COLUMNS}) VALUES ({placeholders})",
        [getattr(record, name) for name in _FIELDS],
    )


def find_token(tx: Tx, token_id: str, lock: bool = False) -> TokenRecord | None:
    """The row of `token_id` (a primary-key lookup), or None.

    With `lock`, PostgreSQL holds the row until the transaction ends, so
    two rotations or a rotation and a revocation cannot interleave
    (SQLite's `BEGIN IMMEDIATE` already serialises writers).
    """
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = tx.one(f"SELECT {_COLUMNS} FROM api_tokens WHERE id = ?{suffix}", (token_id,))
    return TokenRecord(*row) if row else None


def list_tokens(tx: Tx, include_revoked: bool) -> list[TokenRecord]:
    """Every token, oldest first; revoked ones only when asked."""
    where = "" if include_revoked else "WHERE revoked_at IS NULL "
    rows = tx.all(f"SELECT {_COLUMNS} FROM api_tokens {where}ORDER BY created_at, id")
    return [TokenRecord(*row) for row in rows]


def successor_of(tx: Tx, token_id: str) -> str | None:
    """The id of the live token that `token_id` was rotated into, if any.

    A revoked successor does not count: the old token may then be
    rotated again, instead of ending in a token nobody can replace.
    """
    found = tx.scalar(
        "SELECT id FROM api_tokens WHERE rotated_from = ? AND revoked_at IS NULL "
        "ORDER BY created_at, id",
        (token_id,),
    )
    return None if found is None else str(found)


def revoke_token(tx: Tx, token_id: str, at: str, by: str) -> bool:
    """Mark a token revoked; False when it was revoked already."""
    changed = tx.execute(
        "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? "
        "WHERE id = ? AND revoked_at IS NULL",
        (at, by, token_id),
    )
    return changed == 1


def set_expiry(tx: Tx, token_id: str, expires_at: str) -> None:
    tx.execute(
        "UPDATE api_tokens SET expires_at = ? WHERE id = ?", (expires_at, token_id)
    )


def touch_token(tx: Tx, token_id: str, at: str) -> None:
    """Record a use; never moves `last_used_at` backwards."""
    tx.execute(
        "UPDATE api_tokens SET last_used_at = ? "
        "WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        (at, token_id, at),
    )

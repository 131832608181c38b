"""Rows of `jwt_keys`: public JWKs and their schedule, never a private key.

The private key of each row lives in the secrets store; a row holds what
every replica needs to agree on who signs and what is published:
`signs_from`, and once a newer key signs, `retired_at` and
`unpublish_at`. Changes are compare-and-set, so two replicas running the
same maintenance change a row once.
"""

from __future__ import annotations

from typing import NamedTuple

from platxa_secrets.core.store.db import Tx


class JwtKeyRow(NamedTuple):
    kid: str
    alg: str
    public_jwk: str  # JSON text
    created_at: str
    created_by: str
    signs_from: str
    retired_at: str | None = None
    unpublish_at: str | None = None
    destroyed_at: str | None = None


_COLUMNS = ", ".join(JwtKeyRow._fields)


def load_keys(tx: Tx) -> list[JwtKeyRow]:
    """Every JWT key, in the order they sign."""
    rows = tx.all(f"SELECT {_COLUMNS} FROM jwt_keys ORDER BY signs_from, kid")
    return [JwtKeyRow(*row) for row in rows]


def lock_keys(tx: Tx) -> None:
    """Serialise rotations: one new key at a time across replicas.

    SQLite's `BEGIN IMMEDIATE` already holds the database's write lock;
    PostgreSQL needs a table lock, since a row lock cannot stop an insert.
    """
    if tx.dialect == "postgresql":
        tx.execute("LOCK TABLE jwt_keys IN SHARE ROW EXCLUSIVE MODE")


def insert_key(tx: Tx, row: JwtKeyRow) -> None:
    placeholders = ", ".join("?" for _ in JwtKeyRow._fields)
    tx.execute(f"INSERT INTO jwt_keys ({_COLUMNS}) VALUES ({placeholders})", row)


def set_retired(tx: Tx, kid: str, retired_at: str, unpublish_at: str) -> bool:
    """Record when `kid` stopped signing; False if it was already recorded."""
    changed = tx.execute(
        "UPDATE jwt_keys SET retired_at = ?, unpublish_at = ? "
        "WHERE kid = ? AND retired_at IS NULL AND destroyed_at IS NULL",
        (retired_at, unpublish_at, kid),
    )
    return changed == 1


def set_destroyed(tx: Tx, kid: str, at: str) -> bool:
    """Record that `kid`'s private key is gone; False if it already was."""
    changed = tx.execute(
        "UPDATE jwt_keys SET destroyed_at = ? WHERE kid = ? AND destroyed_at IS NULL",
        (at, kid),
    )
    return changed == 1

"""Rows of `secrets`, `secret_versions` and `secret_values`.

A secret row holds the identity and the newest version number; every
write adds a version row and one value row per data key. Soft delete and
destroy mark a version; destroy also clears its ciphertexts. Locking:
`SELECT … FOR UPDATE` on PostgreSQL, the database-wide write lock taken
by `BEGIN IMMEDIATE` on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from platxa_secrets.core.store.db import Tx


class SecretRow(NamedTuple):
    id: int
    namespace: str
    name: str
    current_version: int
    created_at: str
    updated_at: str


class VersionRow(NamedTuple):
    version: int
    type: str
    created_at: str
    created_by: str
    deleted_at: str | None
    deleted_by: str | None
    destroyed_at: str | None

    @property
    def state(self) -> str:
        if self.destroyed_at:
            return "destroyed"
        return "deleted" if self.deleted_at else "live"


class ValueRow(NamedTuple):
    key: str
    kid: str | None
    ciphertext: str | None

    def __repr__(self) -> str:
        return f"ValueRow(key={self.key!r}, kid={self.kid!r})"


_SECRET_COLUMNS = "id, namespace, name, current_version, created_at, updated_at"
_VERSION = "version, type, created_at, created_by, deleted_at, deleted_by, destroyed_at"


def find_secret(
    tx: Tx, namespace: str, name: str, lock: bool = False
) -> SecretRow | None:
    suffix = " FOR UPDATE" if lock and tx.dialect == "postgresql" else ""
    row = tx.one(
        f"SELECT {_SECRET_COLUMNS} FROM secrets "
        f"WHERE namespace = ? AND name = ?{suffix}",
        (namespace, name),
    )
    return SecretRow(*row) if row else None


def create_secret(tx: Tx, namespace: str, name: str, now: str) -> SecretRow:
    tx.execute(
        "INSERT INTO secrets (namespace, name, current_version, created_at, "
        "updated_at) VALUES (?, ?, 0, ?, ?)",
        (namespace, name, now, now),
    )
    created = find_secret(tx, namespace, name)
    assert created is not None
    return created


def add_version(
    tx: Tx,
    secret: SecretRow,
    version: int,
    secret_type: str,
    values: Sequence[ValueRow],
    now: str,
    actor: str,
) -> None:
    """Insert a version with its values and make it the current one."""
    tx.execute(
        f"INSERT INTO secret_versions (secret_id, {_VERSION}) "
        "VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL)",
        (secret.id, version, secret_type, now, actor),
    )
    tx.many(
        "INSERT INTO secret_values (secret_id, version, key, kid, ciphertext) "
        "VALUES (?, ?, ?, ?, ?)",
        [(secret.id, version, v.key, v.kid, v.ciphertext) for v in values],
    )
    tx.execute(
        "UPDATE secrets SET current_version = ?, updated_at = ? WHERE id = ?",
        (version, now, secret.id),
    )


def get_version(tx: Tx, secret_id: int, version: int) -> VersionRow | None:
    row = tx.one(
        f"SELECT {_VERSION} FROM secret_versions WHERE secret_id = ? AND version = ?",
        (secret_id, version),
    )
    return VersionRow(*row) if row else None


def list_versions(tx: Tx, secret_id: int) -> list[VersionRow]:
    rows = tx.all(
        f"SELECT {_VERSION} FROM secret_versions WHERE secret_id = ? ORDER BY version",
        (secret_id,),
    )
    return [VersionRow(*row) for row in rows]


def get_values(tx: Tx, secret_id: int, version: int) -> list[ValueRow]:
    rows = tx.all(
        "SELECT key, kid, ciphertext FROM secret_values "
        "WHERE secret_id = ? AND version = ? ORDER BY key",
        (secret_id, version),
    )
    return [ValueRow(*row) for row in rows]


def key_names_by_version(tx: Tx, secret_id: int) -> dict[int, list[tuple[str, str]]]:
    """Key names and key ids of every version, without any ciphertext."""
    rows = tx.all(
        "SELECT version, key, kid FROM secret_values WHERE secret_id = ? "
        "ORDER BY version, key",
        (secret_id,),
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for version, key, kid in rows:
        out.setdefault(int(version), []).append((key, kid or ""))
    return out


def list_secrets(tx: Tx, namespace: str | None) -> list[tuple[SecretRow, VersionRow]]:
    """Every secret (of one namespace) with its current version row."""
    where, params = ("WHERE s.namespace = ?", [namespace]) if namespace else ("", [])
    rows = tx.all(
        f"SELECT s.id, s.namespace, s.name, s.current_version, s.created_at, "
        f"s.updated_at, v.version, v.type, v.created_at, v.created_by, "
        f"v.deleted_at, v.deleted_by, v.destroyed_at "
        f"FROM secrets s JOIN secret_versions v "
        f"ON v.secret_id = s.id AND v.version = s.current_version {where} "
        f"ORDER BY s.namespace, s.name",
        params,
    )
    return [(SecretRow(*row[:6]), VersionRow(*row[6:])) for row in rows]


def current_keys(tx: Tx, namespace: str | None) -> dict[int, list[tuple[str, str]]]:
    """Key names and key ids of the current version of each secret."""
    where, params = ("WHERE s.namespace = ?", [namespace]) if namespace else ("", [])
    rows = tx.all(
        f"SELECT s.id, v.key, v.kid FROM secrets s JOIN secret_values v "
        f"ON v.secret_id = s.id AND v.version = s.current_version {where} "
        f"ORDER BY v.key",
        params,
    )
    out: dict[int, list[tuple[str, str]]] = {}
    for secret_id, key, kid in rows:
        out.setdefault(int(secret_id), []).append((key, kid or ""))
    return out


def set_deleted(
    tx: Tx, secret_id: int, versions: Sequence[int], at: str | None, actor: str | None
) -> None:
    """Mark versions deleted (`at` set) or live again (`at` None)."""
    tx.many(
        "UPDATE secret_versions SET deleted_at = ?, deleted_by = ? "
        "WHERE secret_id = ? AND version = ?",
        [(at, actor, secret_id, v) for v in versions],
    )


def destroy(tx: Tx, secret_id: int, versions: Sequence[int], at: str) -> None:
    """Clear the ciphertexts of versions; key names stay for the history."""
    tx.many(
        "UPDATE secret_versions SET destroyed_at = ? WHERE secret_id = ? AND "
        "version = ?",
        [(at, secret_id, v) for v in versions],
    )
    tx.many(
        "UPDATE secret_values SET ciphertext = NULL, kid = NULL "
        "WHERE secret_id = ? AND version = ?",
        [(secret_id, v) for v in versions],
    )


def prune(tx: Tx, secret_id: int, keep_from: int) -> int:
    """Remove versions older than `keep_from`; returns how many went."""
    tx.execute(
        "DELETE FROM secret_values WHERE secret_id = ? AND version < ?",
        (secret_id, keep_from),
    )
    return tx.execute(
        "DELETE FROM secret_versions WHERE secret_id = ? AND version < ?",
        (secret_id, keep_from),
    )

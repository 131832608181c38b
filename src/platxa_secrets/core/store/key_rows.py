"""Rows of `data_keys`: wrapped data keys and their lifecycle timestamps."""

from __future__ import annotations

from platxa_secrets.core.crypto.keyring import KeyRecord
from platxa_secrets.core.store.db import Tx

_COLUMNS = (
    "kid, state, origin, master_kid, wrapped_key, created_at, created_by, "
    "activates_at, activated_at, retired_at, destroyed_at"
)


def load_keys(tx: Tx) -> list[KeyRecord]:
    """Every data key, oldest first."""
    rows = tx.all(f"SELECT {_COLUMNS} FROM data_keys ORDER BY created_at, kid")
    return [KeyRecord(*row) for row in rows]


def insert_key(tx: Tx, record: KeyRecord) -> None:
    tx.execute(
        f"INSERT INTO data_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.kid,
            record.state,
            record.origin,
            record.master_kid,
            record.wrapped_key,
            record.created_at,
            record.created_by,
            record.activates_at,
            record.activated_at,
            record.retired_at,
            record.destroyed_at,
        ),
    )


def census(tx: Tx) -> dict[str | None, int]:
    """Ciphertexts per key id; `None` counts legacy bare tokens."""
    rows = tx.all(
        "SELECT kid, COUNT(*) FROM secret_values WHERE ciphertext IS NOT NULL "
        "GROUP BY kid"
    )
    return {kid: int(count) for kid, count in rows}

"""Rows of `data_keys`: wrapped data keys and their lifecycle facts."""

from __future__ import annotations

from platxa_secrets.core.crypto.keyring import KeyRecord
from platxa_secrets.core.store.db import Tx

_FIELDS = (
    "kid",
    "state",
    "origin",
    "master_kid",
    "wrapped_key",
    "created_at",
    "created_by",
    "activates_at",
    "activated_at",
    "retired_at",
    "destroyed_at",
    "activated_by",
    "retired_by",
    "destroyed_by",
)
_COLUMNS = ", ".join(_FIELDS)
_CHANGEABLE = frozenset(_FIELDS) - {"kid", "origin", "created_at", "created_by"}


def load_keys(tx: Tx) -> list[KeyRecord]:
    """Every data key, oldest first."""
    rows = tx.all(f"SELECT {_COLUMNS} FROM data_keys ORDER BY created_at, kid")
    return [KeyRecord(*row) for row in rows]


def insert_key(tx: Tx, record: KeyRecord) -> None:
    placeholders = ", ".join("?" for _ in _FIELDS)
    tx.execute(
        f"INSERT INTO data_keys ({_COLUMNS}) VALUES ({placeholders})",
        [getattr(record, name) for name in _FIELDS],
    )


def update_key(tx: Tx, kid: str, expected_state: str, **changes: str | None) -> bool:
    """Change a key only if it is still in `expected_state`.

    Returns False when another process moved it first, so a transition
    is never applied twice.
    """
    unknown = set(changes) - _CHANGEABLE
    assert not unknown, f"not changeable: {unknown}"
    assignments = ", ".join(f"{name} = ?" for name in changes)
    return (
        tx.execute(
            f"UPDATE data_keys SET {assignments} WHERE kid = ? AND state = ?",
            [*changes.values(), kid, expected_state],
        )
        == 1
    )


def active_state(tx: Tx, kid: str) -> str | None:
    """The state of `kid`, share-locked on PostgreSQL for this transaction.

    A writer holds the lock until it commits, so retiring or destroying
    that key (an UPDATE of the row) waits for the write, and the
    destroy's "no ciphertext uses it" check then sees the new value.
    """
    lock = " FOR SHARE" if tx.dialect == "postgresql" else ""
    state = tx.scalar(f"SELECT state FROM data_keys WHERE kid = ?{lock}", (kid,))
    return None if state is None else str(state)


def census(tx: Tx) -> dict[str | None, int]:
    """Ciphertexts per key id; `None` counts legacy bare tokens."""
    rows = tx.all(
        "SELECT kid, COUNT(*) FROM secret_values WHERE ciphertext IS NOT NULL "
        "GROUP BY kid"
    )
    return {kid: int(count) for kid, count in rows}


def uses_of(tx: Tx, kid: str) -> int:
    """How many ciphertexts a key encrypted (an index lookup)."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM secret_values WHERE kid = ? AND "
            "ciphertext IS NOT NULL",
            (kid,),
        )
    )

"""Bulk access to `secret_values` for re-encryption.

Rows are visited in primary-key order with a keyset cursor, so a run
never revisits a row and never loops on one that failed. On PostgreSQL
the batch is locked with `FOR UPDATE SKIP LOCKED`, so several replicas
share the work without doing any row twice. A rewritten ciphertext is
stored only if the row still holds the ciphertext that was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from platxa_secrets.core.store.db import Tx

Cursor = tuple[int, int, str]


# Not under the active key, and not under a destroyed (crypto-shredded) key:
# those can never be decrypted again, so they are not work and not failures.
def _movable(column: str) -> str:
    return (
        f"({column} IS NULL OR ({column} <> ? AND {column} NOT IN "
        "(SELECT kid FROM data_keys WHERE state = 'destroyed')))"
    )


START: Cursor = (-1, -1, "")
Bounds = tuple[int, int]  # secret ids, lower inclusive, upper exclusive
_FAR = 2**62
EVERYTHING: Bounds = (-_FAR, _FAR)


class StaleValue(NamedTuple):
    """A ciphertext not under the active key, with the identity it is bound to."""

    secret_id: int
    version: int
    key: str
    kid: str | None
    ciphertext: str
    namespace: str
    name: str

    def __repr__(self) -> str:
        return (
            f"StaleValue({self.namespace}/{self.name} v{self.version} "
            f"{self.key}, kid={self.kid!r})"
        )

    @property
    def cursor(self) -> Cursor:
        return (self.secret_id, self.version, self.key)


def stale_batch(
    tx: Tx,
    active_kid: str,
    after: Cursor,
    limit: int,
    bounds: Bounds = EVERYTHING,
    lock: bool = False,
) -> list[StaleValue]:
    """The next `limit` ciphertexts after `after` not under `active_kid`.

    Only secrets with `bounds[0] <= secret_id < bounds[1]`: a range, not
    `secret_id % n = i`, so the planner sees a primary-key range and
    walks the index whatever its statistics or a generic plan say.
    """
    lock_clause = " FOR UPDATE OF v SKIP LOCKED" if lock else ""
    rows = tx.all(
        "SELECT v.secret_id, v.version, v.key, v.kid, v.ciphertext, s.namespace, "
        "s.name FROM secret_values v JOIN secrets s ON s.id = v.secret_id "
        f"WHERE v.ciphertext IS NOT NULL AND {_movable('v.kid')} "
        "AND (v.secret_id, v.version, v.key) > (?, ?, ?) "
        "AND v.secret_id >= ? AND v.secret_id < ? "
        f"ORDER BY v.secret_id, v.version, v.key LIMIT ?{lock_clause}",
        (active_kid, *after, *bounds, limit),
    )
    return [StaleValue(*row) for row in rows]


def count_stale(tx: Tx, active_kid: str) -> int:
    """Ciphertexts re-encryption would move (not those of destroyed keys)."""
    return int(
        tx.scalar(
            f"SELECT COUNT(*) FROM secret_values WHERE ciphertext IS NOT NULL "
            f"AND {_movable('kid')}",
            (active_kid,),
        )
    )


def count_shredded(tx: Tx) -> int:
    """Ciphertexts left under destroyed keys: unreadable by design."""
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM secret_values WHERE ciphertext IS NOT NULL AND "
            "kid IN (SELECT kid FROM data_keys WHERE state = 'destroyed')"
        )
    )


def count_under(tx: Tx, kid: str) -> int:
    return int(
        tx.scalar(
            "SELECT COUNT(*) FROM secret_values WHERE ciphertext IS NOT NULL "
            "AND kid = ?",
            (kid,),
        )
    )


def partitions(tx: Tx, count: int) -> list[Bounds]:
    """`count` contiguous secret-id ranges covering every id, open-ended."""
    row = tx.one("SELECT MIN(secret_id), MAX(secret_id) FROM secret_values")
    if row is None or row[0] is None or count == 1:
        return [EVERYTHING] * count
    low, high = int(row[0]), int(row[1])
    cuts = [low + (high - low + 1) * i // count for i in range(1, count)]
    return list(zip([-_FAR, *cuts], [*cuts, _FAR], strict=True))


def write_back(tx: Tx, rewrites: Sequence[tuple[StaleValue, str, str]]) -> int:
    """Store new ciphertexts where the row is unchanged; return how many.

    One `executemany` per batch: on PostgreSQL a single round trip
    instead of one per row.
    """
    return tx.many(
        "UPDATE secret_values SET kid = ?, ciphertext = ? WHERE secret_id = ? "
        "AND version = ? AND key = ? AND ciphertext = ?",
        [
            (kid, ciphertext, v.secret_id, v.version, v.key, v.ciphertext)
            for v, kid, ciphertext in rewrites
        ],
    )

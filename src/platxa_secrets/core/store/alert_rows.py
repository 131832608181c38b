"""Rows of `webhook_alerts`: the last state of each alert a receiver saw.

One row per (receiver, fingerprint) holds the status and start time of
the newest notification recorded for that alert. A notification that
repeats both is a duplicate (Alertmanager resends firing alerts on its
repeat interval and retries failed deliveries), so the row is the
memory that makes receiving idempotent. Times are stored in the sortable
UTC text form of `platxa_secrets.clock`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from platxa_secrets.core.store.db import Tx

_CHUNK = 500

# Both SQLite (3.24+) and PostgreSQL accept this upsert. The WHERE on
# the update makes a repeat touch nothing, so the statement reports 0
# rows for it. On PostgreSQL a concurrent insert of the same key waits
# for the other transaction and then sees its row, so two replicas
# receiving one notification record it once.
_RECORD = (
    "INSERT INTO webhook_alerts "
    "(receiver, fingerprint, status, starts_at, ends_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (receiver, fingerprint) DO UPDATE SET "
    "status = excluded.status, starts_at = excluded.starts_at, "
    "ends_at = excluded.ends_at, updated_at = excluded.updated_at "
    "WHERE webhook_alerts.status <> excluded.status "
    "OR webhook_alerts.starts_at <> excluded.starts_at"
)


@dataclass(frozen=True)
class AlertRow:
    """One alert as a receiver last recorded it."""

    receiver: str
    fingerprint: str
    status: str
    starts_at: str
    ends_at: str | None
    updated_at: str


def record(tx: Tx, row: AlertRow) -> bool:
    """Store `row` unless its status and start time are already stored.

    Returns True when the row was inserted or changed, False for a
    repeat of what the receiver already recorded.
    """
    changed = tx.execute(
        _RECORD,
        (
            row.receiver,
            row.fingerprint,
            row.status,
            row.starts_at,
            row.ends_at,
            row.updated_at,
        ),
    )
    return changed == 1


def states(
    tx: Tx, receiver: str, fingerprints: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """(status, starts_at) of each of `fingerprints` the receiver has seen."""
    wanted = sorted(set(fingerprints))
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = tx.all(
            "SELECT fingerprint, status, starts_at FROM webhook_alerts "
            f"WHERE receiver = ? AND fingerprint IN ({marks})",
            [receiver, *chunk],
        )
        found.update({str(f): (str(s), str(at)) for f, s, at in rows})
    return found


def find(tx: Tx, receiver: str, fingerprint: str) -> AlertRow | None:
    """The stored row of one alert, if the receiver has seen it."""
    row = tx.one(
        "SELECT status, starts_at, ends_at, updated_at FROM webhook_alerts "
        "WHERE receiver = ? AND fingerprint = ?",
        (receiver, fingerprint),
    )
    if row is None:
        return None
    status, starts_at, ends_at, updated_at = row
    return AlertRow(
        receiver, fingerprint, str(status), str(starts_at), ends_at, str(updated_at)
    )

"""Rows that hold the audit chain together: head, chain key, checkpoints.

`audit_chain_head` is one row that every append locks, so appends from
concurrent replicas queue instead of forking the chain; until the chain
starts it also carries the legacy marker of migration 0004. `audit_keys`
holds the chain key wrapped by a master key. `audit_checkpoints` records
each archive: where the archived part of the chain ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from platxa_secrets.core.store.db import Row, Tx

_CHECKPOINT_COLUMNS = (
    "first_seq, seq, prev_mac, mac, event_count, file_sha256, archived_before, "
    "created_at, created_by, checkpoint_mac"
)


class ChainHead(NamedTuple):
    """The last link of the chain: its seq, its mac, and an HMAC of both."""

    seq: int
    mac: str
    head_mac: str | None


class LegacyMarker(NamedTuple):
    """What migration 0004 found from before the chain: events up to an id."""

    events: int
    last_id: int


@dataclass(frozen=True)
class WrappedChainKey:
    """The chain key as stored: ciphertext under master key `master_kid`."""

    id: int
    master_kid: str
    wrapped_key: str = ""

    def __repr__(self) -> str:
        return f"WrappedChainKey(id={self.id}, master_kid={self.master_kid!r})"


class Checkpoint(NamedTuple):
    """Where an archive ended: events first_seq..seq left the store."""

    first_seq: int
    seq: int
    prev_mac: str
    mac: str
    event_count: int
    file_sha256: str
    archived_before: str
    created_at: str
    created_by: str
    checkpoint_mac: str
    id: int | None = None


def lock_head(tx: Tx) -> ChainHead | None:
    """Read the head and hold it until the transaction ends.

    PostgreSQL: a row lock (`FOR UPDATE`) that a concurrent append waits
    for. SQLite: write transactions already hold the database lock from
    `BEGIN IMMEDIATE`, so a plain read is enough.
    """
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    return _head(tx.one(f"SELECT seq, mac, head_mac FROM audit_chain_head{lock}"))


def read_head(tx: Tx) -> ChainHead | None:
    return _head(tx.one("SELECT seq, mac, head_mac FROM audit_chain_head"))


def move_head(tx: Tx, seq: int, mac: str, head_mac: str) -> None:
    tx.execute(
        "UPDATE audit_chain_head SET seq = ?, mac = ?, head_mac = ? WHERE id = 1",
        [seq, mac, head_mac],
    )


def legacy_marker(tx: Tx) -> LegacyMarker | None:
    """The marker migration 0004 left on a store from before the chain."""
    row = tx.one("SELECT legacy_events, legacy_last_id FROM audit_chain_head")
    if row is None or row[0] is None:
        return None
    return LegacyMarker(int(row[0]), int(row[1] or 0))


def clear_legacy_marker(tx: Tx) -> None:
    tx.execute(
        "UPDATE audit_chain_head SET legacy_events = NULL, legacy_last_id = NULL "
        "WHERE id = 1"
    )


def count_checkpoints(tx: Tx) -> int:
    return int(tx.scalar("SELECT COUNT(*) FROM audit_checkpoints"))


def count_data_keys(tx: Tx) -> int:
    """Data keys of any state: each was made by an audited write."""
    return int(tx.scalar("SELECT COUNT(*) FROM data_keys"))


def snapshot(tx: Tx) -> None:
    """Make the rest of a read transaction see one snapshot.

    PostgreSQL's default isolation gives each statement its own view; a
    chain walk that pages must see the head and every page as of one
    moment. Must be the first statement of the transaction. SQLite read
    transactions are snapshots already.
    """
    if tx.dialect == "postgresql":
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def chain_key(tx: Tx) -> WrappedChainKey | None:
    row = tx.one("SELECT id, master_kid, wrapped_key FROM audit_keys WHERE id = 1")
    return WrappedChainKey(int(row[0]), str(row[1]), str(row[2])) if row else None


def insert_chain_key(tx: Tx, master_kid: str, wrapped_key: str, at: str) -> None:
    """Store the chain key; a second creator fails on the primary key."""
    tx.execute(
        "INSERT INTO audit_keys (id, master_kid, wrapped_key, created_at) "
        "VALUES (1, ?, ?, ?)",
        [master_kid, wrapped_key, at],
    )


def rewrap_chain_key(tx: Tx, id_: int, master_kid: str, wrapped_key: str) -> None:
    tx.execute(
        "UPDATE audit_keys SET master_kid = ?, wrapped_key = ? WHERE id = ?",
        [master_kid, wrapped_key, id_],
    )


def insert_checkpoint(tx: Tx, checkpoint: Checkpoint) -> None:
    tx.execute(
        f"INSERT INTO audit_checkpoints ({_CHECKPOINT_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            checkpoint.first_seq,
            checkpoint.seq,
            checkpoint.prev_mac,
            checkpoint.mac,
            checkpoint.event_count,
            checkpoint.file_sha256,
            checkpoint.archived_before,
            checkpoint.created_at,
            checkpoint.created_by,
            checkpoint.checkpoint_mac,
        ],
    )


def checkpoints(tx: Tx) -> list[Checkpoint]:
    """Every checkpoint, oldest first (one per archive run: few rows)."""
    rows = tx.all(
        f"SELECT {_CHECKPOINT_COLUMNS}, id FROM audit_checkpoints ORDER BY seq, id"
    )
    return [_checkpoint(row) for row in rows]


def _head(row: Row | None) -> ChainHead | None:
    if row is None:
        return None
    return ChainHead(int(row[0]), str(row[1]), row[2])


def _checkpoint(row: Row) -> Checkpoint:
    return Checkpoint(
        first_seq=int(row[0]),
        seq=int(row[1]),
        prev_mac=str(row[2]),
        mac=str(row[3]),
        event_count=int(row[4]),
        file_sha256=str(row[5]),
        archived_before=str(row[6]),
        created_at=str(row[7]),
        created_by=str(row[8]),
        checkpoint_mac=str(row[9]),
        id=int(row[10]),
    )

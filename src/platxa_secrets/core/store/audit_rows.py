"""Rows of `audit_events`: who did what to which secret, never a value.

Each event has a place in the chain (`seq`) and an HMAC (`mac`) computed
by `services/audit_chain.py`; this module only stores and reads them.
Chain walks page through `seq` order so memory stays bounded however
long the trail is.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from platxa_secrets.core.store.db import Row, Tx

_COLUMNS = (
    "at, actor, action, namespace, name, version, key_names, kid, outcome, "
    "request_id, detail"
)
_SELECT = f"SELECT id, {_COLUMNS}, seq, mac FROM audit_events"


@dataclass(frozen=True)
class AuditEvent:
    """One audited operation. Holds names and ids only, by construction."""

    at: str
    actor: str
    action: str
    outcome: str
    request_id: str
    namespace: str | None = None
    name: str | None = None
    version: int | None = None
    key_names: tuple[str, ...] = ()
    kid: str | None = None
    detail: str | None = None
    id: int | None = None
    seq: int | None = None
    mac: str | None = None


class EventFilter(NamedTuple):
    """Which events a listing wants; every field optional.

    `since` and `until` are stored-form timestamps (`clock.to_text`),
    which sort as text; `action_prefix` matches the start of the action.
    """

    namespace: str | None = None
    actor: str | None = None
    action: str | None = None
    action_prefix: str | None = None
    since: str | None = None
    until: str | None = None


class EventTally(NamedTuple):
    """How many events there are, how many chained, the newest unchained id."""

    events: int
    chained: int
    last_unchained_id: int | None

    @property
    def unchained(self) -> int:
        return self.events - self.chained


def insert(tx: Tx, event: AuditEvent, seq: int, mac: str) -> None:
    """Store `event` at chain position `seq` with its HMAC."""
    tx.execute(
        f"INSERT INTO audit_events ({_COLUMNS}, seq, mac) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.at,
            event.actor,
            event.action,
            event.namespace,
            event.name,
            event.version,
            json.dumps(sorted(event.key_names)) if event.key_names else None,
            event.kid,
            event.outcome,
            event.request_id,
            event.detail,
            seq,
            mac,
        ),
    )


def recent(tx: Tx, where: EventFilter, limit: int) -> list[AuditEvent]:
    """The newest events first (by place in the chain), narrowed by `where`."""
    clauses, params = _conditions(where)
    sql = f"{_SELECT} {_where(clauses)} ORDER BY seq DESC, id DESC LIMIT ?"
    return [_event(row) for row in tx.all(sql, [*params, limit])]


def chained_page(
    tx: Tx,
    after: tuple[int, int],
    limit: int,
    where: EventFilter | None = None,
) -> list[AuditEvent]:
    """Up to `limit` chained events after (`seq`, `id`), in chain order.

    Paging by (seq, id) rather than seq alone means a repeated seq is
    still seen by a walk, even on a store whose unique index was dropped.
    """
    clauses, params = _conditions(where or EventFilter())
    clauses = ["seq >= ?", "(seq > ? OR id > ?)", *clauses]
    sql = f"{_SELECT} {_where(clauses)} ORDER BY seq, id LIMIT ?"
    seq, id_ = after
    return [_event(row) for row in tx.all(sql, [seq, seq, id_, *params, limit])]


def unchained_page(tx: Tx, after_id: int, limit: int) -> list[AuditEvent]:
    """Events without a chain position (written before 0004), by id."""
    sql = f"{_SELECT} WHERE seq IS NULL AND id > ? ORDER BY id LIMIT ?"
    return [_event(row) for row in tx.all(sql, [after_id, limit])]


def count_unchained(tx: Tx) -> int:
    return int(tx.scalar("SELECT COUNT(*) FROM audit_events WHERE seq IS NULL"))


def tally(tx: Tx) -> EventTally:
    """Count the trail; used only where the chain has no key to walk it."""
    row = tx.one("SELECT COUNT(*), COUNT(seq) FROM audit_events")
    assert row is not None
    last = tx.scalar("SELECT MAX(id) FROM audit_events WHERE seq IS NULL")
    return EventTally(int(row[0]), int(row[1]), None if last is None else int(last))


def seal(tx: Tx, placed: Sequence[tuple[int, int, str]]) -> None:
    """Give events (id, seq, mac) their chain position and HMAC."""
    tx.many(
        "UPDATE audit_events SET seq = ?, mac = ? WHERE id = ? AND seq IS NULL",
        [(seq, mac, id_) for id_, seq, mac in placed],
    )


def last_chained(tx: Tx) -> AuditEvent | None:
    """The event with the highest seq, if any."""
    row = tx.one(f"{_SELECT} WHERE seq IS NOT NULL ORDER BY seq DESC, id DESC LIMIT 1")
    return _event(row) if row else None


def first_at_or_below(tx: Tx, seq: int) -> AuditEvent | None:
    """The first chained event whose seq is `seq` or lower."""
    row = tx.one(f"{_SELECT} WHERE seq <= ? ORDER BY seq, id LIMIT 1", [seq])
    return _event(row) if row else None


def chained_between(tx: Tx, first: int, last: int) -> tuple[int, str | None]:
    """How many events lie in seq `first`..`last`, and the mac at `last`."""
    count = tx.scalar(
        "SELECT COUNT(*) FROM audit_events WHERE seq >= ? AND seq <= ?",
        [first, last],
    )
    mac = tx.scalar("SELECT mac FROM audit_events WHERE seq = ?", [last])
    return int(count or 0), mac


def delete_through(tx: Tx, last: int) -> int:
    """Remove every chained event up to and including seq `last`."""
    return tx.execute("DELETE FROM audit_events WHERE seq <= ?", [last])


def _conditions(where: EventFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("namespace", where.namespace),
        ("actor", where.actor),
        ("action", where.action),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)

    # substr, not LIKE: LIKE ignores case on SQLite and treats _ and %
    # as wildcards, and an action prefix should match exactly.
    if where.action_prefix is not None:
        clauses.append("substr(action, 1, ?) = ?")
        params += [len(where.action_prefix), where.action_prefix]

    if where.since is not None:
        clauses.append("at >= ?")
        params.append(where.since)
    if where.until is not None:
        clauses.append("at < ?")
        params.append(where.until)
    return clauses, params


def _where(clauses: list[str]) -> str:
    return f"WHERE {' AND '.join(clauses)}" if clauses else ""


def _event(row: Row) -> AuditEvent:
    (
        id_,
        at,
        actor,
        action,
        namespace,
        name,
        version,
        keys,
        kid,
        outcome,
        request_id,
        detail,
        seq,
        mac,
    ) = row
    return AuditEvent(
        id=int(id_),
        at=str(at),
        actor=str(actor),
        action=str(action),
        namespace=namespace,
        name=name,
        version=version,
        key_names=_key_names(keys),
        kid=kid,
        outcome=str(outcome),
        request_id=str(request_id),
        detail=detail,
        seq=None if seq is None else int(seq),
        mac=mac,
    )


@functools.lru_cache(maxsize=1024)
def _key_names(stored: str | None) -> tuple[str, ...]:
    """The key names column as a tuple; unreadable text is kept visible.

    A tampered column must not stop a chain walk: it comes back as one
    odd name, and the event's HMAC then fails to match. Cached: a trail
    repeats the same few sets of names, and a walk reads every row.
    """
    if not stored:
        return ()
    try:
        names = json.loads(stored)
    except ValueError:
        return (stored,)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return (stored,)
    return tuple(names)

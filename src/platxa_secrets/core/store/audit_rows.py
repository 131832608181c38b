"""Rows of `audit_events`: who did what to which secret, never a value."""

from __future__ import annotations

import json
from dataclasses import dataclass

from platxa_secrets.core.store.db import Row, Tx

_COLUMNS = (
    "at, actor, action, namespace, name, version, key_names, kid, outcome, "
    "request_id, detail"
)


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


def append(tx: Tx, event: AuditEvent) -> None:
    tx.execute(
        f"INSERT INTO audit_events ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ),
    )


def recent(tx: Tx, namespace: str | None, limit: int) -> list[AuditEvent]:
    """The newest events first, optionally for one namespace."""
    where, params = ("WHERE namespace = ?", [namespace]) if namespace else ("", [])
    rows = tx.all(
        f"SELECT id, {_COLUMNS} FROM audit_events {where} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    )
    return [_event(row) for row in rows]


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
    ) = row
    return AuditEvent(
        id=int(id_),
        at=str(at),
        actor=str(actor),
        action=str(action),
        namespace=namespace,
        name=name,
        version=version,
        key_names=tuple(json.loads(keys)) if keys else (),
        kid=kid,
        outcome=str(outcome),
        request_id=str(request_id),
        detail=detail,
    )

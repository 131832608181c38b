"""Shared steps of the audit chain tests: write events, tamper with rows.

Tampering goes straight to the database, as someone with only database
access would, never through the code under test.
"""

from __future__ import annotations

from typing import Any

from platxa_secrets.api import Platxa
from platxa_secrets.services.runtime import Runtime

FORGED_MAC = "0" * 64


def record_events(pxs: Platxa, count: int, namespace: str = "tenant-a") -> None:
    """`count` events, one transaction each, names `app-0`, `app-1`, …"""
    for i in range(count):
        pxs.audit.record("test.event", "ok", namespace, f"app-{i}", detail=f"n={i}")


def execute(runtime: Runtime, sql: str, params: tuple[Any, ...] = ()) -> int:
    """Run one statement in its own transaction (a tamperer's session)."""
    return runtime.database.write(lambda tx: tx.execute(sql, params))


def rows(
    runtime: Runtime, sql: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    with runtime.database.read() as tx:
        return tx.all(sql, params)


def move_seq(runtime: Runtime, old: int, new: int) -> None:
    """Give the event at `old` the place `new` (which must be free)."""
    execute(runtime, "UPDATE audit_events SET seq = ? WHERE seq = ?", (new, old))


def swap(runtime: Runtime, first: int, second: int) -> None:
    """Exchange the places of two events, one statement at a time."""
    move_seq(runtime, first, -first)
    move_seq(runtime, second, first)
    move_seq(runtime, -first, second)


def insert_event(
    runtime: Runtime, seq: int | None, mac: str | None = FORGED_MAC
) -> None:
    """A forged event, written as plausibly as the database allows."""
    execute(
        runtime,
        "INSERT INTO audit_events (at, actor, action, namespace, name, outcome, "
        "request_id, seq, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "2026-01-01T00:00:00.000000Z",
            "test:forger",
            "secret.read",
            "tenant-a",
            "app-0",
            "ok",
            "f" * 32,
            seq,
            mac,
        ),
    )


def mac_at(runtime: Runtime, seq: int) -> str:
    return str(
        rows(runtime, "SELECT mac FROM audit_events WHERE seq = ?", (seq,))[0][0]
    )

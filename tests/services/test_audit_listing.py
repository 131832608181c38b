"""Listing and exporting the trail: filters, JSON lines, refusals.

Runs on SQLite and PostgreSQL, with a clock the test moves so the time
filters have something to tell apart.
"""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config
from platxa_secrets.errors import ConflictError, ValidationError
from platxa_secrets.services import audit_export
from platxa_secrets.services.audit_verify import verify_store
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime

HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def busy(config: Config, clock: FrozenClock) -> Iterator[Platxa]:
    """Hour 0: ana writes tenant-a/app; hour 1: bob reads it and fails a write
    to tenant-b; hour 2: ana writes tenant-b/web. Now is hour 3."""
    ana = Runtime(config, clock=clock, actor="test:ana")
    initialise(ana)
    bob = Runtime(config, clock=clock, actor="test:bob")
    Platxa(ana).secrets.put("tenant-a", "app", {"K": b"v"})
    clock.advance(HOUR)
    Platxa(bob).secrets.get("tenant-a", "app")
    Platxa(bob).audit.record("secret.write", "denied", "tenant-b", "web")
    clock.advance(HOUR)
    Platxa(ana).secrets.put("tenant-b", "web", {"K": b"v"})
    clock.advance(HOUR)
    yield Platxa(ana)
    bob.close()
    ana.close()


def summary(pxs: Platxa, **filters: object) -> list[tuple[str, str, str | None]]:
    events = pxs.audit.list(**filters)  # type: ignore[arg-type]
    return [(e.actor, e.action, e.namespace) for e in events]


def test_list_filters_narrow_the_newest_first(busy: Platxa) -> None:
    assert summary(busy, namespace="tenant-b") == [
        ("test:ana", "secret.write", "tenant-b"),
        ("test:bob", "secret.write", "tenant-b"),
    ]
    assert summary(busy, actor="test:bob") == [
        ("test:bob", "secret.write", "tenant-b"),
        ("test:bob", "secret.read", "tenant-a"),
    ]
    assert [a for _, a, _ in summary(busy, action="secret.*")] == [
        "secret.write",
        "secret.write",
        "secret.read",
        "secret.write",
    ]
    assert summary(busy, action="secret.read") == [
        ("test:bob", "secret.read", "tenant-a")
    ]
    assert summary(busy, action="keys.*") == [("test:ana", "keys.create", None)]


def test_list_time_filters_take_relative_and_rfc3339(busy: Platxa) -> None:
    assert [a for _, a, _ in summary(busy, since="90m")] == ["secret.write"]
    assert len(summary(busy, since="2026-01-01T01:00:00+00:00", until="90m")) == 2
    assert len(summary(busy, until="2026-01-01T01:00:00Z")) == 2
    assert len(summary(busy, since="2026-01-01")) == 5
    assert len(summary(busy, since="2026-01-01T02:00:00+01:00")) == 3
    assert len(summary(busy, limit=2)) == 2


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"action": "secret*write"}, "--action 'secret\\*write' is not an action"),
        ({"action": "*.write"}, "--action"),
        ({"since": "yesterday"}, "--since 'yesterday' is not a time"),
        ({"until": "2026-01-01T00:00:00"}, "--until .* is not a time"),
        ({"since": "1h", "until": "2h"}, "--since must be earlier than --until"),
        ({"namespace": "Not_A_Label"}, "namespace"),
        ({"actor": " "}, "--actor must not be empty"),
        ({"limit": 0}, "limit must be between"),
    ],
)
def test_bad_filters_are_refused_with_the_option_named(
    busy: Platxa, filters: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        busy.audit.list(**filters)  # type: ignore[arg-type]


def test_export_writes_one_parsable_object_per_event(busy: Platxa) -> None:
    out = io.BytesIO()

    count = audit_export.export(busy.runtime, out)

    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records) == 5
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert all(len(r["mac"]) == 64 for r in records)
    assert records[1]["key_names"] == ["K"]
    assert {r["action"] for r in records} == {
        "keys.create",
        "secret.write",
        "secret.read",
    }


def test_export_since_takes_the_newer_events_only(busy: Platxa) -> None:
    out = io.BytesIO()

    audit_export.export(busy.runtime, out, since="2026-01-01T01:00:00Z", until="90m")

    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["actor"] for r in records] == ["test:bob", "test:bob"]


def test_export_to_a_file_is_private_and_never_overwrites(
    busy: Platxa, tmp_path: Path
) -> None:
    target = tmp_path / "siem.jsonl"

    assert audit_export.export_file(busy.runtime, target) == 5

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(target.read_bytes().splitlines()) == 5
    with pytest.raises(ConflictError, match="never overwritten"):
        audit_export.export_file(busy.runtime, target)
    assert verify_store(busy.runtime).ok

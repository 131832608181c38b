"""The chain starts once: no reset, re-seal or lost key launders a forgery.

An intruder with only the database tries to make a chain that has
started look like one that never did: events stripped of their place,
checkpoints dropped, the head reset, the chain key deleted, the mark of
migration 0004 written back. Nothing of that may give a forged event a
valid HMAC, and `verify` must say what it found. Stores from before the
chain are sealed once, exactly as migration 0004 found them. Runs on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.core.config import Config
from platxa_secrets.core.store.db import Database
from platxa_secrets.core.store.migrate import upgrade
from platxa_secrets.errors import StoreError
from platxa_secrets.services import audit_chain
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.audit_verify import (
    HEAD_INVALID,
    KEY_MISSING,
    TRUNCATED,
    UNCHAINED,
    UNSEALED,
    ChainProblem,
    verify_store,
)
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from tests.services.audit_helpers import execute, insert_event, record_events, rows

FORGED = "f" * 32  # the request id of `insert_event`


def reset_chain(
    runtime: Runtime, *, key: bool = False, marker: tuple[int, int] | None = None
) -> None:
    """Make the chain look unstarted, as far as the database allows."""
    execute(runtime, "UPDATE audit_events SET seq = NULL, mac = NULL")
    execute(runtime, "DELETE FROM audit_checkpoints")
    execute(runtime, "UPDATE audit_chain_head SET seq = 0, mac = '', head_mac = NULL")
    if key:
        execute(runtime, "DELETE FROM audit_keys")
    if marker is not None:
        execute(
            runtime,
            "UPDATE audit_chain_head SET legacy_events = ?, legacy_last_id = ?",
            marker,
        )
    audit_chain._keys.clear()  # what follows runs as a new process would


def problem(runtime: Runtime) -> ChainProblem:
    report = verify_store(runtime)
    assert report.problem is not None, "the tampering was not detected"
    return report.problem


def places(runtime: Runtime, where: str = "") -> list[tuple[object, object]]:
    return rows(runtime, f"SELECT seq, mac FROM audit_events {where} ORDER BY id")


@pytest.fixture
def trail(pxs: Platxa) -> Platxa:
    """seq 1 keys.create, seq 2…4 test events."""
    record_events(pxs, 3)
    return pxs


@pytest.mark.parametrize("marker", [None, (4, 5)], ids=["plain", "with-marker"])
def test_a_reset_chain_never_seals_a_forged_event(
    trail: Platxa, marker: tuple[int, int] | None
) -> None:
    """The review's forgery: swap an event, strip every place, reset the head."""
    runtime = trail.runtime
    execute(runtime, "DELETE FROM audit_events WHERE seq = 3")
    insert_event(runtime, None, None)
    reset_chain(runtime, marker=marker)

    found = problem(runtime)
    assert found.reason == UNCHAINED
    assert "4 event(s) have no place in the chain" in found.message
    assert "pxs init" not in found.message

    record_events(trail, 1)
    initialise(runtime)

    assert AuditLog(runtime).seal_legacy() == 0
    assert places(runtime, f"WHERE request_id = '{FORGED}'") == [(None, None)]
    found = problem(runtime)
    assert (found.reason, found.seq) == (HEAD_INVALID, 1)
    assert rows(runtime, "SELECT action FROM audit_events WHERE seq = 1") == [
        ("audit.head-tampered",)
    ]


def test_an_emptied_trail_with_a_reset_head_is_named(trail: Platxa) -> None:
    runtime = trail.runtime
    execute(runtime, "DELETE FROM audit_events")
    execute(runtime, "UPDATE audit_chain_head SET seq = 0, mac = '', head_mac = NULL")

    found = problem(runtime)
    assert (found.reason, found.seq) == (HEAD_INVALID, 0)
    assert "reset or changed outside Platxa Secrets" in found.message

    record_events(trail, 1)
    assert (problem(runtime).reason, problem(runtime).seq) == (HEAD_INVALID, 1)


def test_the_head_is_signed_from_the_start(config: Config) -> None:
    """A new chain's empty head is signed; a trail emptied back to it is named."""
    database = Database(config.database_url)
    database.connect(create=True)
    upgrade(database)
    runtime = Runtime(config)

    audit_chain.chain_key(runtime)
    ((seq, mac, signed),) = rows(
        runtime, "SELECT seq, mac, head_mac FROM audit_chain_head"
    )
    assert (seq, mac) == (0, "") and signed is not None
    assert verify_store(runtime).ok

    initialise(runtime)
    record_events(Platxa(runtime), 2)
    execute(runtime, "DELETE FROM audit_events")
    execute(
        runtime,
        "UPDATE audit_chain_head SET seq = 0, mac = '', head_mac = ?",
        (signed,),
    )

    found = problem(runtime)
    assert (found.reason, found.seq) == (TRUNCATED, 1)
    assert "1 data key(s)" in found.message
    runtime.close()
    database.close()


def test_a_deleted_key_on_a_reset_chain_stops_writes_and_init(trail: Platxa) -> None:
    runtime = trail.runtime
    reset_chain(runtime, key=True)
    versions = rows(runtime, "SELECT COUNT(*) FROM secret_versions")

    found = problem(runtime)
    assert found.reason == KEY_MISSING
    assert "holds 1 data key(s), 4 audit event(s)" in found.message
    assert "pxs init" not in found.message

    missing = "audit chain key \\(table audit_keys\\) is missing"
    with pytest.raises(StoreError, match=missing):
        trail.secrets.put("tenant-a", "app", {"K": b"v"})
    with pytest.raises(StoreError, match=missing):
        initialise(runtime)

    assert rows(runtime, "SELECT COUNT(*) FROM audit_keys") == [(0,)]
    assert rows(runtime, "SELECT COUNT(*) FROM secret_versions") == versions
    assert set(places(runtime)) == {(None, None)}


def test_a_deleted_key_is_not_replaced_over_a_chained_trail(trail: Platxa) -> None:
    execute(trail.runtime, "DELETE FROM audit_keys")
    audit_chain._keys.clear()

    with pytest.raises(StoreError, match="4 with a place in the chain"):
        trail.secrets.put("tenant-a", "app", {"K": b"v"})

    assert rows(trail.runtime, "SELECT COUNT(*) FROM audit_keys") == [(0,)]
    assert problem(trail.runtime).reason == KEY_MISSING


def _legacy_store(config: Config, events: int, data_key: bool = False) -> Database:
    """A store at schema 0003 with events, migrated to head without a key."""
    database = Database(config.database_url)
    database.connect(create=True)
    upgrade(database, "0003")
    database.write(
        lambda tx: tx.many(
            "INSERT INTO audit_events (at, actor, action, namespace, outcome, "
            "request_id) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (f"2025-01-01T00:00:{i:02d}.000000Z", "os:old", "x", "t", "ok", "r")
                for i in range(events)
            ],
        )
    )
    if data_key:
        database.write(
            lambda tx: tx.execute(
                "INSERT INTO data_keys (kid, state, origin, master_kid, "
                "wrapped_key, created_at, created_by) VALUES ('k1', 'active', "
                "'generated', 'm', 'w', '2025-01-01T00:00:00.000000Z', 'os:old')"
            )
        )
    upgrade(database)
    return database


def test_events_from_before_the_chain_are_sealed_in_id_order(config: Config) -> None:
    database = _legacy_store(config, 5)
    runtime = Runtime(config)

    assert problem(runtime).reason == UNSEALED
    assert AuditLog(runtime).seal_legacy() == 5

    report = verify_store(runtime)
    assert report.ok, report.problem
    assert report.verified == 6  # five sealed, then the seal itself
    placed = rows(runtime, "SELECT id, seq, action FROM audit_events ORDER BY id")
    assert [(seq, action) for _, seq, action in placed][-1] == (6, "audit.seal")
    assert [seq for _, seq, _ in placed] == [1, 2, 3, 4, 5, 6]
    assert AuditLog(runtime).seal_legacy() == 0
    assert rows(runtime, "SELECT legacy_events FROM audit_chain_head") == [(None,)]
    runtime.close()
    database.close()


def test_init_seals_events_from_before_the_chain(config: Config) -> None:
    database = _legacy_store(config, 3)
    runtime = Runtime(config)

    initialise(runtime)

    report = verify_store(runtime)
    assert report.ok, report.problem
    assert report.verified == 5  # three sealed, audit.seal, keys.create
    runtime.close()
    database.close()


def test_only_init_seals_an_upgraded_store_with_data_keys(config: Config) -> None:
    database = _legacy_store(config, 3, data_key=True)
    runtime = Runtime(config)

    with pytest.raises(StoreError, match="only `pxs init`, which upgrades a store"):
        AuditLog(runtime).run("test.write", None, None, lambda tx, outcome: None)
    assert rows(runtime, "SELECT COUNT(*) FROM audit_keys") == [(0,)]
    assert problem(runtime).reason == UNSEALED

    assert AuditLog(runtime).seal_legacy() == 3
    record_events(Platxa(runtime), 1)
    report = verify_store(runtime)
    assert report.ok, report.problem
    assert report.verified == 5  # three sealed, audit.seal, the write
    runtime.close()
    database.close()


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO audit_events (at, actor, action, outcome, request_id) "
        "VALUES ('2026-01-01T00:00:00.000000Z', 'os:bob', 'secret.read', 'ok', 'x')",
        "DELETE FROM audit_events WHERE id = 2",
    ],
    ids=["added", "removed"],
)
def test_a_trail_changed_since_the_upgrade_is_not_sealed(
    config: Config, change: str
) -> None:
    database = _legacy_store(config, 3)
    runtime = Runtime(config)
    execute(runtime, change)

    with pytest.raises(StoreError, match="migration 0004 found 3 audit event"):
        AuditLog(runtime).seal_legacy()

    assert problem(runtime).reason == UNCHAINED
    assert rows(runtime, "SELECT COUNT(*) FROM audit_keys") == [(0,)]
    assert set(places(runtime)) == {(None, None)}
    runtime.close()
    database.close()


def test_a_sealed_store_is_never_sealed_again(config: Config) -> None:
    database = _legacy_store(config, 3)
    runtime = Runtime(config)
    AuditLog(runtime).seal_legacy()
    insert_event(runtime, None, None)

    reset_chain(runtime, marker=(5, 5))

    assert AuditLog(runtime).seal_legacy() == 0
    assert set(places(runtime)) == {(None, None)}
    assert problem(runtime).reason == UNCHAINED
    runtime.close()
    database.close()

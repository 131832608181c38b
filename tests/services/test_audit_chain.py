"""The audit chain: every change, removal, insertion or reordering is named.

Each test writes a short trail (seq 1 is `keys.create` from `pxs init`,
seq 2…7 are test events), tampers with it the way someone holding only
the database could, and checks that `verify` names the first event
that broke and what broke there. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.api import Platxa
from platxa_secrets.core.config import load_config
from platxa_secrets.errors import ConfigError
from platxa_secrets.services.audit_verify import (
    BEYOND_HEAD,
    GAP,
    HEAD_INVALID,
    KEY_MISSING,
    LINK_BROKEN,
    MAC_MISMATCH,
    TRUNCATED,
    UNCHAINED,
    AuditChainBroken,
    verify_store,
)
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.keys import KeyService
from platxa_secrets.services.runtime import Runtime
from tests.conftest import make_env
from tests.services.audit_helpers import (
    FORGED_MAC,
    execute,
    insert_event,
    mac_at,
    move_seq,
    record_events,
    rows,
    swap,
)

LAST = 7


@pytest.fixture
def trail(pxs: Platxa) -> Platxa:
    record_events(pxs, LAST - 1)
    return pxs


def broken_at(pxs: Platxa) -> tuple[str, int | None]:
    report = verify_store(pxs.runtime)
    assert report.problem is not None, "the tampering was not detected"
    return report.problem.reason, report.problem.seq


def test_an_untouched_trail_verifies_whole(trail: Platxa) -> None:
    report = verify_store(trail.runtime)

    assert report.ok, report.problem
    assert (report.verified, report.first_seq, report.last_seq) == (LAST, 1, LAST)
    seqs = [seq for (seq,) in rows(trail.runtime, "SELECT seq FROM audit_events")]
    assert sorted(seqs) == list(range(1, LAST + 1))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "2020-01-01T00:00:00.000000Z"),
        ("actor", "test:someone-else"),
        ("action", "secret.delete"),
        ("namespace", "tenant-b"),
        ("name", "other"),
        ("version", 9),
        ("key_names", '["DB_PASSWORD"]'),
        ("kid", "0badc0de"),
        ("outcome", "error"),
        ("request_id", "0" * 32),
        ("detail", None),
    ],
)
def test_a_changed_field_is_named(trail: Platxa, column: str, value: object) -> None:
    execute(
        trail.runtime, f"UPDATE audit_events SET {column} = ? WHERE seq = 4", (value,)
    )

    assert broken_at(trail) == (MAC_MISMATCH, 4)


def test_a_replaced_mac_is_named(trail: Platxa) -> None:
    execute(
        trail.runtime, "UPDATE audit_events SET mac = ? WHERE seq = 5", (FORGED_MAC,)
    )

    assert broken_at(trail) == (MAC_MISMATCH, 5)


def test_a_removed_event_leaves_a_named_gap(trail: Platxa) -> None:
    execute(trail.runtime, "DELETE FROM audit_events WHERE seq = 3")

    report = verify_store(trail.runtime)

    assert report.problem is not None
    assert (report.problem.reason, report.problem.seq) == (GAP, 3)
    assert "seq 3…3 missing before event seq 4" in report.problem.message
    assert report.verified == 2


def test_a_removed_event_renumbered_over_is_named(trail: Platxa) -> None:
    execute(trail.runtime, "DELETE FROM audit_events WHERE seq = 3")
    for seq in range(4, LAST + 1):
        move_seq(trail.runtime, seq, seq - 1)

    assert broken_at(trail) == (MAC_MISMATCH, 3)


def test_two_swapped_events_are_named(trail: Platxa) -> None:
    swap(trail.runtime, 3, 6)

    assert broken_at(trail) == (MAC_MISMATCH, 3)


def test_a_forged_event_inserted_in_the_middle_is_named(trail: Platxa) -> None:
    for seq in range(LAST, 3, -1):
        move_seq(trail.runtime, seq, seq + 1)
    insert_event(trail.runtime, 4)

    assert broken_at(trail) == (MAC_MISMATCH, 4)


def test_a_forged_event_without_a_place_is_named(trail: Platxa) -> None:
    insert_event(trail.runtime, None, None)
    (forged,) = rows(trail.runtime, "SELECT id FROM audit_events WHERE seq IS NULL")

    report = verify_store(trail.runtime)

    assert report.problem is not None
    assert (report.problem.reason, report.problem.id) == (UNCHAINED, forged[0])


def test_a_forged_event_after_the_head_is_named(trail: Platxa) -> None:
    insert_event(trail.runtime, LAST + 1)

    assert broken_at(trail) == (MAC_MISMATCH, LAST + 1)


def test_a_head_restored_from_an_older_copy_is_caught(trail: Platxa) -> None:
    (older,) = rows(trail.runtime, "SELECT seq, mac, head_mac FROM audit_chain_head")
    record_events(trail, 1)

    execute(
        trail.runtime,
        "UPDATE audit_chain_head SET seq = ?, mac = ?, head_mac = ?",
        tuple(older),
    )

    assert broken_at(trail) == (BEYOND_HEAD, LAST + 1)


def test_a_truncated_tail_is_caught_by_the_head(trail: Platxa) -> None:
    execute(trail.runtime, "DELETE FROM audit_events WHERE seq >= 6")

    report = verify_store(trail.runtime)

    assert report.problem is not None
    assert (report.problem.reason, report.problem.seq) == (TRUNCATED, 6)
    assert report.verified == 5


def test_a_head_rewound_to_a_shorter_tail_is_caught(trail: Platxa) -> None:
    execute(trail.runtime, "DELETE FROM audit_events WHERE seq = ?", (LAST,))
    execute(
        trail.runtime,
        "UPDATE audit_chain_head SET seq = ?, mac = ?",
        (LAST - 1, mac_at(trail.runtime, LAST - 1)),
    )

    assert broken_at(trail) == (HEAD_INVALID, LAST - 1)


def test_a_head_with_another_mac_is_caught(trail: Platxa) -> None:
    execute(trail.runtime, "UPDATE audit_chain_head SET mac = ?", (FORGED_MAC,))

    assert broken_at(trail) == (LINK_BROKEN, LAST)


def test_a_rewound_head_is_not_laundered_by_the_next_write(trail: Platxa) -> None:
    """Writing after a rewind chains a marker instead of hiding the cut."""
    execute(trail.runtime, "DELETE FROM audit_events WHERE seq = ?", (LAST,))
    execute(
        trail.runtime,
        "UPDATE audit_chain_head SET seq = ?, mac = ?",
        (LAST - 1, mac_at(trail.runtime, LAST - 1)),
    )

    record_events(trail, 2)

    assert broken_at(trail) == (HEAD_INVALID, LAST)
    (marker,) = rows(
        trail.runtime, "SELECT action FROM audit_events WHERE seq = ?", (LAST,)
    )
    assert marker == ("audit.head-tampered",)


def test_verify_raises_with_the_position(trail: Platxa) -> None:
    execute(trail.runtime, "UPDATE audit_events SET actor = 'x' WHERE seq = 2")

    with pytest.raises(AuditChainBroken, match="event seq 2 ") as caught:
        verify_store(trail.runtime).raise_if_broken()

    assert (caught.value.reason, caught.value.seq) == (MAC_MISMATCH, 2)
    assert caught.value.exit_code != 0


def test_the_chain_key_is_stored_wrapped_only(trail: Platxa) -> None:
    ((wrapped, master_kid),) = rows(
        trail.runtime, "SELECT wrapped_key, master_kid FROM audit_keys"
    )

    assert master_kid == trail.runtime.master_keys.primary_id
    assert wrapped.startswith("gAAAA")  # a Fernet token, not the key itself
    assert len(wrapped) > 100


def test_a_deleted_chain_key_is_reported(trail: Platxa) -> None:
    execute(trail.runtime, "DELETE FROM audit_keys")

    report = verify_store(trail.runtime)

    assert report.problem is not None
    assert report.problem.reason == KEY_MISSING
    assert "audit chain key (table audit_keys) is missing" in report.problem.message


def test_events_of_one_transaction_are_chained_in_order(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "one", {"K": b"v"})
    pxs.secrets.put("tenant-a", "two", {"K": b"v"})
    pxs.secrets.delete("tenant-a", "one")

    assert verify_store(pxs.runtime).ok
    actions = [e.action for e in reversed(pxs.audit.list(limit=10))]
    assert actions == ["keys.create", "secret.write", "secret.write", "secret.delete"]


def test_master_rotation_keeps_the_chain_verifiable(
    tmp_path: Path, database_url: str
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def runtime(master: str) -> Runtime:
        env = make_env(tmp_path / "home", database_url, master)
        return Runtime(load_config(env=env, actor="test:operator"))

    before = runtime(old)
    initialise(before)
    record_events(Platxa(before), 3)
    only_new = runtime(new)
    with pytest.raises(ConfigError, match="audit chain key is wrapped by master key"):
        verify_store(only_new)

    both = runtime(f"{new},{old}")
    KeyService(both).rewrap_under_primary()

    report = verify_store(only_new)
    assert report.ok, report.problem
    assert report.verified == 5  # keys.create, 3 events, master.rotate
    record_events(Platxa(only_new), 2)
    assert verify_store(only_new).verified == 7
    ((master_kid,),) = rows(only_new, "SELECT master_kid FROM audit_keys")
    assert master_kid == only_new.master_keys.primary_id
    for each in (before, only_new, both):
        each.close()

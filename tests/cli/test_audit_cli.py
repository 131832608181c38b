"""`pxs audit` through the real console script, as an operator runs it.

Each call is a fresh process, so nothing is cached between a tampering
and the check that must catch it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.harness import Cli

CANARY = b"CANARY-audit-4f7c1e"


@pytest.fixture
def busy(store: Cli) -> Cli:
    """keys.create, then two writes and a read of tenant-a/app."""
    for _ in range(2):
        store("secret", "set", "tenant-a/app", "K=-", stdin=CANARY)
    store("secret", "get", "tenant-a/app")
    return store


def tamper(cli: Cli, sql: str) -> None:
    with sqlite3.connect(cli.home / "secrets.db") as conn:
        conn.execute(sql)


def test_verify_passes_and_counts(busy: Cli) -> None:
    result = busy("audit", "verify")

    assert "audit chain intact: 4 event(s) verified (seq 1…4)" in result.stdout


def test_a_changed_event_fails_verify_naming_it(busy: Cli) -> None:
    tamper(busy, "UPDATE audit_events SET actor = 'os:mallory' WHERE seq = 3")

    result = busy("audit", "verify", ok=False)

    assert result.code == 5
    assert "event seq 3" in result.stderr
    assert "mac mismatch" not in result.stdout  # table mode prints no report
    assert "does not match its HMAC" in result.stderr


def test_a_removed_event_fails_verify_in_json(busy: Cli) -> None:
    tamper(busy, "DELETE FROM audit_events WHERE seq = 2")

    result = busy("audit", "verify", "-o", "json", ok=False)

    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problem"]["reason"] == "gap in seq"
    assert report["problem"]["seq"] == 2


def test_a_truncated_tail_fails_verify(busy: Cli) -> None:
    tamper(busy, "DELETE FROM audit_events WHERE seq = 4")

    result = busy("audit", "verify", ok=False)

    assert "events 4…4 were removed" in result.stderr


def test_writes_stop_when_the_chain_key_is_gone(busy: Cli) -> None:
    tamper(busy, "DELETE FROM audit_keys")
    versions = busy.count()

    result = busy("secret", "set", "tenant-a/app", "K=-", stdin=CANARY, ok=False)

    assert "audit chain key (table audit_keys) is missing" in result.stderr
    assert busy.count() == versions


def test_archive_then_verify_the_store_and_the_file(busy: Cli, tmp_path: Path) -> None:
    target = tmp_path / "audit-2026.jsonl"

    done = busy("audit", "archive", "--before", "0s", "--file", target, "-o", "json")

    assert json.loads(done.stdout)["event_count"] == 4
    assert "continuing from the checkpoint at seq 4" in busy("audit", "verify").stdout
    assert "4 event(s) verified" in busy("audit", "verify", "--archive", target).stdout
    busy("audit", "archive", "--before", "0s", "--file", target, ok=False)

    target.write_bytes(target.read_bytes().replace(b"tenant-a", b"tenant-b", 1))
    result = busy("audit", "verify", "--archive", target, ok=False)
    assert "event seq 2" in result.stderr


def test_list_filters_and_export(busy: Cli, tmp_path: Path) -> None:
    first_audit_call = len(busy.calls)
    listed = json.loads(
        busy("audit", "list", "--action", "secret.*", "-o", "json").stdout
    )
    assert [e["action"] for e in listed] == ["secret.read"] + ["secret.write"] * 2
    assert all(e["seq"] and len(e["mac"]) == 64 for e in listed)
    assert (
        busy("audit", "list", "--since", "1h", "--actor", "nobody").stdout.count("\n")
        <= 1
    )
    busy("audit", "list", "--since", "last tuesday", ok=False)

    exported = busy("audit", "export", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["seq"] for line in exported] == [1, 2, 3, 4]
    busy("audit", "export", "--file", tmp_path / "siem.jsonl")
    assert (tmp_path / "siem.jsonl").read_text().splitlines() == exported

    for call in busy.calls[first_audit_call:]:
        assert CANARY not in call.out + call.err


def test_master_rotation_then_verify_with_the_new_key_only(busy: Cli) -> None:
    old = busy.env["PLATXA_SECRETS_MASTER_KEY"]
    new = Fernet.generate_key().decode()

    busy("master", "rotate", env={"PLATXA_SECRETS_MASTER_KEY": f"{new},{old}"})

    only_new = {"PLATXA_SECRETS_MASTER_KEY": new}
    assert "5 event(s) verified" in busy("audit", "verify", env=only_new).stdout
    busy("secret", "set", "tenant-a/app", "K=-", stdin=CANARY, env=only_new)
    assert "6 event(s) verified" in busy("audit", "verify", env=only_new).stdout


RESEAL_FORGERY = """
DELETE FROM audit_events WHERE action = 'secret.read';
INSERT INTO audit_events (at, actor, action, namespace, name, outcome, request_id,
    detail) VALUES ('2026-12-04T18:44:20.000000Z', 'os:bob', 'secret.read',
    'tenant-b', 'odoo', 'ok', 'forged', 'planted');
UPDATE audit_events SET seq = NULL, mac = NULL;
DELETE FROM audit_checkpoints;
UPDATE audit_chain_head SET seq = 0, mac = '', head_mac = NULL;
"""


def tamper_script(cli: Cli, script: str) -> None:
    with sqlite3.connect(cli.home / "secrets.db") as conn:
        conn.executescript(script)


def test_a_resealing_forgery_is_never_sealed(busy: Cli) -> None:
    """The review's attack: strip every place, reset the head, write again."""
    tamper_script(busy, RESEAL_FORGERY)

    first = busy("audit", "verify", ok=False)
    busy("secret", "set", "tenant-a/app", "K=-", stdin=CANARY)
    busy("init")
    last = busy("audit", "verify", ok=False)

    assert first.code == last.code == 5
    assert "4 event(s) have no place in the chain" in first.stderr
    assert "chain head had been changed outside Platxa Secrets" in last.stderr
    for result in (first, last):
        assert "pxs init" not in result.stderr
    with sqlite3.connect(busy.home / "secrets.db") as conn:
        forged = conn.execute(
            "SELECT seq, mac FROM audit_events WHERE request_id = 'forged'"
        ).fetchall()
    assert forged == [(None, None)]


def test_a_deleted_key_with_a_reset_chain_stops_writes_and_init(busy: Cli) -> None:
    tamper_script(busy, RESEAL_FORGERY + "DELETE FROM audit_keys;")
    versions = busy.count()

    results = [
        busy("audit", "verify", ok=False),
        busy("secret", "set", "tenant-a/app", "K=-", stdin=CANARY, ok=False),
        busy("init", ok=False),
    ]

    for result in results:
        assert "audit chain key (table audit_keys) is missing" in result.stderr
        assert "holds 1 data key(s), 4 audit event(s)" in result.stderr
    assert busy.count() == versions
    assert busy.count("audit_keys") == 0


def test_verify_reads_only_a_regular_file_as_an_archive(
    busy: Cli, tmp_path: Path
) -> None:
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)

    zero = busy("audit", "verify", "--archive", "/dev/zero", ok=False)
    pipe = busy("audit", "verify", "--archive", fifo, ok=False)

    assert "/dev/zero is a character device" in zero.stderr
    assert f"{fifo} is a FIFO" in pipe.stderr
    assert "--archive must be a regular file" in pipe.stderr


def test_nothing_to_archive_is_not_a_failure(busy: Cli, tmp_path: Path) -> None:
    target = tmp_path / "old.jsonl"

    quiet = busy("audit", "archive", "--before", "2000-01-01", "--file", target)

    assert quiet.code == 0
    assert "nothing archived" in quiet.stderr
    assert not target.exists()

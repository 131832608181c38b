"""Archiving: old events move to a private file behind a signed checkpoint.

The store's chain must still verify from the newest checkpoint, the file
must verify on its own against its last line, and any change to the
file or to the checkpoints must be named. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config
from platxa_secrets.errors import ConflictError, ValidationError
from platxa_secrets.services.audit_archive import archive, verify_archive
from platxa_secrets.services.audit_archive_check import (
    CHECKPOINT_LINE_MAX,
    EVENT_LINE_MAX,
)
from platxa_secrets.services.audit_verify import (
    CHECKPOINT_INVALID,
    FILE_CHANGED,
    GAP,
    MAC_MISMATCH,
    OUT_OF_ORDER,
    AuditChainBroken,
    verify_store,
)
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from tests.services.audit_helpers import execute, record_events, rows

HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def aged(config: Config, clock: FrozenClock) -> Iterator[Platxa]:
    """seq 1 keys.create and 2…4 at hour 0; seq 5…7 at hour 2; now hour 3."""
    runtime = Runtime(config, clock=clock, actor="test:auditor")
    initialise(runtime)
    pxs = Platxa(runtime)
    record_events(pxs, 3)
    clock.advance(2 * HOUR)
    record_events(pxs, 3, namespace="tenant-b")
    clock.advance(HOUR)
    yield pxs
    pxs.close()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for archive files (the store lives beside it)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_archive_moves_the_old_events_and_verify_still_passes(
    aged: Platxa, out: Path
) -> None:
    target = out / "audit-1.jsonl"

    done = archive(aged.runtime, "2h", target)

    assert (done.first_seq, done.last_seq, done.event_count) == (1, 4, 4)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    records = [json.loads(line) for line in lines(target)]
    assert [r["seq"] for r in records[:-1]] == [1, 2, 3, 4]
    assert records[-1]["checkpoint"]["seq"] == 4
    left = rows(aged.runtime, "SELECT seq FROM audit_events ORDER BY seq")
    assert [seq for (seq,) in left] == [5, 6, 7, 8]  # 8: the archive itself

    report = verify_store(aged.runtime)
    assert report.ok, report.problem
    assert (report.checkpoint_seq, report.first_seq, report.verified) == (4, 5, 4)
    file_report = verify_archive(aged.runtime, target)
    assert file_report.ok, file_report.problem
    assert file_report.verified == 4


def test_a_second_archive_continues_from_the_first(
    aged: Platxa, clock: FrozenClock, out: Path
) -> None:
    archive(aged.runtime, "2h", out / "one.jsonl")
    clock.advance(HOUR)

    done = archive(aged.runtime, "1m", out / "two.jsonl")

    assert (done.first_seq, done.last_seq) == (5, 8)
    assert verify_store(aged.runtime).ok
    assert verify_archive(aged.runtime, out / "one.jsonl").ok
    assert verify_archive(aged.runtime, out / "two.jsonl").ok


@pytest.mark.parametrize(
    ("tamper", "reason", "seq"),
    [
        (lambda ls: ls.__setitem__(2, ls[2].replace(b"n=1", b"n=9")), MAC_MISMATCH, 3),
        (lambda ls: ls.pop(1), GAP, 2),
        (lambda ls: ls.insert(2, ls[1]), OUT_OF_ORDER, 2),
        (
            lambda ls: ls.__setitem__(-1, ls[-1].replace(b'"seq":4', b'"seq":3')),
            CHECKPOINT_INVALID,
            3,
        ),
        (lambda ls: ls.insert(3, b"{}\n"), FILE_CHANGED, None),
        (lambda ls: ls.__setitem__(-1, b"not json\n"), FILE_CHANGED, None),
    ],
    ids=[
        "changed-event",
        "removed-event",
        "repeated-event",
        "checkpoint",
        "junk",
        "no-checkpoint",
    ],
)
def test_a_tampered_archive_file_is_named(
    aged: Platxa,
    out: Path,
    tamper: Callable[[list[bytes]], object],
    reason: str,
    seq: int | None,
) -> None:
    target = out / "audit.jsonl"
    archive(aged.runtime, "2h", target)
    content = lines(target)
    tamper(content)
    target.write_bytes(b"".join(content))

    report = verify_archive(aged.runtime, target)

    assert report.problem is not None
    assert (report.problem.reason, report.problem.seq) == (reason, seq)


def test_a_file_with_a_different_checkpoint_than_the_store_is_named(
    aged: Platxa, out: Path
) -> None:
    target = out / "audit.jsonl"
    archive(aged.runtime, "2h", target)
    execute(
        aged.runtime, "UPDATE audit_checkpoints SET checkpoint_mac = ?", ("0" * 64,)
    )

    report = verify_archive(aged.runtime, target)

    assert report.problem is not None
    assert report.problem.reason == CHECKPOINT_INVALID
    assert verify_store(aged.runtime).problem is not None


def test_a_removed_checkpoint_is_caught(aged: Platxa, out: Path) -> None:
    archive(aged.runtime, "2h", out / "audit.jsonl")
    execute(aged.runtime, "DELETE FROM audit_checkpoints")

    report = verify_store(aged.runtime)

    assert report.problem is not None
    assert (report.problem.reason, report.problem.seq) == (GAP, 1)


def test_a_removed_older_checkpoint_is_caught(
    aged: Platxa, clock: FrozenClock, out: Path
) -> None:
    archive(aged.runtime, "2h", out / "one.jsonl")
    clock.advance(HOUR)
    archive(aged.runtime, "1m", out / "two.jsonl")
    execute(aged.runtime, "DELETE FROM audit_checkpoints WHERE seq = 4")

    report = verify_store(aged.runtime)

    assert report.problem is not None
    assert report.problem.reason == CHECKPOINT_INVALID


def test_an_existing_file_is_never_overwritten(aged: Platxa, out: Path) -> None:
    target = out / "audit.jsonl"
    target.write_bytes(b"keep me\n")

    with pytest.raises(ConflictError, match="never overwritten"):
        archive(aged.runtime, "2h", target)

    assert target.read_bytes() == b"keep me\n"
    assert len(rows(aged.runtime, "SELECT id FROM audit_events")) == 7
    assert list(out.iterdir()) == [target]


def test_nothing_to_archive_writes_no_file(aged: Platxa, out: Path) -> None:
    target = out / "audit.jsonl"

    with pytest.raises(ValidationError, match="no audit events before"):
        archive(aged.runtime, "2020-01-01", target)

    assert not target.exists()
    assert list(out.iterdir()) == []


def test_a_bad_cutoff_names_the_option(aged: Platxa, out: Path) -> None:
    with pytest.raises(ValidationError, match="--before 'last week' is not a time"):
        archive(aged.runtime, "last week", out / "audit.jsonl")


def test_a_broken_chain_is_not_archived(aged: Platxa, out: Path) -> None:
    execute(aged.runtime, "UPDATE audit_events SET actor = 'x' WHERE seq = 3")
    target = out / "audit.jsonl"

    with pytest.raises(AuditChainBroken, match="nothing archived"):
        archive(aged.runtime, "2h", target)

    assert not target.exists()
    assert len(rows(aged.runtime, "SELECT id FROM audit_events")) == 7
    assert rows(aged.runtime, "SELECT id FROM audit_checkpoints") == []


@pytest.mark.parametrize(
    ("special", "kind"),
    [("fifo", "a FIFO"), ("/dev/zero", "a character device"), ("dir", "a directory")],
)
def test_only_a_regular_file_is_read_as_an_archive(
    aged: Platxa, out: Path, special: str, kind: str
) -> None:
    """A FIFO would block the read forever and /dev/zero never ends."""
    path = Path(special)
    if special == "fifo":
        path = out / "audit.fifo"
        os.mkfifo(path)
    elif special == "dir":
        path = out

    with pytest.raises(ValidationError, match=f"is {kind}") as refused:
        verify_archive(aged.runtime, path)

    assert refused.value.context == {"field": "archive"}
    assert "--archive must be a regular file" in refused.value.message


def test_an_overlong_last_line_is_not_taken_for_a_checkpoint(
    aged: Platxa, out: Path
) -> None:
    target = out / "audit.jsonl"
    archive(aged.runtime, "2h", target)
    content = lines(target)
    assert len(content[-1]) < CHECKPOINT_LINE_MAX // 4
    content[-1] = content[-1][:-2] + b" " * CHECKPOINT_LINE_MAX + b"}\n"
    target.write_bytes(b"".join(content))

    report = verify_archive(aged.runtime, target)

    assert report.problem is not None
    assert report.problem.reason == FILE_CHANGED
    assert f"longer than {CHECKPOINT_LINE_MAX} bytes" in report.problem.message


def test_an_overlong_event_line_stops_the_walk(aged: Platxa, out: Path) -> None:
    target = out / "audit.jsonl"
    archive(aged.runtime, "2h", target)
    content = lines(target)
    content.insert(1, b" " * EVENT_LINE_MAX + b"{}\n")
    target.write_bytes(b"".join(content))

    report = verify_archive(aged.runtime, target)

    assert report.problem is not None
    assert report.problem.reason == FILE_CHANGED
    assert "line 2 is longer than" in report.problem.message
    assert report.verified == 1


def test_a_long_checkpoint_line_still_fits(config: Config, out: Path) -> None:
    """The longest creator name, all escaped, stays within the line cap."""
    runtime = Runtime(config, actor="é" * 200)
    initialise(runtime)
    target = out / "audit.jsonl"

    archive(runtime, "0s", target)

    assert CHECKPOINT_LINE_MAX // 2 > len(lines(target)[-1]) > 1200
    assert verify_archive(runtime, target).ok
    runtime.close()

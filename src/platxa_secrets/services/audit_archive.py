"""`pxs audit archive` and `pxs audit verify --archive`: retention.

Archiving moves the oldest events out of the store into a JSON-lines
file (`services/audit_export.py` format) and leaves a checkpoint behind:

    first_seq, seq       the archived part of the chain
    prev_mac, mac        the links it starts from and ends with
    event_count          seq - first_seq + 1
    file_sha256          SHA-256 of the file's event lines
    archived_before, created_at, created_by
    checkpoint_mac       HMAC of all of the above under the chain key

The checkpoint is stored in `audit_checkpoints` and written as the
file's last line. `pxs audit verify` then starts from the newest
checkpoint, and the file can be checked on its own against its last line
(`services/audit_archive_check.py`, re-exported here as `verify_archive`).

What is archived is the longest run of events from the start of the
chain whose times are all before the cut-off, so the events left behind
still form one chain. The order keeps every event somewhere at every
moment: the events are verified and written, the file is made durable
and linked into place (never over an existing file), and only then are
the checkpoint stored and the events deleted, in one transaction that
also records the archive as an event. If that transaction fails, the
file is removed again and the store is as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import Checkpoint
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import ConflictError, ValidationError
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.audit_archive_check import verify_archive
from platxa_secrets.services.audit_chain import (
    chain_key,
    checkpoint_mac,
)
from platxa_secrets.services.audit_export import (
    chained_events,
    checkpoint_record,
    event_record,
    json_line,
)
from platxa_secrets.services.audit_files import PrivateFile
from platxa_secrets.services.audit_query import parse_moment
from platxa_secrets.services.audit_walk import (
    AuditChainBroken,
    ChainWalk,
    check_checkpoints,
)
from platxa_secrets.services.runtime import Runtime


class NothingToArchive(ValidationError):
    """Every event before the cut-off is archived already: not a failure
    for a scheduled job, so the CLI reports it and exits 0."""


@dataclass(frozen=True)
class Archived:
    """What an archive run moved out of the store."""

    path: str
    first_seq: int
    last_seq: int
    event_count: int
    file_sha256: str


@dataclass
class _Written:
    checkpoints: list[Checkpoint]
    walk: ChainWalk
    sha256: str


def archive(runtime: Runtime, before: str, path: Path) -> Archived:
    """Move the events before `before` into `path`; see the module docstring."""
    cutoff = parse_moment(before, "--before", runtime.clock)
    key = chain_key(runtime)

    with PrivateFile(path) as out:
        written = _write_events(runtime, key, cutoff, out)
        walk = written.walk
        if walk.first is None:
            raise NothingToArchive(
                f"no audit events before {cutoff} are left to archive",
                field="before",
            )

        checkpoint = _checkpoint(runtime, key, cutoff, written, walk.first)
        out.write(json_line(checkpoint_record(checkpoint)))
        out.publish()

        def commit(tx: Tx, outcome: Outcome) -> None:
            _commit(tx, checkpoint)
            outcome.detail = (
                f"{checkpoint.event_count} event(s) seq {checkpoint.first_seq}…"
                f"{checkpoint.seq} archived, all before {cutoff}"
            )

        try:
            AuditLog(runtime).run("audit.archive", None, None, commit)
        except BaseException:
            out.withdraw()
            raise

    return Archived(
        str(path), checkpoint.first_seq, checkpoint.seq, walk.count, written.sha256
    )


def _write_events(
    runtime: Runtime, key: bytes, cutoff: str, out: PrivateFile
) -> _Written:
    """Verify and write the events to archive, from one snapshot."""
    runtime.ready()
    digest = hashlib.sha256()
    with runtime.database.read() as tx:
        audit_chain_rows.snapshot(tx)
        checkpoints = audit_chain_rows.checkpoints(tx)
        base = checkpoints[-1] if checkpoints else None
        walk = ChainWalk(key, base.seq if base else 0, base.mac if base else "")
        problem = check_checkpoints(key, checkpoints)

        for event in chained_events(tx, after=walk.seq) if not problem else ():
            if event.at >= cutoff:
                break
            problem = walk.step(event)
            if problem is not None:
                break
            line = json_line(event_record(event))
            digest.update(line)
            out.write(line)

    if problem is not None:
        raise AuditChainBroken(
            f"nothing archived: the audit chain is broken: {problem.message}",
            reason=problem.reason,
            seq=problem.seq,
            id=problem.id,
        )
    return _Written(checkpoints, walk, digest.hexdigest())


def _checkpoint(
    runtime: Runtime, key: bytes, cutoff: str, written: _Written, first: int
) -> Checkpoint:
    base = written.checkpoints[-1] if written.checkpoints else None
    unsigned = Checkpoint(
        first_seq=first,
        seq=written.walk.seq,
        prev_mac=base.mac if base else "",
        mac=written.walk.mac,
        event_count=written.walk.count,
        file_sha256=written.sha256,
        archived_before=cutoff,
        created_at=runtime.now(),
        created_by=runtime.actor,
        checkpoint_mac="",
    )
    return unsigned._replace(checkpoint_mac=checkpoint_mac(key, unsigned))


def _commit(tx: Tx, checkpoint: Checkpoint) -> None:
    """Store the checkpoint and delete what it covers, if nothing moved."""
    audit_chain_rows.lock_head(tx)
    newest = audit_chain_rows.checkpoints(tx)
    if (newest[-1].seq if newest else 0) != checkpoint.first_seq - 1:
        raise ConflictError(
            "another archive ran at the same time; nothing was archived by this "
            "one; run it again with a new --file"
        )

    count, mac = audit_rows.chained_between(tx, checkpoint.first_seq, checkpoint.seq)
    if count != checkpoint.event_count or mac != checkpoint.mac:
        raise ConflictError(
            f"events seq {checkpoint.first_seq}…{checkpoint.seq} changed while "
            "they were archived; nothing was archived"
        )

    audit_chain_rows.insert_checkpoint(tx, checkpoint)
    audit_rows.delete_through(tx, checkpoint.seq)


__all__ = ["Archived", "archive", "verify_archive"]

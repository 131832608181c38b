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
checkpoint, and the file can be checked on its own against its last line.

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
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import Checkpoint
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import ConflictError, StoreError, ValidationError
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.audit_chain import (
    chain_key,
    checkpoint_mac,
    load_chain_key,
    same_mac,
)
from platxa_secrets.services.audit_export import (
    chained_events,
    checkpoint_from_record,
    checkpoint_record,
    event_from_record,
    event_record,
    json_line,
)
from platxa_secrets.services.audit_files import PrivateFile
from platxa_secrets.services.audit_query import parse_moment
from platxa_secrets.services.audit_verify import (
    CHECKPOINT_INVALID,
    FILE_CHANGED,
    TRUNCATED,
    AuditChainBroken,
    ChainProblem,
    ChainReport,
    ChainWalk,
    check_checkpoints,
)
from platxa_secrets.services.runtime import Runtime


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
            raise ValidationError(
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
    return replace(unsigned, checkpoint_mac=checkpoint_mac(key, unsigned))


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


def verify_archive(runtime: Runtime, path: Path) -> ChainReport:
    """Check an archive file against the checkpoint on its last line."""
    runtime.ready()
    with runtime.database.read() as tx:
        key = load_chain_key(runtime, tx)
        recorded = {c.seq: c for c in audit_chain_rows.checkpoints(tx)}
    if key is None:
        raise StoreError("the store has no audit chain key to check an archive with")

    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ValidationError(
            f"cannot read {path}: {exc.strerror}", field="archive"
        ) from None
    with handle:
        return _verify_file(key, str(path), handle, recorded)


def _verify_file(
    key: bytes, source: str, handle: BinaryIO, recorded: dict[int, Checkpoint]
) -> ChainReport:
    """Checkpoint first (HMAC, and as recorded), then each event line."""
    end, last_line = _last_line(handle)
    try:
        checkpoint = checkpoint_from_record(json.loads(last_line))
    except ValueError as exc:
        problem = ChainProblem(FILE_CHANGED, f"no valid checkpoint line ({exc})")
        return ChainReport(source, 0, None, None, None, problem)

    walk = ChainWalk(key, checkpoint.first_seq - 1, checkpoint.prev_mac)

    def report(problem: ChainProblem | None) -> ChainReport:
        return ChainReport(
            source, walk.count, walk.first, walk.seq, checkpoint.seq, problem
        )

    if not same_mac(checkpoint.checkpoint_mac, checkpoint_mac(key, checkpoint)):
        return report(
            ChainProblem(
                CHECKPOINT_INVALID,
                "the checkpoint line does not match its HMAC",
                checkpoint.seq,
            )
        )
    stored = recorded.get(checkpoint.seq)
    if stored is not None and stored.checkpoint_mac != checkpoint.checkpoint_mac:
        return report(
            ChainProblem(
                CHECKPOINT_INVALID,
                f"the checkpoint differs from the one the store recorded for seq "
                f"{checkpoint.seq}",
                checkpoint.seq,
            )
        )

    digest = hashlib.sha256()
    handle.seek(0)
    for number, line in enumerate(_event_lines(handle, end), start=1):
        digest.update(line)
        try:
            event = event_from_record(json.loads(line))
        except ValueError as exc:
            return report(
                ChainProblem(FILE_CHANGED, f"line {number} is not an event ({exc})")
            )
        broken = walk.step(event)
        if broken is not None:
            return report(broken)

    return report(_check_end(checkpoint, walk, digest.hexdigest()))


def _check_end(
    checkpoint: Checkpoint, walk: ChainWalk, sha256: str
) -> ChainProblem | None:
    """The events end where the checkpoint says, and hash as it says."""
    if (walk.seq, walk.mac, walk.count) != (
        checkpoint.seq,
        checkpoint.mac,
        checkpoint.event_count,
    ):
        return ChainProblem(
            TRUNCATED,
            f"the archive ends at seq {walk.seq} after {walk.count} event(s); its "
            f"checkpoint says seq {checkpoint.seq} after {checkpoint.event_count}",
            walk.seq + 1,
        )
    if sha256 != checkpoint.file_sha256:
        return ChainProblem(
            FILE_CHANGED,
            "the event lines do not have the SHA-256 the checkpoint records",
        )
    return None


def _last_line(handle: BinaryIO) -> tuple[int, bytes]:
    """Where the last line starts, and the line (the checkpoint)."""
    size = handle.seek(0, 2)
    start = max(0, size - 65536)
    handle.seek(start)
    tail = handle.read().rstrip(b"\n")
    cut = tail.rfind(b"\n")
    return start + cut + 1, tail[cut + 1 :]


def _event_lines(handle: BinaryIO, end: int) -> Iterator[bytes]:
    """The lines of `handle` that start before byte `end`."""
    while handle.tell() < end:
        yield handle.readline()

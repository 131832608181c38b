"""`pxs audit verify --archive`: check an archive file on its own.

The checkpoint on the file's last line is checked first (its HMAC, and
that it is the one the store recorded, if the store still has it); then
every event line is walked from the checkpoint's `prev_mac` with the
same `ChainWalk` as the store, and the lines must hash to the
checkpoint's `file_sha256` and end where it says.

The path comes from an operator, so it is read with care: only a regular
file is read at all (a FIFO would block, `/dev/zero` never ends), the
checkpoint is found by reading back from the end no more than one
checkpoint line can hold, and no line is read further than any event
line could be long. Memory stays bounded whatever the file holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from platxa_secrets.core.store import audit_chain_rows
from platxa_secrets.core.store.audit_chain_rows import Checkpoint
from platxa_secrets.errors import StoreError
from platxa_secrets.services.audit_chain import (
    checkpoint_mac,
    load_chain_key,
    same_mac,
)
from platxa_secrets.services.audit_export import (
    checkpoint_from_record,
    event_from_record,
)
from platxa_secrets.services.audit_files import open_regular
from platxa_secrets.services.audit_walk import (
    CHECKPOINT_INVALID,
    FILE_CHANGED,
    TRUNCATED,
    ChainProblem,
    ChainReport,
    ChainWalk,
)
from platxa_secrets.services.runtime import Runtime

# A checkpoint line is about 700 bytes; `created_by` (200 characters,
# each at most 6 once escaped) is the only field that can grow.
CHECKPOINT_LINE_MAX = 4096
# An event holds names, ids and a short detail; a megabyte is far more.
EVENT_LINE_MAX = 1 << 20


def verify_archive(runtime: Runtime, path: Path) -> ChainReport:
    """Check an archive file against the checkpoint on its last line."""
    runtime.ready()
    with runtime.database.read() as tx:
        key = load_chain_key(runtime, tx)
        recorded = {c.seq: c for c in audit_chain_rows.checkpoints(tx)}
    if key is None:
        raise StoreError("the store has no audit chain key to check an archive with")

    with open_regular(path, "archive") as handle:
        return _verify_file(key, str(path), handle, recorded)


def _verify_file(
    key: bytes, source: str, handle: BinaryIO, recorded: dict[int, Checkpoint]
) -> ChainReport:
    """Checkpoint first (HMAC, and as recorded), then each event line."""
    last = _last_line(handle)
    try:
        if last is None:
            raise ValueError(
                f"the last line is longer than {CHECKPOINT_LINE_MAX} bytes"
            )
        end, last_line = last
        checkpoint = checkpoint_from_record(json.loads(last_line))
    except ValueError as exc:
        unread = ChainProblem(FILE_CHANGED, f"no valid checkpoint line ({exc})")
        return ChainReport(source, 0, None, None, None, unread)

    walk = ChainWalk(key, checkpoint.first_seq - 1, checkpoint.prev_mac)

    def report(problem: ChainProblem | None) -> ChainReport:
        return ChainReport(
            source, walk.count, walk.first, walk.seq, checkpoint.seq, problem
        )

    problem = _check_checkpoint(key, checkpoint, recorded)
    if problem is not None:
        return report(problem)

    digest = hashlib.sha256()
    handle.seek(0)
    for number, line in enumerate(_event_lines(handle, end), start=1):
        if not line.endswith(b"\n"):
            return report(
                ChainProblem(
                    FILE_CHANGED,
                    f"line {number} is longer than {EVENT_LINE_MAX} bytes or cut "
                    "short, so it is not an event",
                )
            )
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


def _check_checkpoint(
    key: bytes, checkpoint: Checkpoint, recorded: dict[int, Checkpoint]
) -> ChainProblem | None:
    """The checkpoint line matches its HMAC and the store's own record."""
    if not same_mac(checkpoint.checkpoint_mac, checkpoint_mac(key, checkpoint)):
        return ChainProblem(
            CHECKPOINT_INVALID,
            "the checkpoint line does not match its HMAC",
            checkpoint.seq,
        )

    stored = recorded.get(checkpoint.seq)
    if stored is not None and stored.checkpoint_mac != checkpoint.checkpoint_mac:
        return ChainProblem(
            CHECKPOINT_INVALID,
            f"the checkpoint differs from the one the store recorded for seq "
            f"{checkpoint.seq}",
            checkpoint.seq,
        )
    return None


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


def _last_line(handle: BinaryIO) -> tuple[int, bytes] | None:
    """Where the last line starts, and the line; None if it is too long.

    Reads back from the end at most one checkpoint line and the newlines
    either side of it, never the whole file.
    """
    size = handle.seek(0, os.SEEK_END)
    start = max(0, size - CHECKPOINT_LINE_MAX - 2)
    handle.seek(start)
    tail = handle.read(size - start)
    if tail.endswith(b"\n"):
        tail = tail[:-1]

    cut = tail.rfind(b"\n")
    if cut < 0 and start > 0:
        return None
    return start + cut + 1, tail[cut + 1 :]


def _event_lines(handle: BinaryIO, end: int) -> Iterator[bytes]:
    """The lines of `handle` that start before byte `end`, each bounded.

    Stops early if the file shrinks while it is read.
    """
    while handle.tell() < end:
        line = handle.readline(EVENT_LINE_MAX)
        if not line:
            return
        yield line

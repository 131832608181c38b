"""Audit events as JSON lines, for a SIEM and for archives.

One object per line, in chain order, with the event's place and HMAC so
a reader can check the chain later (`pxs audit verify --archive`):

    {"seq":7,"id":9,"at":"2026-01-01T00:00:00.000000Z","actor":"os:ana",
     "action":"secret.write","namespace":"tenant-a","name":"odoo",
     "version":3,"key_names":["DB_PASSWORD"],"kid":"4be0a1c2",
     "outcome":"ok","request_id":"…","detail":null,"mac":"…"}

An archive ends with one more line, its checkpoint (see
`services/audit_archive.py`): `{"checkpoint":{"first_seq":1,"seq":500,…}}`.

Events are read a page at a time, so an export of any length runs in
bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import Checkpoint
from platxa_secrets.core.store.audit_rows import AuditEvent, EventFilter
from platxa_secrets.core.store.db import Tx
from platxa_secrets.services.audit_files import PrivateFile
from platxa_secrets.services.audit_query import event_filter
from platxa_secrets.services.runtime import Runtime

PAGE = 2000
_TEXT = ("at", "actor", "action", "outcome", "request_id")
_OPTIONAL_TEXT = ("namespace", "name", "kid", "detail")
_CHECKPOINT_INT = ("first_seq", "seq", "event_count")
_CHECKPOINT_TEXT = (
    "prev_mac",
    "mac",
    "file_sha256",
    "archived_before",
    "created_at",
    "created_by",
    "checkpoint_mac",
)


class Sink(Protocol):
    """Where exported lines go: a binary stream or a `PrivateFile`."""

    def write(self, data: bytes, /) -> object: ...


def event_record(event: AuditEvent) -> dict[str, Any]:
    """The JSON object of one event (names and ids only, as stored)."""
    return {
        "seq": event.seq,
        "id": event.id,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "namespace": event.namespace,
        "name": event.name,
        "version": event.version,
        "key_names": sorted(event.key_names),
        "kid": event.kid,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "detail": event.detail,
        "mac": event.mac,
    }


def event_from_record(record: Any) -> AuditEvent:
    """Read an event back from its JSON object; ValueError if malformed."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    for field in _TEXT:
        if not isinstance(record.get(field), str):
            raise ValueError(f"{field} is not text")
    for field in _OPTIONAL_TEXT:
        if record.get(field) is not None and not isinstance(record[field], str):
            raise ValueError(f"{field} is not text or null")
    for field in ("seq", "id", "version"):
        value = record.get(field)
        if value is not None and type(value) is not int:
            raise ValueError(f"{field} is not a whole number")
    names = record.get("key_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("key_names is not a list of names")
    if not isinstance(record.get("mac"), str) or type(record.get("seq")) is not int:
        raise ValueError("seq or mac is missing")

    return AuditEvent(
        at=record["at"],
        actor=record["actor"],
        action=record["action"],
        outcome=record["outcome"],
        request_id=record["request_id"],
        namespace=record.get("namespace"),
        name=record.get("name"),
        version=record.get("version"),
        key_names=tuple(names),
        kid=record.get("kid"),
        detail=record.get("detail"),
        id=record.get("id"),
        seq=record["seq"],
        mac=record["mac"],
    )


def checkpoint_record(checkpoint: Checkpoint) -> dict[str, Any]:
    """The last line of an archive: the checkpoint, without its row id."""
    fields = checkpoint._asdict()
    del fields["id"]
    return {"checkpoint": fields}


def checkpoint_from_record(record: Any) -> Checkpoint:
    """Read a checkpoint line back; ValueError if it is malformed."""
    fields = record.get("checkpoint") if isinstance(record, dict) else None
    if not isinstance(fields, dict):
        raise ValueError("the last line is not a checkpoint")
    for name in _CHECKPOINT_TEXT:
        if not isinstance(fields.get(name), str):
            raise ValueError(f"checkpoint {name} is not text")
    for name in _CHECKPOINT_INT:
        if type(fields.get(name)) is not int:
            raise ValueError(f"checkpoint {name} is not a whole number")
    return Checkpoint(**{n: fields[n] for n in _CHECKPOINT_TEXT + _CHECKPOINT_INT})


def json_line(record: dict[str, Any]) -> bytes:
    """One line of JSON: compact, ASCII, ending in a newline."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


def chained_events(
    tx: Tx, where: EventFilter | None = None, after: int = 0
) -> Iterator[AuditEvent]:
    """Chained events after seq `after`, in chain order, a page at a time."""
    position = (after + 1, 0)
    while page := audit_rows.chained_page(tx, position, PAGE, where):
        yield from page
        last = page[-1]
        assert last.seq is not None and last.id is not None
        position = (last.seq, last.id)


def export(
    runtime: Runtime,
    out: Sink,
    since: str | None = None,
    until: str | None = None,
) -> int:
    """Write the chained events in `since`..`until` to `out`; return how many.

    One snapshot, a page at a time, so a long export neither holds the
    trail in memory nor mixes two states of it.
    """
    where = event_filter(runtime.clock, since=since, until=until)
    runtime.ready()

    count = 0
    with runtime.database.read() as tx:
        audit_chain_rows.snapshot(tx)
        for event in chained_events(tx, where):
            out.write(json_line(event_record(event)))
            count += 1
    return count


def export_file(
    runtime: Runtime, path: Path, since: str | None = None, until: str | None = None
) -> int:
    """`export` into a new private file, published only when complete."""
    with PrivateFile(path) as out:
        count = export(runtime, out, since, until)
        out.publish()
    return count

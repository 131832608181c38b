"""The audit chain: each event bound to the one before it by an HMAC.

Every event gets a place `seq` (1, 2, 3, … without gaps) and

    mac = HMAC-SHA256(chain key, canonical(seq, previous mac, event))

where `canonical` is one line of JSON — an array, so no field can be
confused with another, ASCII-only, no spaces — holding a version tag and
every stored field of the event in a fixed order. The event

    seq 7, previous mac "9f1c…", at "2026-01-01T00:00:00.000000Z",
    actor "os:ana", action "secret.write", tenant-a/odoo v3,
    key names DB_USER and DB_PASSWORD, kid "4be0a1c2", outcome "ok"

is authenticated as

    ["pxs-audit-event-v1",7,"9f1c…","2026-01-01T00:00:00.000000Z",
     "os:ana","secret.write","tenant-a","odoo",3,
     ["DB_PASSWORD","DB_USER"],"4be0a1c2","ok","<request id>",null]

(on one line). The storage id is not covered: it is a surrogate, the
chain position is `seq`. Changing, removing, inserting or reordering an
event breaks the first HMAC or the seq sequence at that place.

The chain key. 32 random bytes made once per store and kept in
`audit_keys`, wrapped by the primary master key exactly like a data key;
`pxs master rotate` re-wraps it with the data keys. Someone with only
the database sees a ciphertext and cannot recompute an HMAC. DESIGN §11
first said "derived from the master key"; a derived key changes with
every master rotation, so once the old master key is removed no event
written before could be verified again, short of re-keying the whole
chain. A wrapped random key keeps one chain verifiable for its life.

Appending. `append` locks the one-row `audit_chain_head` (PostgreSQL:
`SELECT … FOR UPDATE`; SQLite: the lock of `BEGIN IMMEDIATE`), inserts
the events and moves the head: one read, one insert per event and one
update, inside the caller's transaction, so concurrent replicas queue
and never fork the chain. The head also keeps `head_mac`, an HMAC of its
(seq, mac), valid from the moment the chain key is made (seq 0 too):
truncating the tail and rewinding the head then needs a copy of an
older head. A head that fails this check is never silently extended:
the next append first chains an `audit.head-tampered` event, which
`pxs audit verify` reports from then on.

Starting. The key is made, and events from before the chain (schema
0004) are sealed, once, by `services/audit_genesis.py`; it refuses to
make a key for a store whose chain had started. Appending never seals:
an event without seq found later was put there outside Platxa Secrets
and `verify` says so.

The unwrapped key is cached per process (by store URL and master key
ids), so an append costs no key lookup; `verify` always reads it afresh.

What no chain can show: someone who can write the database and who kept
an older copy of the head can cut the newest events, down to an empty
trail if the copy is from before the first event; `verify` catches the
empty trail only while data keys (each made by an audited write) remain.
The copy that catches both lives elsewhere: `pxs audit export` into a
SIEM.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from platxa_secrets.core.crypto.master import MasterKeys
from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import Checkpoint, WrappedChainKey
from platxa_secrets.core.store.audit_rows import AuditEvent
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import ConfigError, CryptoError, StoreError
from platxa_secrets.logs import get_logger
from platxa_secrets.services.runtime import Runtime

HEAD_TAMPERED = "audit.head-tampered"
_CANONICAL = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
_keys: dict[tuple[str, tuple[str, ...]], bytes] = {}
log = get_logger(__name__)


def event_mac(key: bytes, seq: int, prev_mac: str, event: AuditEvent) -> str:
    """The HMAC that places `event` at `seq`, after `prev_mac`."""
    return _mac(
        key,
        [
            "pxs-audit-event-v1",
            seq,
            prev_mac,
            event.at,
            event.actor,
            event.action,
            event.namespace,
            event.name,
            event.version,
            sorted(event.key_names),
            event.kid,
            event.outcome,
            event.request_id,
            event.detail,
        ],
    )


def head_mac(key: bytes, seq: int, mac: str) -> str:
    """The HMAC of the chain head: it ends at `seq` with `mac`."""
    return _mac(key, ["pxs-audit-head-v1", seq, mac])


def checkpoint_mac(key: bytes, checkpoint: Checkpoint) -> str:
    """The HMAC of a checkpoint over every field but its id and itself."""
    return _mac(
        key,
        [
            "pxs-audit-checkpoint-v1",
            checkpoint.first_seq,
            checkpoint.seq,
            checkpoint.prev_mac,
            checkpoint.mac,
            checkpoint.event_count,
            checkpoint.file_sha256,
            checkpoint.archived_before,
            checkpoint.created_at,
            checkpoint.created_by,
        ],
    )


def same_mac(stored: str | None, expected: str) -> bool:
    """Compare a stored HMAC with the expected one in constant time."""
    return stored is not None and hmac.compare_digest(
        stored.encode("utf-8", "replace"), expected.encode("ascii")
    )


def append(tx: Tx, key: bytes, events: Sequence[AuditEvent]) -> None:
    """Chain `events` after the head, inside the caller's transaction."""
    if not events:
        return

    head = audit_chain_rows.lock_head(tx)
    if head is None:
        raise StoreError(
            "the audit chain head (table audit_chain_head) is missing; it was "
            "deleted outside Platxa Secrets; restore it from a backup"
        )

    seq, mac = head.seq, head.mac
    if not same_mac(head.head_mac, head_mac(key, seq, mac)):
        log.error("audit chain head at seq %s fails its HMAC check", seq)
        marker = AuditEvent(
            at=events[0].at,
            actor=events[0].actor,
            action=HEAD_TAMPERED,
            outcome="error",
            request_id=events[0].request_id,
            detail=f"the chain head (seq {seq}) failed its HMAC check",
        )
        events = [marker, *events]

    for event in events:
        seq += 1
        mac = event_mac(key, seq, mac, event)
        audit_rows.insert(tx, event, seq, mac)

    audit_chain_rows.move_head(tx, seq, mac, head_mac(key, seq, mac))


def chain_key(runtime: Runtime) -> bytes:
    """The chain key of the store, made on first use; cached per process.

    Made only where `services/audit_genesis.py` allows a chain to start:
    a store whose chain had started but lost its key outside Platxa
    Secrets gets an error, as a new key would vouch for whatever events
    an intruder left behind.
    """
    master = runtime.master_keys
    cache_key = (runtime.database.url, master.ids)
    cached = _keys.get(cache_key)
    if cached is not None:
        return cached

    runtime.ready()
    with runtime.database.read() as tx:
        stored = audit_chain_rows.chain_key(tx)
    if stored is not None:
        key = unwrap_chain_key(master, stored)
    else:
        from platxa_secrets.services.audit_genesis import start

        key = start(runtime).key
    _keys[cache_key] = key
    return key


def load_chain_key(runtime: Runtime, tx: Tx) -> bytes | None:
    """The chain key as stored now (no cache), or None if there is none."""
    stored = audit_chain_rows.chain_key(tx)
    return unwrap_chain_key(runtime.master_keys, stored) if stored else None


def unwrap_chain_key(master: MasterKeys, stored: WrappedChainKey) -> bytes:
    """Decrypt the chain key; the error names the master key it needs."""
    if stored.master_kid not in master.ids:
        raise ConfigError(
            f"the audit chain key is wrapped by master key {stored.master_kid}, "
            f"which is not among the configured master keys "
            f"({', '.join(master.ids)}); supply it as a secondary key in "
            f"{master.source}",
            kid=stored.master_kid,
        )
    try:
        return master.unwrap(stored.master_kid, stored.wrapped_key, "audit-chain")
    except CryptoError:
        raise CryptoError(
            f"the audit chain key does not decrypt under master key "
            f"{stored.master_kid}: the row in audit_keys is damaged",
            kid=stored.master_kid,
        ) from None


def rewrap_chain_key(tx: Tx, master: MasterKeys) -> bool:
    """Re-wrap the chain key under the primary master key, if needed."""
    stored = audit_chain_rows.chain_key(tx)
    if stored is None or stored.master_kid == master.primary_id:
        return False

    master_kid, wrapped = master.wrap(unwrap_chain_key(master, stored))
    audit_chain_rows.rewrap_chain_key(tx, stored.id, master_kid, wrapped)
    return True


def _mac(key: bytes, fields: list[Any]) -> str:
    body = _CANONICAL.encode(fields).encode("ascii")
    return _keyed(key).copy_with(body)


class _KeyedMac:
    """HMAC-SHA256 with the key schedule done once, not once per event."""

    def __init__(self, key: bytes) -> None:
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def copy_with(self, body: bytes) -> str:
        mac = self._base.copy()
        mac.update(body)
        return mac.hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> _KeyedMac:
    return _KeyedMac(key)

"""The start of the audit chain: its key is made once, in one of two states.

The chain starts when its key is made, in one transaction that also
signs the head at seq 0, so the head carries a valid `head_mac` from the
first moment on. A store may start its chain in two states only:

fresh   nothing in it yet: no data key, no event, no checkpoint, the head
        as migration 0004 made it. A new store gets here through the
        first audited write of `pxs init` (`keys.create`).
legacy  migration 0004 found events or data keys from before the chain
        and marked the head with the number of events and the highest
        id. The start seals exactly those events, as seq 1…n in id
        order, chains an `audit.seal` event after them and clears the
        mark. Over data keys only `pxs init` starts it, never another
        write: an operator asked for it.

In every other state the key is missing from a store whose chain had
started, or the store was changed by hand. A new key would vouch for
what an intruder left behind (a forged event given a place, a trail
emptied and begun again), so none is made and the error says what was
found. Once the key exists nothing is sealed again: an event without a
seq is tampering that `verify` names, and a head failing its HMAC (at
seq 0 too) is marked by the next append.

What no check here can tell apart: someone who can rewrite the database,
and who deletes the key, resets the head, strips every event of its
place, drops the checkpoints and writes a matching mark, makes the store
look as migration 0004 left it. `verify` and every write report the
missing key at each step before `pxs init` seals it; an exported copy
(`pxs audit export`) shows what the trail really held.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import ChainHead, LegacyMarker
from platxa_secrets.core.store.audit_rows import AuditEvent, EventTally
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import StoreError
from platxa_secrets.logs import get_logger
from platxa_secrets.services.audit_chain import (
    append,
    event_mac,
    head_mac,
    unwrap_chain_key,
)
from platxa_secrets.services.runtime import Runtime

FRESH = "fresh"
LEGACY = "legacy"
AWAITS_INIT = "awaits init"
LEGACY_CHANGED = "legacy changed"
KEY_LOST = "key lost"
HEAD_LOST = "head lost"
SEALED = "audit.seal"
_SEAL_PAGE = 1000
log = get_logger(__name__)


@dataclass(frozen=True)
class Started:
    """The chain key, and how many events from before it this start sealed."""

    key: bytes
    sealed: int

    def __repr__(self) -> str:
        return f"Started(sealed={self.sealed})"


@dataclass(frozen=True)
class Keyless:
    """What a store without a chain key holds, read in one transaction."""

    head: ChainHead | None
    legacy: LegacyMarker | None
    tally: EventTally
    checkpoints: int
    data_keys: int

    @property
    def untouched_head(self) -> bool:
        """The head as migration 0004 made it, never signed."""
        head = self.head
        return head is not None and (head.seq, head.mac, head.head_mac) == (0, "", None)

    def describe(self) -> str:
        """The store's contents, for a message that says what was found."""
        parts = [f"{self.data_keys} data key(s)", f"{self.tally.events} audit event(s)"]
        if self.tally.chained:
            parts[-1] += f" ({self.tally.chained} with a place in the chain)"
        if self.checkpoints:
            parts.append(f"{self.checkpoints} archive checkpoint(s)")
        if self.head is not None and not self.untouched_head:
            signed = "signed" if self.head.head_mac else "unsigned"
            parts.append(f"a {signed} chain head at seq {self.head.seq}")
        return ", ".join(parts)


def read_keyless(tx: Tx) -> Keyless:
    """Count what a store without a chain key holds: a few small queries."""
    return Keyless(
        head=audit_chain_rows.read_head(tx),
        legacy=audit_chain_rows.legacy_marker(tx),
        tally=audit_rows.tally(tx),
        checkpoints=audit_chain_rows.count_checkpoints(tx),
        data_keys=audit_chain_rows.count_data_keys(tx),
    )


def assess(store: Keyless, by_init: bool) -> tuple[str, str]:
    """Which state a keyless store is in, and what to tell the operator."""
    if store.head is None:
        return HEAD_LOST, (
            "the audit chain head (table audit_chain_head) is missing; it was "
            "deleted outside Platxa Secrets; restore it from a backup"
        )

    empty = store.tally.events == 0 and store.checkpoints == 0
    if store.untouched_head and empty and not store.data_keys and not store.legacy:
        return FRESH, "the audit chain has not started; the store is empty"

    marker = store.legacy
    as_migrated = not store.tally.chained and not store.checkpoints
    if marker is None or not (store.untouched_head and as_migrated):
        return KEY_LOST, (
            f"the audit chain key (table audit_keys) is missing, yet the store "
            f"holds {store.describe()}: the chain had started and its key was "
            "deleted outside Platxa Secrets, or the store was changed by hand; "
            "no new key is made, as it would vouch for events nobody can check; "
            "restore audit_keys from a backup"
        )

    found = (store.tally.unchained, store.tally.last_unchained_id or 0)
    if found != (marker.events, marker.last_id):
        return LEGACY_CHANGED, (
            f"migration 0004 found {marker.events} audit event(s) from before "
            f"the chain, ids up to {marker.last_id}, but {found[0]} event(s) "
            f"without a place are there now, ids up to {found[1]}: events were "
            "added or removed outside Platxa Secrets since the upgrade; nothing "
            "is sealed and no chain key is made; restore the store from a backup"
        )

    waiting = (
        f"the audit chain has not started: migration 0004 found "
        f"{marker.events} audit event(s) from before the chain (ids up to "
        f"{marker.last_id}) and {store.data_keys} data key(s)"
    )
    if store.data_keys and not by_init:
        return AWAITS_INIT, (
            f"{waiting}; only `pxs init`, which upgrades a store, seals them "
            "and starts the chain. A store whose chain had started looks like "
            "this only if its key, head, events and checkpoints were all reset "
            "outside Platxa Secrets"
        )
    return LEGACY, f"{waiting}; the chain's start seals them, once"


def start(runtime: Runtime, *, by_init: bool = False) -> Started:
    """The chain key, made now if the store may start its chain.

    `by_init` is for `pxs init` alone: it may seal the events of a store
    from before the chain that has data keys. Raises `StoreError` naming
    what was found when the store may not start a chain.
    """
    master = runtime.master_keys

    def work(tx: Tx) -> Started:
        audit_chain_rows.lock_head(tx)
        stored = audit_chain_rows.chain_key(tx)
        if stored is not None:
            return Started(unwrap_chain_key(master, stored), 0)

        store = read_keyless(tx)
        state, message = assess(store, by_init)
        if state not in (FRESH, LEGACY):
            raise StoreError(message)

        key = secrets.token_bytes(32)
        master_kid, wrapped = master.wrap(key)
        audit_chain_rows.insert_chain_key(tx, master_kid, wrapped, runtime.now())
        log.info("started the audit chain, key wrapped by master key %s", master_kid)

        marker = store.legacy
        seq, mac = _seal(tx, key, marker.last_id) if marker else (0, "")
        audit_chain_rows.move_head(tx, seq, mac, head_mac(key, seq, mac))
        if state == LEGACY:
            audit_chain_rows.clear_legacy_marker(tx)
            append(tx, key, [_seal_event(runtime, seq)])
            log.warning("sealed %s audit event(s) from before the chain", seq)
        return Started(key, seq)

    return runtime.database.write(work)


def _seal(tx: Tx, key: bytes, last_id: int) -> tuple[int, str]:
    """Give the events from before the chain seq 1…n; return the new end.

    Only ids up to the one migration 0004 recorded: an event slipped in
    since, even between the check and this walk, stays without a place.
    """
    seq, mac, after = 0, "", 0
    while page := [
        event
        for event in audit_rows.unchained_page(tx, after, _SEAL_PAGE)
        if event.id is not None and event.id <= last_id
    ]:
        placed = []
        for event in page:
            assert event.id is not None
            seq += 1
            mac = event_mac(key, seq, mac, event)
            placed.append((event.id, seq, mac))
            after = event.id
        audit_rows.seal(tx, placed)
    return seq, mac


def _seal_event(runtime: Runtime, sealed: int) -> AuditEvent:
    return AuditEvent(
        at=runtime.now(),
        actor=runtime.actor,
        action=SEALED,
        outcome="ok",
        request_id=runtime.request_id,
        detail=f"{sealed} event(s) from before the chain sealed",
    )

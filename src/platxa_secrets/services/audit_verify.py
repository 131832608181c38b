"""`pxs audit verify`: walk the chain and name the first place it breaks.

The store is walked from the newest checkpoint (or from seq 1) in seq
order, a page at a time, inside one snapshot, by a `ChainWalk`
(`services/audit_walk.py`). After the last event, the head row must
name the same seq and mac and match its own HMAC (at seq 0 too), which
catches a cut-off tail; every checkpoint must match its HMAC and follow
the one before it; no event may be left without a place; and an empty
chain in a store that has data keys was emptied.

A store without a chain key is judged by `services/audit_genesis.py`:
empty (nothing to verify), upgraded and waiting to seal its old events,
or a store whose key went missing, which is reported, never excused.

The first problem stops the walk. Its `reason` is one of the constants
of `services/audit_walk.py`, re-exported here; its `seq` and `id` say
where.
"""

from __future__ import annotations

from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import ChainHead, Checkpoint
from platxa_secrets.core.store.db import Tx
from platxa_secrets.logs import get_logger
from platxa_secrets.services.audit_chain import head_mac, load_chain_key, same_mac
from platxa_secrets.services.audit_export import chained_events
from platxa_secrets.services.audit_genesis import (
    AWAITS_INIT,
    FRESH,
    HEAD_LOST,
    LEGACY,
    LEGACY_CHANGED,
    assess,
    read_keyless,
)
from platxa_secrets.services.audit_walk import (
    ARCHIVED_RANGE,
    BEYOND_HEAD,
    CHECKPOINT_INVALID,
    FILE_CHANGED,
    GAP,
    HEAD_INVALID,
    KEY_MISSING,
    LINK_BROKEN,
    MAC_MISMATCH,
    OUT_OF_ORDER,
    TRUNCATED,
    UNCHAINED,
    UNSEALED,
    AuditChainBroken,
    ChainProblem,
    ChainReport,
    ChainWalk,
    check_checkpoints,
)
from platxa_secrets.services.runtime import Runtime

__all__ = [
    "ARCHIVED_RANGE",
    "BEYOND_HEAD",
    "CHECKPOINT_INVALID",
    "FILE_CHANGED",
    "GAP",
    "HEAD_INVALID",
    "KEY_MISSING",
    "LINK_BROKEN",
    "MAC_MISMATCH",
    "OUT_OF_ORDER",
    "TRUNCATED",
    "UNCHAINED",
    "UNSEALED",
    "AuditChainBroken",
    "ChainProblem",
    "ChainReport",
    "verify_store",
]
_PROGRESS_EVERY = 100_000
log = get_logger(__name__)


def verify_store(runtime: Runtime) -> ChainReport:
    """Walk the whole chain of the store; see the module docstring."""
    runtime.ready()
    with runtime.database.read() as tx:
        audit_chain_rows.snapshot(tx)
        report = _verify(runtime, tx)

    if report.ok:
        log.info("audit chain intact: %s event(s) verified", report.verified)
    else:
        assert report.problem is not None
        log.info("audit chain broken: %s", report.problem.message)
    return report


def _verify(runtime: Runtime, tx: Tx) -> ChainReport:
    source = runtime.database.display_url
    key = load_chain_key(runtime, tx)
    head = audit_chain_rows.read_head(tx)
    if key is None or head is None:
        return ChainReport(source, 0, None, 0, None, _without_key(tx))

    checkpoints = audit_chain_rows.checkpoints(tx)
    base = checkpoints[-1] if checkpoints else None
    walk = ChainWalk(key, base.seq if base else 0, base.mac if base else "")

    def report(problem: ChainProblem | None) -> ChainReport:
        cut = base.seq if base else None
        return ChainReport(source, walk.count, walk.first, walk.seq, cut, problem)

    problem = check_checkpoints(key, checkpoints)
    if problem is None and base is not None:
        stray = audit_rows.first_at_or_below(tx, base.seq)
        if stray is not None:
            problem = ChainProblem(
                ARCHIVED_RANGE,
                f"event seq {stray.seq} (id {stray.id}) lies in the range "
                f"archived up to seq {base.seq}",
                stray.seq,
                stray.id,
            )
    if problem is not None:
        return report(problem)

    for event in chained_events(tx, after=walk.seq):
        problem = walk.step(event)
        if problem is not None:
            return report(problem)
        if walk.count % _PROGRESS_EVERY == 0:
            log.info("verified %s audit event(s)", walk.count)

    problem = _check_unchained(tx) or _check_head(key, head, walk)
    return report(problem or _check_emptied(tx, head, base))


def _without_key(tx: Tx) -> ChainProblem | None:
    """A store with no chain key or no head: empty, upgraded, or damaged."""
    store = read_keyless(tx)
    state, message = assess(store, by_init=False)
    if state == FRESH:
        return None

    first = audit_rows.unchained_page(tx, 0, 1)
    where = first[0].id if first else None
    if state == HEAD_LOST:
        return ChainProblem(HEAD_INVALID, message)
    if state == LEGACY_CHANGED:
        return ChainProblem(UNCHAINED, message, None, where)
    if state in (LEGACY, AWAITS_INIT):
        return ChainProblem(UNSEALED, message, None, where)
    return ChainProblem(KEY_MISSING, message)


def _check_unchained(tx: Tx) -> ChainProblem | None:
    """Events without a seq, in a store whose chain has started: forged.

    Sealing happens only as the chain starts; an event without a place
    after that was inserted, or stripped of its place, by hand.
    """
    unchained = audit_rows.unchained_page(tx, 0, 1)
    if not unchained:
        return None
    count = audit_rows.count_unchained(tx)
    return ChainProblem(
        UNCHAINED,
        f"{count} event(s) have no place in the chain, the first id "
        f"{unchained[0].id}: they were inserted, or stripped of their place, "
        "outside Platxa Secrets",
        None,
        unchained[0].id,
    )


def _check_head(key: bytes, head: ChainHead, walk: ChainWalk) -> ChainProblem | None:
    """The head names the last event, and matches its own HMAC."""
    if head.seq > walk.seq:
        return ChainProblem(
            TRUNCATED,
            f"the chain head is at seq {head.seq} but the last event is seq "
            f"{walk.seq}: events {walk.seq + 1}…{head.seq} were removed",
            walk.seq + 1,
        )
    if head.seq < walk.seq:
        return ChainProblem(
            BEYOND_HEAD,
            f"events after seq {head.seq} lie beyond the chain head: they were "
            "added outside Platxa Secrets",
            head.seq + 1,
        )
    if head.mac != walk.mac:
        return ChainProblem(
            LINK_BROKEN,
            f"the chain head's mac for seq {head.seq} is not the event's",
            head.seq,
        )
    if not same_mac(head.head_mac, head_mac(key, head.seq, head.mac)):
        return ChainProblem(
            HEAD_INVALID,
            f"the chain head (seq {head.seq}) does not match its HMAC: it was "
            "reset or changed outside Platxa Secrets",
            head.seq,
        )
    return None


def _check_emptied(
    tx: Tx, head: ChainHead, base: Checkpoint | None
) -> ChainProblem | None:
    """An empty chain in a store with data keys was emptied and rewound.

    Each data key is made by an audited write, so its event is in the
    chain (or in an archive, which leaves a checkpoint) for good.
    """
    if head.seq > 0 or base is not None:
        return None
    data_keys = audit_chain_rows.count_data_keys(tx)
    if not data_keys:
        return None
    return ChainProblem(
        TRUNCATED,
        f"the audit chain is empty, yet the store holds {data_keys} data "
        "key(s), each made by an audited write: the events were removed and "
        "the head restored from a copy made before the first of them",
        1,
    )

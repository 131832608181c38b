"""`pxs audit verify`: walk the chain and name the first place it breaks.

The store is walked from the newest checkpoint (or from seq 1) in seq
order, a page at a time, inside one snapshot. Each event must carry the
next seq and the HMAC that links it to the event before (see
`services/audit_chain.py`). After the last event, the head row must
name the same seq and mac, which catches a cut-off tail; every
checkpoint must match its HMAC and follow the one before it.

`services/audit_archive.py` walks an archive file with the same
`ChainWalk`, from the `prev_mac` of the checkpoint on its last line.

The first problem stops the walk. Its `reason` is one of the constants
below; its `seq` and `id` say where.
"""

from __future__ import annotations

from dataclasses import dataclass

from platxa_secrets.core.store import audit_chain_rows, audit_rows
from platxa_secrets.core.store.audit_chain_rows import ChainHead, Checkpoint
from platxa_secrets.core.store.audit_rows import AuditEvent
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import CryptoError
from platxa_secrets.logs import get_logger
from platxa_secrets.services.audit_chain import (
    HEAD_TAMPERED,
    checkpoint_mac,
    event_mac,
    head_mac,
    load_chain_key,
    same_mac,
)
from platxa_secrets.services.audit_export import (
    chained_events,
)
from platxa_secrets.services.runtime import Runtime

MAC_MISMATCH = "mac mismatch"
GAP = "gap in seq"
OUT_OF_ORDER = "seq out of order"
LINK_BROKEN = "link broken"
TRUNCATED = "truncated tail"
BEYOND_HEAD = "event beyond head"
UNCHAINED = "unchained event"
UNSEALED = "unsealed events"
HEAD_INVALID = "head invalid"
CHECKPOINT_INVALID = "checkpoint invalid"
ARCHIVED_RANGE = "event in archived range"
FILE_CHANGED = "archive changed"
_PROGRESS_EVERY = 100_000
log = get_logger(__name__)


class AuditChainBroken(CryptoError):
    """The audit chain fails a check; `seq`, `id` and `reason` say where."""

    reason: str
    seq: int | None
    id: int | None


@dataclass(frozen=True)
class ChainProblem:
    """The first place the chain breaks and what broke there."""

    reason: str
    message: str
    seq: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class ChainReport:
    """What a verification walked and the first problem it met."""

    source: str
    verified: int
    first_seq: int | None
    last_seq: int | None
    checkpoint_seq: int | None
    problem: ChainProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def raise_if_broken(self) -> None:
        if self.problem is not None:
            raise AuditChainBroken(
                f"audit chain of {self.source} is broken: {self.problem.message}",
                reason=self.problem.reason,
                seq=self.problem.seq,
                id=self.problem.id,
            )


class ChainWalk:
    """Checks events one at a time, in chain order, from a known link."""

    def __init__(self, key: bytes, seq: int, mac: str) -> None:
        self._key = key
        self.seq = seq
        self.mac = mac
        self.count = 0
        self.first: int | None = None

    def step(self, event: AuditEvent) -> ChainProblem | None:
        """Accept `event` as the next link, or say why it is not."""
        seq = event.seq if event.seq is not None else -1
        where = f"event seq {seq} (id {event.id})"
        if seq <= self.seq:
            return ChainProblem(
                OUT_OF_ORDER, f"{where} comes after seq {self.seq}", seq, event.id
            )
        if seq > self.seq + 1:
            return ChainProblem(
                GAP,
                f"seq {self.seq + 1}…{seq - 1} missing before {where}: events "
                "were removed",
                self.seq + 1,
                event.id,
            )

        if not same_mac(event.mac, event_mac(self._key, seq, self.mac, event)):
            return ChainProblem(
                MAC_MISMATCH,
                f"{where} does not match its HMAC: it was changed, forged or moved",
                seq,
                event.id,
            )
        if event.action == HEAD_TAMPERED:
            return ChainProblem(
                HEAD_INVALID,
                f"{where} records that the chain head had been changed outside "
                "Platxa Secrets before it",
                seq,
                event.id,
            )

        self.seq, self.mac = seq, event.mac or ""
        self.first = seq if self.first is None else self.first
        self.count += 1
        return None


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
    head = audit_chain_rows.read_head(tx)
    key = load_chain_key(runtime, tx)
    if head is None or key is None:
        return _without_key(tx, source, head)

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

    return report(_check_unchained(tx, head, walk) or _check_head(key, head, walk))


def _without_key(tx: Tx, source: str, head: ChainHead | None) -> ChainReport:
    """A store with no chain key or no head: empty, unsealed, or damaged."""
    last = audit_rows.last_chained(tx)
    unchained = audit_rows.unchained_page(tx, 0, 1)
    problem = None
    if head is None:
        problem = ChainProblem(
            HEAD_INVALID, "the chain head (table audit_chain_head) is missing"
        )
    elif last is not None or head.seq > 0:
        problem = ChainProblem(
            HEAD_INVALID,
            "the audit chain key (table audit_keys) is missing while the chain "
            "holds events",
        )
    elif unchained:
        problem = ChainProblem(
            UNSEALED,
            "events from before the chain are not sealed yet; run `pxs init`",
            None,
            unchained[0].id,
        )
    return ChainReport(source, 0, None, 0, None, problem)


def check_checkpoints(key: bytes, checkpoints: list[Checkpoint]) -> ChainProblem | None:
    """Each checkpoint matches its HMAC and follows the one before it."""
    seq, mac = 0, ""
    for checkpoint in checkpoints:
        name = (
            f"checkpoint {checkpoint.id} (seq {checkpoint.first_seq}…{checkpoint.seq})"
        )
        if not same_mac(checkpoint.checkpoint_mac, checkpoint_mac(key, checkpoint)):
            return ChainProblem(
                CHECKPOINT_INVALID,
                f"{name} does not match its HMAC: it was changed or forged",
                checkpoint.seq,
            )
        count = checkpoint.seq - checkpoint.first_seq + 1
        if (checkpoint.first_seq, checkpoint.prev_mac) != (seq + 1, mac) or (
            checkpoint.event_count != count
        ):
            return ChainProblem(
                CHECKPOINT_INVALID,
                f"{name} does not follow the checkpoint before it (ending at seq "
                f"{seq}): a checkpoint was removed",
                checkpoint.first_seq,
            )
        seq, mac = checkpoint.seq, checkpoint.mac
    return None


def _check_unchained(tx: Tx, head: ChainHead, walk: ChainWalk) -> ChainProblem | None:
    """Events without a seq: unsealed legacy, or put there by hand."""
    unchained = audit_rows.unchained_page(tx, 0, 1)
    if not unchained:
        return None
    if head.seq == 0 and walk.seq == 0:
        return ChainProblem(
            UNSEALED,
            "events from before the chain are not sealed yet; run `pxs init`",
            None,
            unchained[0].id,
        )
    return ChainProblem(
        UNCHAINED,
        f"event id {unchained[0].id} has no place in the chain: it was inserted "
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
    if head.seq > 0 and not same_mac(head.head_mac, head_mac(key, head.seq, head.mac)):
        return ChainProblem(
            HEAD_INVALID, "the chain head does not match its HMAC", head.seq
        )
    return None

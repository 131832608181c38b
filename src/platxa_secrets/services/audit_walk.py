"""One link at a time: `ChainWalk` and the problems it names.

A walk starts from a known link (seq and mac: 0 and "" for the start of
the chain, or a checkpoint's end) and takes events in chain order. Each
must carry the next seq and the HMAC that binds it to the link before
(see `services/audit_chain.py`); an `audit.head-tampered` event stops it
too. The store (`services/audit_verify.py`) and an archive file
(`services/audit_archive_check.py`) are walked alike.

Every problem has a `reason`, one of the constants below, and says
where: `seq` and `id` of the event, when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from platxa_secrets.core.store.audit_chain_rows import Checkpoint
from platxa_secrets.core.store.audit_rows import AuditEvent
from platxa_secrets.errors import CryptoError
from platxa_secrets.services.audit_chain import (
    HEAD_TAMPERED,
    checkpoint_mac,
    event_mac,
    same_mac,
)

MAC_MISMATCH = "mac mismatch"
GAP = "gap in seq"
OUT_OF_ORDER = "seq out of order"
LINK_BROKEN = "link broken"
TRUNCATED = "truncated tail"
BEYOND_HEAD = "event beyond head"
UNCHAINED = "unchained event"
UNSEALED = "unsealed events"
KEY_MISSING = "chain key missing"
HEAD_INVALID = "head invalid"
CHECKPOINT_INVALID = "checkpoint invalid"
ARCHIVED_RANGE = "event in archived range"
FILE_CHANGED = "archive changed"


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

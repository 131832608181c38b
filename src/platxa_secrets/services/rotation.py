"""The data key lifecycle: rotate, activate, retire, destroy.

    pending ──grace period──▶ active ──newer key active──▶ retired
                                                             │
                         retention over and no ciphertext ───▶ destroyed

A new key is *pending* first: every replica reloads its keyring more
often than the grace period, so by the time the key becomes *active*
(the only state that encrypts) every replica can already decrypt what it
writes. Activation retires the previous active key in the same
transaction; the database allows one active key at most. A retired key
still decrypts until re-encryption has moved its ciphertexts away and
its retention is over; then `maintain` destroys it, erasing its wrapped
key material. Destroying a key that any ciphertext still uses is refused
unless the operator asks for crypto-shredding by naming the key.

Every transition records when and by whom, and writes an audit event.
All of it takes the runtime's clock, so tests move time instead of
sleeping.
"""

from __future__ import annotations

import secrets as _secrets
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.fernet import Fernet

from platxa_secrets.clock import from_text, to_text
from platxa_secrets.core.crypto.keyring import (
    ACTIVE,
    DESTROYED,
    ORIGIN_GENERATED,
    PENDING,
    RETIRED,
    KeyRecord,
)
from platxa_secrets.core.store import key_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import ConflictError, NotFoundError, ValidationError
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime


@dataclass(frozen=True)
class MaintenanceReport:
    """What one `maintain` run did."""

    activated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    reencrypted: int = 0
    failed: int = 0
    waiting: list[str] = field(default_factory=list)


class _AlreadyMoved(ConflictError):
    """Another replica activated the key first; nothing to do."""

    def __init__(self) -> None:
        super().__init__("the key was activated by another process")


class RotationService:
    """Moves data keys through their lifecycle."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)

    def rotate(self, activate_after: timedelta | None = None) -> KeyRecord:
        """Create a pending key that becomes active after the grace period.

        A shorter wait than the keyring refresh interval is refused: a
        replica could then meet ciphertext under a key it has not loaded.
        """
        grace = self._runtime.config.grace_period
        wait = grace if activate_after is None else activate_after
        refresh = self._runtime.config.keyring_refresh
        if wait < timedelta(0):
            raise ValidationError("--activate-after must not be negative")
        if timedelta(0) < wait < refresh:
            raise ValidationError(
                f"--activate-after must be at least the keyring refresh interval "
                f"({refresh}) so every replica learns the key first, or 0 for a "
                "single process",
                field="activate_after",
            )
        self._runtime.ready()

        def work(tx: Tx, outcome: Outcome) -> KeyRecord:
            pending = [r.kid for r in key_rows.load_keys(tx) if r.state == PENDING]
            if pending:
                raise ConflictError(
                    f"key {pending[0]} is still pending; a new rotation starts "
                    "after it is active (`pxs keys maintain` activates it when due, "
                    f"`pxs keys activate {pending[0]}` does it now)",
                    kid=pending[0],
                )
            now = self._runtime.clock.now()
            master_kid, wrapped = self._runtime.master_keys.wrap(Fernet.generate_key())
            record = KeyRecord(
                kid=_secrets.token_hex(4),
                state=PENDING,
                origin=ORIGIN_GENERATED,
                master_kid=master_kid,
                wrapped_key=wrapped,
                created_at=to_text(now),
                created_by=self._runtime.actor,
                activates_at=to_text(now + wait),
            )
            key_rows.insert_key(tx, record)
            outcome.kid = record.kid
            outcome.detail = f"activates at {record.activates_at}"
            return record

        record = self._audit.run("keys.rotate", None, None, work)
        self._runtime.forget_keyring()
        return record

    def activate_due(self) -> tuple[list[str], list[str]]:
        """Activate the pending key if its time has come; retire the old one.

        Returns (activated, retired) key ids; both empty when nothing was
        due or another replica got there first.
        """
        self._runtime.ready()
        now = self._runtime.now()
        due = [
            r
            for r in self._records()
            if r.state == PENDING and r.activates_at and r.activates_at <= now
        ]
        if not due:
            return [], []
        return self._promote(due[0].kid, now, quiet_if_moved=True)

    def activate(self, kid: str) -> None:
        """Activate a pending key now, before its grace period is over."""
        record = self._find(kid)
        if record.state != PENDING:
            raise ConflictError(
                f"key {kid} is {record.state}; only a pending key can be activated",
                kid=kid,
            )
        self._promote(kid, self._runtime.now(), quiet_if_moved=False)

    def _promote(
        self, kid: str, now: str, quiet_if_moved: bool
    ) -> tuple[list[str], list[str]]:
        """Make pending `kid` active and retire the active key, in one step.

        Both updates are compare-and-set on the key's state, so a replica
        that lost the race changes nothing (and says so unless quiet).
        """

        def work(tx: Tx, outcome: Outcome) -> tuple[list[str], list[str]]:
            actor = self._runtime.actor
            records = key_rows.load_keys(tx)
            if quiet_if_moved and not any(
                r.kid == kid and r.state == PENDING for r in records
            ):
                outcome.detail = f"key {kid} was activated by another process"
                return [], []
            retired = [r.kid for r in records if r.state == ACTIVE]
            for old in retired:
                key_rows.update_key(
                    tx, old, ACTIVE, state=RETIRED, retired_at=now, retired_by=actor
                )
            promoted = key_rows.update_key(
                tx, kid, PENDING, state=ACTIVE, activated_at=now, activated_by=actor
            )
            if not promoted and quiet_if_moved:
                raise _AlreadyMoved
            if not promoted:
                raise ConflictError(f"key {kid} changed state meanwhile", kid=kid)
            outcome.kid = kid
            outcome.detail = f"retired {','.join(retired) or 'none'}"
            return [kid], retired

        try:
            result = self._audit.run("keys.activate", None, None, work)
        except _AlreadyMoved:
            return [], []
        self._runtime.forget_keyring()
        return result

    def destroy(self, kid: str, shred: bool = False) -> None:
        """Destroy a retired key; refused while ciphertext uses it.

        With `shred`, the key is destroyed even though ciphertexts use it:
        those values become unreadable for good (crypto-shredding).
        """
        record = self._find(kid)
        if record.state in (ACTIVE, PENDING):
            raise ConflictError(
                f"key {kid} is {record.state}; only a retired key can be destroyed",
                kid=kid,
            )
        if record.state == DESTROYED:
            raise ConflictError(f"key {kid} is already destroyed", kid=kid)

        def work(tx: Tx, outcome: Outcome) -> None:
            uses = key_rows.uses_of(tx, kid)
            if uses and not shred:
                raise ConflictError(
                    f"key {kid} still encrypts {uses} ciphertext(s); run `pxs keys "
                    f"reencrypt` first, or crypto-shred them with `pxs keys destroy "
                    f"{kid} --shred {kid}`",
                    kid=kid,
                )
            self._erase(tx, kid)
            outcome.kid = kid
            outcome.detail = f"shredded {uses} ciphertext(s)" if uses else None

        self._audit.run("keys.destroy", None, None, work)
        self._runtime.forget_keyring()

    def destroy_due(self) -> tuple[list[str], list[str]]:
        """Destroy retired keys past retention with no ciphertext left.

        Returns (destroyed, waiting): waiting keys are past retention but
        still in use, which re-encryption will change.
        """
        self._runtime.ready()
        now = self._runtime.clock.now()
        retention = self._runtime.config.key_retention
        due = [
            r
            for r in self._records()
            if r.state == RETIRED
            and r.retired_at
            and from_text(r.retired_at) + retention <= now
        ]
        destroyed: list[str] = []
        waiting: list[str] = []
        for record in due:

            def work(tx: Tx, outcome: Outcome, kid: str = record.kid) -> bool:
                if key_rows.uses_of(tx, kid):
                    return False
                self._erase(tx, kid)
                outcome.kid = kid
                outcome.detail = "retention over, no ciphertext left"
                return True

            done = self._audit.run("keys.destroy", None, None, work)
            (destroyed if done else waiting).append(record.kid)
        if destroyed:
            self._runtime.forget_keyring()
        return destroyed, waiting

    def _erase(self, tx: Tx, kid: str) -> None:
        if not key_rows.update_key(
            tx,
            kid,
            RETIRED,
            state=DESTROYED,
            wrapped_key="",
            destroyed_at=self._runtime.now(),
            destroyed_by=self._runtime.actor,
        ):
            raise ConflictError(f"key {kid} changed state meanwhile", kid=kid)

    def _records(self) -> list[KeyRecord]:
        with self._runtime.database.read() as tx:
            return key_rows.load_keys(tx)

    def _find(self, kid: str) -> KeyRecord:
        self._runtime.ready()
        for record in self._records():
            if record.kid == kid:
                return record
        raise NotFoundError(f"no data key with id {kid!r}", kid=kid)

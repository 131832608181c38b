"""Data keys: create the first one, list them, import legacy keys.

The full lifecycle (rotation with a grace period, retirement,
destruction) builds on the same rows; see DESIGN §4.
"""

from __future__ import annotations

import builtins
import secrets as _secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet

from platxa_secrets.core.crypto.fernet_keys import key_id, parse_legacy_keys
from platxa_secrets.core.crypto.keyring import (
    ACTIVE,
    DESTROYED,
    ORIGIN_GENERATED,
    ORIGIN_LEGACY,
    RETIRED,
    KeyRecord,
)
from platxa_secrets.core.store import key_rows
from platxa_secrets.core.store.db import Tx
from platxa_secrets.services import audit_chain
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime


@dataclass(frozen=True)
class KeyInfo:
    """A data key as shown to operators: no key material."""

    kid: str
    state: str
    origin: str
    master_kid: str
    created_at: str
    activates_at: str | None
    activated_at: str | None
    retired_at: str | None
    ciphertexts: int


class KeyService:
    """Operations on the data keys of the keyring."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)

    def ensure_active(self) -> str | None:
        """Create and activate a first data key if there is none.

        Returns the new key id, or None when an active key existed.
        """
        with self._runtime.database.read() as tx:
            if any(r.state == ACTIVE for r in key_rows.load_keys(tx)):
                return None

        def work(tx: Tx, outcome: Outcome) -> str | None:
            if any(r.state == ACTIVE for r in key_rows.load_keys(tx)):
                return None
            record = self._new_record(ACTIVE, ORIGIN_GENERATED, Fernet.generate_key())
            key_rows.insert_key(tx, record)
            outcome.kid = record.kid
            return record.kid

        kid = self._audit.run("keys.create", None, None, work)
        self._runtime.forget_keyring()
        return kid

    def list(self) -> builtins.list[KeyInfo]:
        self._runtime.ready()
        with self._runtime.database.read() as tx:
            records = key_rows.load_keys(tx)
            counts = key_rows.census(tx)
        return [
            KeyInfo(
                r.kid,
                r.state,
                r.origin,
                r.master_kid,
                r.created_at,
                r.activates_at,
                r.activated_at,
                r.retired_at,
                counts.get(r.kid, 0),
            )
            for r in records
        ]

    def census(self) -> dict[str | None, int]:
        """Ciphertexts per key id (`None`: legacy bare tokens)."""
        self._runtime.ready()
        with self._runtime.database.read() as tx:
            return key_rows.census(tx)

    def rewrap_under_primary(self) -> builtins.list[str]:
        """Re-wrap every data key, and the audit chain key, under the primary.

        Run after putting a new master key first in the chain (the old one
        second): until every data key is re-wrapped the old master key is
        still needed, afterwards it can be removed.
        """
        master = self._runtime.master_keys
        self._runtime.ready()

        def work(tx: Tx, outcome: Outcome) -> builtins.list[str]:
            moved = []
            for record in key_rows.load_keys(tx):
                if record.state == DESTROYED or record.master_kid == master.primary_id:
                    continue
                key = master.unwrap(record.master_kid, record.wrapped_key, record.kid)
                master_kid, wrapped = master.wrap(key)
                key_rows.update_key(
                    tx,
                    record.kid,
                    record.state,
                    master_kid=master_kid,
                    wrapped_key=wrapped,
                )
                moved.append(record.kid)
            chain = audit_chain.rewrap_chain_key(tx, master)
            also = " and the audit chain key" if chain else ""
            outcome.detail = (
                f"{len(moved)} data key(s){also} re-wrapped under {master.primary_id}"
            )
            return moved

        moved = self._audit.run("master.rotate", None, None, work)
        self._runtime.forget_keyring()
        return moved

    def import_legacy(
        self, lines: builtins.list[str], source: str
    ) -> builtins.list[str]:
        """Store legacy keys as decrypt-only (retired) data keys.

        Each line is a Fernet key or a raw string older code derived one
        from. A key already in the keyring is not added twice.
        """
        keys = parse_legacy_keys(lines, source)

        def work(tx: Tx, outcome: Outcome) -> builtins.list[str]:
            known = {r.kid for r in key_rows.load_keys(tx)}
            added = []
            for key in keys:
                record = self._new_record(RETIRED, ORIGIN_LEGACY, key, legacy=True)
                if record.kid not in known:
                    key_rows.insert_key(tx, record)
                    known.add(record.kid)
                    added.append(record.kid)
            outcome.detail = f"{len(added)} legacy key(s) imported"
            return added

        added = self._audit.run("keys.import-legacy", None, None, work)
        self._runtime.forget_keyring()
        return added

    def _new_record(
        self, state: str, origin: str, key: bytes, legacy: bool = False
    ) -> KeyRecord:
        """Wrap `key` under the primary master key into a new row.

        Generated keys get a random id; legacy keys an id derived from the
        key, so importing the same legacy key twice is detected.
        """
        master_kid, wrapped = self._runtime.master_keys.wrap(key)
        now = self._runtime.now()
        kid = key_id(key) if legacy else _secrets.token_hex(4)
        return KeyRecord(
            kid=kid,
            state=state,
            origin=origin,
            master_kid=master_kid,
            wrapped_key=wrapped,
            created_at=now,
            created_by=self._runtime.actor,
            activated_at=now if state == ACTIVE else None,
            retired_at=now if state == RETIRED else None,
        )

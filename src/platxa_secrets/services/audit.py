"""The audit trail: one event per operation, never a value.

`AuditLog.run` wraps an operation: on success the event is written in the
same transaction as the change, so there is no change without its event;
on failure the change is rolled back and the failure is recorded in a
transaction of its own. Events carry names, versions and key ids only.

Every event is chained: its place and HMAC are set by
`services/audit_chain.py` in the transaction that writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from platxa_secrets.core.store import audit_rows
from platxa_secrets.core.store.audit_rows import AuditEvent
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import PlatxaSecretsError, ValidationError
from platxa_secrets.logs import get_logger
from platxa_secrets.services import audit_chain
from platxa_secrets.services.audit_query import event_filter
from platxa_secrets.services.runtime import Runtime

T = TypeVar("T")
log = get_logger(__name__)


@dataclass
class Outcome:
    """What an operation fills in for its event while it runs."""

    version: int | None = None
    key_names: Iterable[str] = field(default_factory=tuple)
    kid: str | None = None
    detail: str | None = None
    children: list[Outcome] = field(default_factory=list)
    namespace: str | None = None
    name: str | None = None


class AuditLog:
    """Records and lists audit events."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def run(
        self,
        action: str,
        namespace: str | None,
        name: str | None,
        work: Callable[[Tx, Outcome], T],
    ) -> T:
        """Run `work` in a write transaction and record its event."""
        outcome = Outcome()
        base = self._event(action, namespace, name)

        def transaction(tx: Tx) -> T:
            outcome.children.clear()
            result = work(tx, outcome)
            events = [_filled(base, outcome, "ok")]
            for child in outcome.children:
                event = replace(base, namespace=child.namespace, name=child.name)
                events.append(_filled(event, child, "ok"))
            audit_chain.append(tx, key, events)
            return result

        try:
            key = audit_chain.chain_key(self._runtime)
            result = self._runtime.database.write(transaction)
        except PlatxaSecretsError as exc:
            self._record_failure(
                replace(_filled(base, outcome, "error"), detail=exc.message)
            )
            log.info("%s %s failed: %s", action, _target(namespace, name), exc.message)
            raise

        log.info(
            "%s %s%s%s",
            action,
            _target(namespace, name),
            f" version {outcome.version}" if outcome.version else "",
            f" key {outcome.kid}" if outcome.kid else "",
        )
        return result

    def record(
        self,
        action: str,
        outcome: str,
        namespace: str | None = None,
        name: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Write one event for something that changed nothing.

        For what no service operation records: a refused request, a
        webhook notification. `detail` must name rules, never values.
        """
        event = replace(
            self._event(action, namespace, name), outcome=outcome, detail=detail
        )
        self._record_failure(event)

    def _record_failure(self, event: AuditEvent) -> None:
        """Write a failure event; a store that cannot take it is logged."""
        try:
            key = audit_chain.chain_key(self._runtime)
            self._runtime.database.write(
                lambda tx: audit_chain.append(tx, key, [event])
            )
        except PlatxaSecretsError as exc:
            log.warning("could not record failed %s: %s", event.action, exc.message)

    def list(
        self,
        namespace: str | None = None,
        limit: int = 50,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[AuditEvent]:
        """The newest events first, narrowed by the filters given.

        `action` is exact or a prefix ending in `*`; `since` and `until`
        are RFC 3339 times, dates, or durations back from now (`24h`).
        """
        where = event_filter(
            self._runtime.clock, namespace, actor, action, since, until
        )
        if not 1 <= limit <= 100_000:
            raise ValidationError("limit must be between 1 and 100000", field="limit")

        self._runtime.ready()
        with self._runtime.database.read() as tx:
            return audit_rows.recent(tx, where, limit)

    def seal_legacy(self) -> int:
        """Start the chain of an upgraded store, sealing its old events.

        `pxs init` calls it right after migrating: of all callers it
        alone may seal the events of a store from before the chain that
        has data keys (see `services/audit_genesis.py`), and the seal is
        chained as an `audit.seal` event. Returns how many were sealed;
        0 once the chain has started. A store whose chain key went
        missing raises `StoreError` naming what was found.
        """
        self._runtime.ready()
        from platxa_secrets.services import audit_genesis  # init only

        return audit_genesis.start(self._runtime, by_init=True).sealed

    def _event(
        self, action: str, namespace: str | None, name: str | None
    ) -> AuditEvent:
        return AuditEvent(
            at=self._runtime.now(),
            actor=self._runtime.actor,
            action=action,
            outcome="",
            request_id=self._runtime.request_id,
            namespace=namespace,
            name=name,
        )


def _filled(base: AuditEvent, outcome: Outcome, result: str) -> AuditEvent:
    return replace(
        base,
        outcome=result,
        version=outcome.version,
        key_names=tuple(outcome.key_names),
        kid=outcome.kid,
        detail=outcome.detail,
    )


def _target(namespace: str | None, name: str | None) -> str:
    return "/".join(part for part in (namespace, name) if part) or "-"

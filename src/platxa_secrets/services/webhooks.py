"""Receive webhook notifications from Alertmanager and audit each alert.

Alertmanager resends a firing alert on every repeat interval and retries
a delivery that failed, so receiving is idempotent: an alert whose
(fingerprint, status, startsAt) this receiver already recorded changes
nothing and writes no event. A new alert, a status change (firing to
resolved) or a new start time (the alert fired again) is recorded.

A delivery that records something writes one `webhook.receive` event
with the counts, and one child event per recorded alert, all in the
transaction that stores the alerts. An alert's event is filed under the
secret its `namespace` and `secret` labels name, when both are valid
names and the namespace is not reserved for the service itself
(`platxa-system`: labels are the sender's text, and must not file
events among the service's own). Its detail holds the status,
alertname, fingerprint and times, never annotation text (annotations
can carry anything).

A malformed body is refused whole: nothing is stored, and one error
event names the field and rule that broke.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from platxa_secrets.clock import to_text
from platxa_secrets.core.names import (
    RESERVED_NAMESPACES,
    check_name,
    check_namespace,
)
from platxa_secrets.core.store import alert_rows
from platxa_secrets.core.store.alert_rows import AlertRow
from platxa_secrets.core.store.db import Tx
from platxa_secrets.errors import NotFoundError, PlatxaSecretsError, ValidationError
from platxa_secrets.logs import get_logger
from platxa_secrets.services.alertmanager import Alert, parse_notification
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime

ACTION = "webhook.receive"
KNOWN_RECEIVERS = frozenset({"alertmanager"})
_SHOWN_ALERTNAME_RE = re.compile(r"[A-Za-z0-9_.:/ -]{1,128}")

log = get_logger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    """What one delivery did: alerts received, recorded and repeated."""

    receiver: str
    received: int
    recorded: int
    duplicates: int


class WebhookService:
    """Records the alerts that webhook receivers are sent."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._audit = AuditLog(runtime)

    def receive(self, receiver: str, body: bytes) -> WebhookResult:
        """Check and record one delivery to `receiver`; all or nothing.

        Raises NotFoundError for a receiver that does not exist and
        ValidationError, naming the field, for a malformed body.
        """
        try:
            _check_receiver(receiver)
            alerts = parse_notification(body).alerts
        except PlatxaSecretsError as exc:
            self._refused(receiver, exc)
            raise

        self._runtime.ready()
        # One order for every writer: two deliveries that share alerts
        # then lock their rows in the same order and cannot deadlock.
        ordered = sorted(alerts, key=lambda alert: alert.fingerprint)
        if not self._has_news(receiver, ordered):
            log.info("receiver %s: %d alerts, all seen before", receiver, len(alerts))
            return WebhookResult(receiver, len(alerts), 0, len(alerts))

        def work(tx: Tx, outcome: Outcome) -> int:
            now = self._runtime.now()
            for alert in ordered:
                if alert_rows.record(tx, _row(receiver, alert, now)):
                    outcome.children.append(_alert_outcome(receiver, alert))
            recorded = len(outcome.children)
            outcome.detail = (
                f"receiver {receiver}: {recorded} of {len(alerts)} alerts recorded, "
                f"{len(alerts) - recorded} seen before"
            )
            return recorded

        recorded = self._audit.run(ACTION, None, None, work)
        log.info(
            "receiver %s: %d of %d alerts recorded", receiver, recorded, len(alerts)
        )
        return WebhookResult(receiver, len(alerts), recorded, len(alerts) - recorded)

    def _has_news(self, receiver: str, alerts: Sequence[Alert]) -> bool:
        """Whether any alert differs from what the receiver recorded.

        A read before the write transaction, so a repeated delivery
        writes nothing at all, not even an event for the delivery. The
        write re-checks each alert itself, so a race here costs at most
        one event that records no alert.
        """
        with self._runtime.database.read() as tx:
            known = alert_rows.states(tx, receiver, (a.fingerprint for a in alerts))
        return any(
            known.get(alert.fingerprint) != (alert.status, to_text(alert.starts_at))
            for alert in alerts
        )

    def _refused(self, receiver: str, exc: PlatxaSecretsError) -> None:
        """Record a refused delivery; its message names rules, not content."""
        shown = _valid(check_namespace, receiver)
        detail = f"receiver {shown}: {exc.message}" if shown else exc.message
        self._audit.record(ACTION, "error", detail=detail)
        log.info("refused a delivery to receiver %s: %s", shown or "-", exc.message)


def as_json(result: WebhookResult) -> dict[str, str | int]:
    """The result as the body of an HTTP response."""
    return {
        "receiver": result.receiver,
        "received": result.received,
        "recorded": result.recorded,
        "duplicates": result.duplicates,
    }


def _check_receiver(receiver: str) -> None:
    check_namespace(receiver, "receiver")
    if receiver not in KNOWN_RECEIVERS:
        raise NotFoundError(
            f"receiver {receiver} is not a known webhook receiver", field="receiver"
        )


def _row(receiver: str, alert: Alert, now: str) -> AlertRow:
    ends_at = to_text(alert.ends_at) if alert.ends_at else None
    return AlertRow(
        receiver,
        alert.fingerprint,
        alert.status,
        to_text(alert.starts_at),
        ends_at,
        now,
    )


def _alert_outcome(receiver: str, alert: Alert) -> Outcome:
    """The event of one recorded alert: names, ids and times only."""
    namespace = _valid(check_namespace, alert.labels.get("namespace"))
    if namespace in RESERVED_NAMESPACES:
        namespace = None  # an alert's labels are no way into the service's own
    name = _valid(check_name, alert.labels.get("secret")) if namespace else None
    alertname = alert.alertname or ""
    shown = (
        f'"{alertname}"'
        if _SHOWN_ALERTNAME_RE.fullmatch(alertname)
        else "(missing or not shown)"
    )
    ends_at = to_text(alert.ends_at) if alert.ends_at else "-"
    return Outcome(
        namespace=namespace,
        name=name,
        detail=(
            f"alert {alert.status}: alertname {shown} fingerprint {alert.fingerprint} "
            f"startsAt {to_text(alert.starts_at)} endsAt {ends_at} "
            f"receiver {receiver}"
        ),
    )


def _valid(check: Callable[[str, str], str], value: str | None) -> str | None:
    """`value` if it passes `check`, else None; the value is never quoted."""
    if value is None:
        return None
    try:
        return check(value, "label")
    except ValidationError:
        return None

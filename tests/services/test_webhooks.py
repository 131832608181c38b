"""Receiving Alertmanager webhooks on a real store: SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config
from platxa_secrets.core.store import alert_rows
from platxa_secrets.core.store.audit_rows import AuditEvent
from platxa_secrets.errors import NotFoundError, PlatxaSecretsError, ValidationError
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.webhooks import WebhookResult, WebhookService, as_json
from tests.services.alert_payloads import CANARY, FIXTURE, alert, notification

RECEIVER = "alertmanager"
FIRST_START = "2026-11-30T08:00:00.000000Z"


@pytest.fixture
def runtime(config: Config, clock: FrozenClock) -> Iterator[Runtime]:
    runtime = Runtime(config, clock=clock)
    initialise(runtime)
    yield runtime
    runtime.close()


@pytest.fixture
def webhooks(runtime: Runtime) -> WebhookService:
    return WebhookService(runtime)


def events(runtime: Runtime) -> list[AuditEvent]:
    """Every webhook event, oldest first."""
    listed = AuditLog(runtime).list(limit=1000)
    return [e for e in reversed(listed) if e.action == "webhook.receive"]


def alert_events(runtime: Runtime) -> list[AuditEvent]:
    return [e for e in events(runtime) if (e.detail or "").startswith("alert ")]


def raw(runtime: Runtime, sql: str) -> list[tuple[Any, ...]]:
    with runtime.database.read() as tx:
        return tx.all(sql)


def test_an_alert_is_recorded_with_one_event(
    runtime: Runtime, webhooks: WebhookService
) -> None:
    result = webhooks.receive(RECEIVER, FIXTURE.read_bytes())

    assert result == WebhookResult(RECEIVER, received=1, recorded=1, duplicates=0)
    with runtime.database.read() as tx:
        row = alert_rows.find(tx, RECEIVER, "5f1c0a3b9d2e7c41")
    assert row is not None
    assert (row.status, row.starts_at, row.ends_at) == ("firing", FIRST_START, None)
    assert row.updated_at == runtime.now()

    delivery, only = events(runtime)
    assert delivery.outcome == only.outcome == "ok"
    assert (delivery.namespace, delivery.name) == (None, None)
    assert delivery.detail == (
        "receiver alertmanager: 1 of 1 alerts recorded, 0 seen before"
    )
    assert (only.namespace, only.name) == ("tenant-acme", "odoo-tls")
    assert only.detail == (
        'alert firing: alertname "TLSCertificateExpiring" fingerprint '
        f"5f1c0a3b9d2e7c41 startsAt {FIRST_START} endsAt - receiver alertmanager"
    )


def test_the_same_delivery_twice_records_once(
    runtime: Runtime, webhooks: WebhookService, clock: FrozenClock
) -> None:
    webhooks.receive(RECEIVER, FIXTURE.read_bytes())
    before = raw(runtime, "SELECT * FROM audit_events ORDER BY id")
    stored = raw(runtime, "SELECT * FROM webhook_alerts")
    clock.advance(timedelta(hours=4))

    again = webhooks.receive(RECEIVER, FIXTURE.read_bytes())

    assert again == WebhookResult(RECEIVER, received=1, recorded=0, duplicates=1)
    assert raw(runtime, "SELECT * FROM audit_events ORDER BY id") == before
    assert raw(runtime, "SELECT * FROM webhook_alerts") == stored
    assert len(alert_events(runtime)) == 1


def test_resolving_records_again_and_a_repeat_of_it_does_not(
    runtime: Runtime, webhooks: WebhookService, clock: FrozenClock
) -> None:
    webhooks.receive(RECEIVER, FIXTURE.read_bytes())
    clock.advance(timedelta(minutes=5))
    resolved = notification(
        alert(status="resolved", endsAt="2026-11-30T09:15:00.5+01:00"),
        status="resolved",
    )

    first = webhooks.receive(RECEIVER, resolved)
    second = webhooks.receive(RECEIVER, resolved)

    assert (first.recorded, second.recorded, second.duplicates) == (1, 0, 1)
    with runtime.database.read() as tx:
        row = alert_rows.find(tx, RECEIVER, "5f1c0a3b9d2e7c41")
    assert row is not None
    assert (row.status, row.ends_at) == ("resolved", "2026-11-30T08:15:00.500000Z")
    assert row.updated_at == runtime.now()
    firing, resolving = alert_events(runtime)
    assert firing.detail is not None and firing.detail.startswith("alert firing:")
    assert resolving.detail is not None
    assert resolving.detail.startswith("alert resolved:")
    assert "endsAt 2026-11-30T08:15:00.500000Z" in resolving.detail


def test_an_alert_that_fires_again_is_recorded_again(
    runtime: Runtime, webhooks: WebhookService
) -> None:
    webhooks.receive(RECEIVER, FIXTURE.read_bytes())
    webhooks.receive(RECEIVER, notification(alert(status="resolved")))

    again = webhooks.receive(
        RECEIVER, notification(alert(startsAt="2026-12-02T10:00:00Z"))
    )

    assert again.recorded == 1
    assert [e.detail.split(":")[0] for e in alert_events(runtime) if e.detail] == [
        "alert firing",
        "alert resolved",
        "alert firing",
    ]


def test_a_mixed_delivery_counts_news_and_repeats(
    runtime: Runtime, webhooks: WebhookService
) -> None:
    webhooks.receive(RECEIVER, FIXTURE.read_bytes())
    body = notification(
        alert(fingerprint="cc01"),
        alert(),
        alert(fingerprint="aa02", status="resolved"),
        alert(fingerprint="cc01"),
    )

    result = webhooks.receive(RECEIVER, body)

    assert as_json(result) == {
        "receiver": "alertmanager",
        "received": 4,
        "recorded": 2,
        "duplicates": 2,
    }
    assert sorted(
        row[0] for row in raw(runtime, "SELECT fingerprint FROM webhook_alerts")
    ) == [
        "5f1c0a3b9d2e7c41",
        "aa02",
        "cc01",
    ]
    assert len(alert_events(runtime)) == 3
    assert events(runtime)[-3].detail == (
        "receiver alertmanager: 2 of 4 alerts recorded, 2 seen before"
    )


def test_a_malformed_second_alert_records_nothing(
    runtime: Runtime, webhooks: WebhookService
) -> None:
    body = notification(alert(), alert(fingerprint="cc01", endsAt="tomorrow"))

    with pytest.raises(ValidationError) as caught:
        webhooks.receive(RECEIVER, body)

    assert caught.value.context["field"] == "alerts[1].endsAt"
    assert raw(runtime, "SELECT * FROM webhook_alerts") == []
    (refused,) = events(runtime)
    assert refused.outcome == "error"
    assert refused.detail is not None
    assert refused.detail.startswith("receiver alertmanager: alerts[1].endsAt must")


@pytest.mark.parametrize(
    ("receiver", "error", "field"),
    [
        ("grafana", NotFoundError, "receiver"),
        ("Alertmanager", ValidationError, "receiver"),
        ("", ValidationError, "receiver"),
        ("a" * 64, ValidationError, "receiver"),
    ],
)
def test_only_known_receivers_take_deliveries(
    runtime: Runtime,
    webhooks: WebhookService,
    receiver: str,
    error: type[PlatxaSecretsError],
    field: str,
) -> None:
    with pytest.raises(error) as caught:
        webhooks.receive(receiver, FIXTURE.read_bytes())

    assert caught.value.context["field"] == field
    assert raw(runtime, "SELECT * FROM webhook_alerts") == []
    assert [e.outcome for e in events(runtime)] == ["error"]


def test_an_event_names_a_secret_only_when_the_labels_are_valid_names(
    runtime: Runtime, webhooks: WebhookService
) -> None:
    body = notification(
        alert(fingerprint="01", labels={"namespace": "Not_A_Label", "secret": "x"}),
        alert(fingerprint="02", labels={"namespace": "tenant-b", "secret": "Bad/Name"}),
        alert(fingerprint="03", labels={"namespace": "tenant-c"}),
        alert(fingerprint="04", labels={"alertname": 'say "hi"\n'}),
    )

    webhooks.receive(RECEIVER, body)

    targets = [(e.namespace, e.name) for e in alert_events(runtime)]
    assert targets == [
        (None, None),
        ("tenant-b", None),
        ("tenant-c", None),
        (None, None),
    ]
    details = [e.detail or "" for e in alert_events(runtime)]
    assert "alertname (missing or not shown)" in details[0]
    assert "alertname (missing or not shown)" in details[3]


def test_an_empty_delivery_records_nothing(
    runtime: Runtime, webhooks: WebhookService
) -> None:
    result = webhooks.receive(RECEIVER, notification(alerts=[]))

    assert result == WebhookResult(RECEIVER, 0, 0, 0)
    assert events(runtime) == []


def test_the_write_rechecks_what_the_first_read_saw(
    runtime: Runtime, webhooks: WebhookService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica that raced another past the read still records once."""
    webhooks.receive(RECEIVER, FIXTURE.read_bytes())
    monkeypatch.setattr(WebhookService, "_has_news", lambda *_: True)

    result = webhooks.receive(RECEIVER, FIXTURE.read_bytes())

    assert (result.recorded, result.duplicates) == (0, 1)
    assert len(alert_events(runtime)) == 1
    assert events(runtime)[-1].detail == (
        "receiver alertmanager: 0 of 1 alerts recorded, 1 seen before"
    )


def test_annotations_and_other_labels_reach_no_event_row_or_log(
    runtime: Runtime, webhooks: WebhookService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    planted = {"summary": CANARY, "description": f"value={CANARY}", CANARY: "k"}
    labels = {
        "alertname": "TLSCertificateExpiring",
        "namespace": "tenant-acme",
        "secret": "odoo-tls",
        "instance": CANARY,
    }
    good = notification(alert(annotations=planted, labels=labels))
    bad = notification(
        alert(fingerprint="cc01", annotations=planted, labels=labels),
        alert(fingerprint=f"{CANARY} ", annotations=planted),
    )

    recorded = webhooks.receive(RECEIVER, good)
    webhooks.receive(RECEIVER, notification(alert(status="resolved", labels=labels)))
    with pytest.raises(ValidationError) as caught:
        webhooks.receive(RECEIVER, bad)

    assert recorded.recorded == 1
    assert len(alert_events(runtime)) == 2
    assert len(events(runtime)) == 5
    stored = raw(runtime, "SELECT * FROM audit_events") + raw(
        runtime, "SELECT * FROM webhook_alerts"
    )
    texts = [repr(row) for row in stored]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(caught.value), repr(caught.value), repr(recorded)]
    assert any("webhook" in text or "alert" in text for text in caplog.messages)
    for text in texts:
        assert CANARY not in text

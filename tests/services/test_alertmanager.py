"""Reading Alertmanager's version 4 notification from untrusted bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from platxa_secrets.errors import ValidationError
from platxa_secrets.services.alertmanager import (
    MAX_BODY_BYTES,
    MAX_ENTRIES,
    MAX_LABEL_VALUE,
    parse_notification,
)
from tests.core.helpers import assert_no_leak
from tests.services.alert_payloads import (
    CANARY,
    FIXTURE,
    alert,
    fixture_document,
    notification,
)


def refusal(body: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_notification(body)
    return caught.value


def test_the_fixture_parses() -> None:
    (only,) = parse_notification(FIXTURE.read_bytes()).alerts

    assert only.status == "firing"
    assert only.fingerprint == "5f1c0a3b9d2e7c41"
    assert only.starts_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert only.ends_at is None
    assert only.alertname == "TLSCertificateExpiring"
    assert only.labels["namespace"] == "tenant-acme"
    assert only.labels["secret"] == "odoo-tls"


@pytest.mark.parametrize(
    "ends_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000+00:00", None, ...]
)
def test_a_go_zero_or_absent_end_is_unset(ends_at: object) -> None:
    body = notification(alert(endsAt=ends_at))

    assert parse_notification(body).alerts[0].ends_at is None


def test_each_alerts_own_status_beats_the_group_status() -> None:
    body = notification(
        alert(status="resolved", fingerprint="aa", endsAt="2026-12-01T09:30:00Z"),
        alert(status="firing", fingerprint="bb"),
        status="firing",
    )

    resolved, firing = parse_notification(body).alerts

    assert (resolved.status, firing.status) == ("resolved", "firing")
    assert resolved.ends_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_unknown_fields_are_ignored_at_every_level() -> None:
    body = notification(
        alert(
            silencedBy=["x"],
            inhibitedBy=None,
            extra={"deep": [1, 2, {"deeper": True}]},
        ),
        futureField={"anything": [None, 1.5]},
        groupKey=12,
        status=...,
        receiver=...,
    )

    assert parse_notification(body).alerts[0].fingerprint == "5f1c0a3b9d2e7c41"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T08:00:00Z", datetime(2026, 11, 30, 8, tzinfo=UTC)),
        (
            "2026-11-30T08:00:00.123456789Z",
            datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC),
        ),
        ("2026-11-30t10:30:00.5+02:30", datetime(2026, 11, 30, 8, 0, 0, 500000, UTC)),
        ("2026-11-29T23:00:00-09:00", datetime(2026, 11, 30, 8, tzinfo=UTC)),
        ("2026-11-30T08:00:00z", datetime(2026, 11, 30, 8, tzinfo=UTC)),
    ],
)
def test_times_are_rfc3339_turned_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_notification(notification(alert(startsAt=text))).alerts[0]

    assert parsed.starts_at == expected
    assert parsed.starts_at.utcoffset() is not None


def test_an_empty_alert_list_is_a_valid_notification() -> None:
    assert parse_notification(notification(alerts=[])).alerts == ()


def test_null_labels_and_annotations_count_as_empty() -> None:
    parsed = parse_notification(notification(alert(labels=None, annotations=None)))

    assert dict(parsed.alerts[0].labels) == {}
    assert parsed.alerts[0].alertname is None


LONG = "x" * (MAX_LABEL_VALUE + 1)
MANY = {f"l{i}": "v" for i in range(MAX_ENTRIES + 1)}


def alert_case(field: str, rule: str, **changes: Any) -> Any:
    """One malformed first alert, the field it must name, a rule word."""
    return pytest.param(
        notification(alert(**changes)), f"alerts[0].{field}", rule, id=field
    )


MALFORMED = [
    pytest.param(b"[]", "body", "JSON object", id="list-body"),
    pytest.param(b'"4"', "body", "JSON object", id="string-body"),
    pytest.param(notification(version=...), "version", '"4"', id="no-version"),
    pytest.param(notification(version="3"), "version", '"4"', id="version-3"),
    pytest.param(notification(version=4), "version", "string", id="version-int"),
    pytest.param(notification(alerts=...), "alerts", "missing", id="no-alerts"),
    pytest.param(notification(alerts={}), "alerts", "list", id="alerts-dict"),
    pytest.param(notification(alerts=None), "alerts", "list", id="alerts-null"),
    pytest.param(notification(alerts=["x"]), "alerts[0]", "object", id="alert-str"),
    alert_case("status", "missing", status=...),
    alert_case("status", '"firing" or "resolved"', status="pending"),
    alert_case("status", '"firing" or "resolved"', status=None),
    alert_case("fingerprint", "missing", fingerprint=...),
    alert_case("fingerprint", "1 to 64", fingerprint=""),
    alert_case("fingerprint", "1 to 64", fingerprint="a" * 65),
    alert_case("fingerprint", "1 to 64", fingerprint="5f1c 0a3b"),
    alert_case("fingerprint", "1 to 64", fingerprint=1234),
    alert_case("startsAt", "missing", startsAt=...),
    alert_case("startsAt", "RFC 3339", startsAt=None),
    alert_case("startsAt", "RFC 3339", startsAt=1732953600),
    alert_case("startsAt", "RFC 3339", startsAt="yesterday"),
    alert_case("startsAt", "RFC 3339", startsAt="2026-11-30T08:00:00"),
    alert_case("startsAt", "RFC 3339", startsAt="2026-11-30 08:00:00Z"),
    alert_case("startsAt", "RFC 3339", startsAt="2026-11-30T08:00:00.Z"),
    alert_case("startsAt", "RFC 3339", startsAt="2026-11-30T08:00:00.1234567891Z"),
    alert_case("startsAt", "real date", startsAt="2026-02-30T08:00:00Z"),
    alert_case("startsAt", "real date", startsAt="2026-11-30T24:00:00Z"),
    alert_case("startsAt", "real date", startsAt="2026-11-30T08:00:60Z"),
    alert_case("startsAt", "real date", startsAt="2026-11-30T08:00:00+24:00"),
    alert_case("startsAt", "real date", startsAt="1969-12-31T23:59:59Z"),
    alert_case("startsAt", "real date", startsAt="9999-12-31T23:00:00-02:00"),
    alert_case("startsAt", "zero time", startsAt="0001-01-01T00:00:00Z"),
    alert_case("endsAt", "RFC 3339", endsAt="never"),
    alert_case("endsAt", "RFC 3339", endsAt=["2026-11-30T08:00:00Z"]),
    alert_case("endsAt", "real date", endsAt="2026-13-01T00:00:00Z"),
    alert_case("labels", "object of strings", labels=["alertname"]),
    alert_case("labels", "object of strings", labels="alertname=x"),
    alert_case("labels.severity", "string", labels={"severity": 3}),
    alert_case("labels.severity", "string", labels={"severity": None}),
    alert_case("labels.severity", "limit", labels={"severity": LONG}),
    alert_case("labels", "limit", labels=MANY),
    alert_case("annotations", "object of strings", annotations=[]),
    alert_case("annotations.summary", "string", annotations={"summary": {"a": 1}}),
]


@pytest.mark.parametrize(("body", "field", "rule"), MALFORMED)
def test_every_malformed_field_is_named_with_its_rule(
    body: bytes, field: str, rule: str
) -> None:
    error = refusal(body)

    assert error.context["field"] == field
    assert error.message.startswith(field)
    assert rule in error.message


def test_a_malformed_later_alert_rejects_the_whole_body() -> None:
    body = notification(alert(), alert(fingerprint="a b"))

    assert refusal(body).context["field"] == "alerts[1].fingerprint"


def test_a_key_that_is_not_a_label_name_is_named_by_position() -> None:
    body = notification(alert(labels={"alertname": "A", f"{CANARY} x": 5}))

    error = refusal(body)

    assert error.context["field"] == "alerts[0].labels.<entry 1>"
    assert_no_leak(error, CANARY)


def test_the_size_cap_is_one_mebibyte() -> None:
    document = fixture_document()
    document["padding"] = ""
    room = MAX_BODY_BYTES - len(json.dumps(document).encode())
    document["padding"] = "p" * room
    at_limit = json.dumps(document).encode()
    assert len(at_limit) == MAX_BODY_BYTES

    assert len(parse_notification(at_limit).alerts) == 1
    error = refusal(at_limit + b" ")
    assert error.context["field"] == "body"
    assert "1 MiB" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{}",
        notification(alert(labels={"team": "cafe"})).replace(b"cafe", b"caf\xe9"),
        b'{"version": "4", "alerts": [], "x": "\xed\xa0\x80"}',
    ],
    ids=["bom-utf16", "latin-1-label", "encoded-surrogate"],
)
def test_a_body_that_is_not_utf8_is_refused(body: bytes) -> None:
    error = refusal(body)

    assert error.context["field"] == "body"
    assert "UTF-8" in error.message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "nests too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nests too deeply"),
        (b'{"version": "4", "alerts": [], "n": ' + b"9" * 500_000 + b"}", "digits"),
        (b'{"version": "4", "alerts": [], "n": 1e999999}', None),
        (b'{"version": "4", "alerts": [], "n": NaN}', "NaN"),
        (b'{"version": "4", "alerts": [], "n": -Infinity}', "NaN"),
        (b'{"version": "4", "version": "4", "alerts": []}', "repeats a key"),
    ],
    ids=["deep-lists", "deep-objects", "long-int", "huge-float", "nan", "inf", "dup"],
)
def test_hostile_json_is_refused_or_read_safely(body: bytes, words: str | None) -> None:
    if words is None:
        assert parse_notification(body).alerts == ()
        return

    error = refusal(body)

    assert error.context["field"] == "body"
    assert words in error.message
    assert_no_leak(error)


def test_a_syntax_error_names_its_position_without_quoting() -> None:
    body = b'{"version": "4",\n "alerts": [], "x": "' + CANARY.encode() + b'" oops}'

    error = refusal(body)

    assert error.context["field"] == "body"
    assert "not valid JSON" in error.message
    assert "line 2 column" in error.message
    assert_no_leak(error, CANARY)


@pytest.mark.parametrize(
    "changes",
    [
        {"fingerprint": CANARY + " x"},
        {"status": CANARY},
        {"startsAt": CANARY},
        {"endsAt": CANARY},
        {"labels": {"severity": CANARY * 200}},
        {"annotations": {"description": CANARY, "summary": [CANARY]}},
    ],
    ids=["fingerprint", "status", "startsAt", "endsAt", "label", "annotation"],
)
def test_a_refusal_never_quotes_what_was_sent(changes: dict[str, Any]) -> None:
    body = notification(alert(**{"annotations": {"description": CANARY}, **changes}))

    assert_no_leak(refusal(body), CANARY)


def test_an_alerts_repr_leaves_out_its_labels() -> None:
    body = notification(alert(labels={"alertname": "A", "token": CANARY}))

    parsed = parse_notification(body)

    assert CANARY not in repr(parsed)
    assert CANARY not in str(parsed.alerts[0])

"""Read Alertmanager's webhook notification (format version 4) from bytes.

The body comes from the network, so it is parsed as untrusted: its size
is capped before decoding, every field the receiver uses is checked,
and an error names the field path and the rule without quoting what was
sent (a label or annotation can carry anything). Fields the receiver
does not use are ignored at every level, so a newer Alertmanager that
adds fields keeps working.

A notification, trimmed to what is read here:

    {"version": "4",
     "status": "firing",
     "alerts": [{"status": "firing",
                 "labels": {"alertname": "TLSCertificateExpiring",
                            "namespace": "tenant-acme", "secret": "odoo-tls"},
                 "annotations": {"summary": "..."},
                 "startsAt": "2026-11-30T08:00:00.000Z",
                 "endsAt": "0001-01-01T00:00:00Z",
                 "fingerprint": "5f1c0a3b9d2e7c41"}]}

The group's `status` is "firing" while any alert of the group fires, so
each alert's own `status` is the one that counts. Alertmanager is
written in Go, whose zero time (year 1) marks an `endsAt` that is not
set. Annotations are checked for shape and then dropped: nothing here
keeps their text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal, cast

from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import ValidationError

MAX_BODY_BYTES = 1024 * 1024
MAX_FINGERPRINT = 64
MAX_ENTRIES = 256
MAX_LABEL_VALUE = 4096
MAX_NUMBER_DIGITS = 100

Status = Literal["firing", "resolved"]
_STATUSES: tuple[Status, ...] = ("firing", "resolved")
_FINGERPRINT_RE = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_FINGERPRINT}}}")
_SHOWN_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))"
)
_TIME_RULE = "an RFC 3339 time such as 2026-01-31T08:00:00.000Z"


@dataclass(frozen=True)
class Alert:
    """One alert of a notification, as far as the receiver trusts it.

    Label values are untrusted text: they stay out of the repr, so an
    alert can be logged by accident without spilling them.
    """

    status: Status
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str] = field(repr=False)

    @property
    def alertname(self) -> str | None:
        return self.labels.get("alertname")


@dataclass(frozen=True)
class Notification:
    """The alerts of one webhook delivery, in the order they were sent."""

    alerts: tuple[Alert, ...]


class _Refused(ValueError):
    """A rule of the JSON reader broke; the text names it, not the input."""


def parse_notification(body: bytes) -> Notification:
    """Parse and check a version 4 notification; raise ValidationError.

    All or nothing: one malformed alert rejects the whole body, so a
    caller never acts on half a delivery.
    """
    document = _load(body)
    if not isinstance(document, dict):
        raise ValidationError(
            f"body must be a JSON object, not {_kind(document)}", field="body"
        )

    if document.get("version") != "4":
        raise ValidationError(
            'version must be the string "4" (Alertmanager webhook format 4)',
            field="version",
        )

    alerts = _required(document, "alerts", "alerts")
    if not isinstance(alerts, list):
        raise ValidationError(
            f"alerts must be a list, not {_kind(alerts)}", field="alerts"
        )

    return Notification(
        tuple(_alert(item, f"alerts[{index}]") for index, item in enumerate(alerts))
    )


def _load(body: bytes) -> object:
    """Decode the body as strict JSON, with its size capped first.

    Errors are raised after the `except` block: a JSONDecodeError holds
    the whole document, and must not ride along as `__context__`.
    """
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError(
            f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES} (1 MiB)",
            field="body",
        )

    text = decode_or_none(body)
    if text is None:
        raise ValidationError("body is not UTF-8 text", field="body")

    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        problem = (
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        )
    except _Refused as exc:
        problem = f"body is not accepted JSON: {exc}"
    except RecursionError:
        problem = "body is not accepted JSON: it nests too deeply"
    except ValueError:
        problem = "body is not accepted JSON: a value is beyond the reader's limits"
    raise ValidationError(problem, field="body")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # Two readers that keep different copies of a repeated key would
    # disagree about what was sent; refusing it removes the doubt.
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _Refused("an object repeats a key")
    return document


def _no_constant(name: str) -> object:
    raise _Refused("NaN and Infinity are not JSON numbers")


def _bounded_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_DIGITS:
        raise _Refused(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def _alert(item: object, path: str) -> Alert:
    if not isinstance(item, dict):
        raise ValidationError(
            f"{path} must be an object, not {_kind(item)}", field=path
        )

    status = _required(item, "status", path)
    if status not in _STATUSES:
        raise ValidationError(
            f'{path}.status must be "firing" or "resolved"', field=f"{path}.status"
        )

    fingerprint = _required(item, "fingerprint", path)
    if not isinstance(fingerprint, str) or not _FINGERPRINT_RE.fullmatch(fingerprint):
        raise ValidationError(
            f"{path}.fingerprint must be 1 to {MAX_FINGERPRINT} letters, digits, "
            "'.', '_', ':' or '-'",
            field=f"{path}.fingerprint",
        )

    starts_at = _time(_required(item, "startsAt", path), f"{path}.startsAt")
    if starts_at is None:
        raise ValidationError(
            f"{path}.startsAt is null or the zero time (year 1); an alert must "
            f"have started at {_TIME_RULE}",
            field=f"{path}.startsAt",
        )
    ends_at = _time(item.get("endsAt"), f"{path}.endsAt")

    labels = _strings(item.get("labels"), f"{path}.labels", MAX_LABEL_VALUE)
    _strings(item.get("annotations"), f"{path}.annotations", None)
    return Alert(status, fingerprint, starts_at, ends_at, labels)


def _required(document: dict[str, object], key: str, path: str) -> object:
    where = key if path == key else f"{path}.{key}"
    if key not in document:
        raise ValidationError(f"{where} is missing", field=where)
    return document[key]


def _time(value: object, path: str) -> datetime | None:
    """An RFC 3339 time in UTC; None for Go's zero time (year 1).

    Go writes up to nine fractional digits; they are cut to the six a
    datetime holds, so two sends of one alert still compare equal.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            f"{path} must be a string holding {_TIME_RULE}, not {_kind(value)}",
            field=path,
        )

    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise ValidationError(f"{path} must be {_TIME_RULE}", field=path)

    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micro = int((match[7] or "").ljust(6, "0")[:6])
    sign, offset_hours, offset_minutes = match[8], match[9], match[10]
    offset = timedelta(0)
    if sign is not None:
        offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        offset = -offset if sign == "-" else offset

    moment: datetime | None
    try:
        moment = datetime(
            year, month, day, hour, minute, second, micro, tzinfo=timezone(offset)
        )
        if moment.year == 1:
            return None
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.year < 1970:
        raise ValidationError(
            f"{path} must be a real date and time after 1970 ({_TIME_RULE})",
            field=path,
        )
    return moment


def _strings(value: object, path: str, limit: int | None) -> dict[str, str]:
    """A map of strings (labels, annotations); null counts as empty.

    A key is named in an error only if it looks like a label name;
    anything else is untrusted text and is referred to by position.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(
            f"{path} must be an object of strings, not {_kind(value)}", field=path
        )
    if len(value) > MAX_ENTRIES:
        raise ValidationError(
            f"{path} has {len(value)} entries; the limit is {MAX_ENTRIES}",
            field=path,
        )

    for position, (key, text) in enumerate(value.items()):
        where = (
            f"{path}.{key}"
            if _SHOWN_KEY_RE.fullmatch(key)
            else (f"{path}.<entry {position}>")
        )
        if not isinstance(text, str):
            raise ValidationError(
                f"{where} must be a string, not {_kind(text)}", field=where
            )
        if limit is not None and len(text) > limit:
            raise ValidationError(
                f"{where} is {len(text)} characters; the limit is {limit}",
                field=where,
            )
    return cast(dict[str, str], dict(value))


def _kind(value: object) -> str:
    """The JSON name of a value's type, for messages that must not quote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"

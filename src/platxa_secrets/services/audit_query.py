"""Turn what an operator types into an audit event filter.

Times are RFC 3339 (`2026-01-31T12:00:00Z`, any offset), a plain date
(`2026-01-31`, midnight UTC) or a duration counted back from now
(`24h`, `7d`, `1h30m`). Actions are exact (`secret.write`) or a prefix
ending in `*` (`secret.*`). Every refusal names the option and the form
it expects.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from platxa_secrets.clock import Clock, to_text
from platxa_secrets.core.durations import parse_duration
from platxa_secrets.core.names import check_namespace
from platxa_secrets.core.shapes import quoted
from platxa_secrets.core.store.audit_rows import EventFilter
from platxa_secrets.errors import ValidationError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"\d[\dsmhdw]*")
_ACTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")


def parse_moment(text: str, field: str, clock: Clock) -> str:
    """The stored form (`clock.to_text`) of a time the operator typed."""
    cleaned = text.strip()
    if _DURATION.fullmatch(cleaned):
        return to_text(clock.now() - parse_duration(cleaned, field))

    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        moment = None
    if moment is None or (moment.tzinfo is None and not _DATE.fullmatch(cleaned)):
        raise ValidationError(
            f"{field} {quoted(text)} is not a time: write an RFC 3339 time with its "
            "offset (2026-01-31T12:00:00Z), a date (2026-01-31) or a duration "
            "back from now (24h, 7d)",
            field=field,
        )
    return to_text(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def event_filter(
    clock: Clock,
    namespace: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> EventFilter:
    """Check each option and build the filter the rows module takes."""
    if namespace is not None:
        check_namespace(namespace)
    if actor is not None and not actor.strip():
        raise ValidationError("--actor must not be empty", field="actor")

    exact, prefix = _action(action) if action is not None else (None, None)
    start = parse_moment(since, "--since", clock) if since is not None else None
    end = parse_moment(until, "--until", clock) if until is not None else None
    if start is not None and end is not None and start >= end:
        raise ValidationError("--since must be earlier than --until", field="since")

    return EventFilter(
        namespace=namespace,
        actor=actor,
        action=exact,
        action_prefix=prefix,
        since=start,
        until=end,
    )


def _action(pattern: str) -> tuple[str | None, str | None]:
    """An exact action, or a prefix when the pattern ends in `*`."""
    stem = pattern[:-1] if pattern.endswith("*") else pattern
    if stem == "" and pattern == "*":
        return None, None
    if not _ACTION.fullmatch(stem):
        raise ValidationError(
            f"--action {quoted(pattern)} is not an action: write it like secret.write, "
            "or secret.* for every action that starts with secret.",
            field="action",
        )
    return (None, stem) if pattern.endswith("*") else (stem, None)

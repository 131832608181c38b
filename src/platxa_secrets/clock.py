"""Injectable time.

Every operation that depends on time (grace periods, retention, audit
timestamps) asks a `Clock`, so tests can move time through a grace
period without sleeping. Timestamps are stored as fixed-width ISO 8601
text in UTC, which sorts correctly as a string on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class Clock(Protocol):
    """Anything that can tell the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def to_text(moment: datetime) -> str:
    """Render a UTC datetime in the stored, sortable form."""
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_text(text: str) -> datetime:
    """Parse the stored form back into an aware UTC datetime."""
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)

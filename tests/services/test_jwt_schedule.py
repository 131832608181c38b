"""The JWT key schedule as a pure function of rows and time (no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from platxa_secrets.clock import to_text
from platxa_secrets.core.store.jwt_rows import JwtKeyRow
from platxa_secrets.services._jwt_schedule import plan, signer

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def row(kid: str, signs_from: datetime, **recorded: str | None) -> JwtKeyRow:
    return JwtKeyRow(
        kid, "RS256", "{}", to_text(T0), "t", to_text(signs_from), **recorded
    )


def states_at(rows: list[JwtKeyRow], now: datetime) -> dict[str, str]:
    return {p.row.kid: p.state for p in plan(rows, now, HOUR)}


def test_the_worked_example_of_the_module() -> None:
    b_start = T0 + 3 * HOUR + 10 * MINUTE
    a, b = row("a", T0), row("b", b_start)

    assert states_at([a, b], T0 + 3 * HOUR) == {"a": "signing", "b": "pending"}
    assert states_at([a, b], b_start) == {
        "a": "retired",
        "b": "signing",
    }
    planned = {p.row.kid: p for p in plan([a, b], b_start, HOUR)}
    assert planned["a"].retired_at == b_start
    assert planned["a"].unpublish_at == b_start + HOUR
    assert planned["a"].retire_due and not planned["b"].retire_due
    assert states_at([a, b], b_start + HOUR - MINUTE)["a"] == "retired"
    assert states_at([a, b], b_start + HOUR)["a"] == "unpublished"
    assert plan([a, b], b_start + HOUR, HOUR)[0].destroy_due


def test_the_order_of_the_rows_does_not_matter() -> None:
    keys = [row("c", T0 + 2 * HOUR), row("a", T0), row("b", T0 + HOUR)]
    now = T0 + 2 * HOUR

    planned = plan(keys, now, HOUR)
    current = signer(planned)

    assert [p.row.kid for p in planned] == ["a", "b", "c"]
    assert current is not None and current.row.kid == "c"
    assert {p.row.kid: p.state for p in planned} == {
        "a": "unpublished",
        "b": "retired",
        "c": "signing",
    }
    assert planned[0].retired_at == T0 + HOUR


def test_recorded_dates_win_over_derived_ones() -> None:
    """Once written, the window no longer follows a changed lifetime."""
    recorded = {
        "retired_at": to_text(T0 + HOUR),
        "unpublish_at": to_text(T0 + 3 * HOUR),
    }
    keys = [row("a", T0, **recorded), row("b", T0 + HOUR)]

    planned = plan(keys, T0 + 2 * HOUR, HOUR)

    assert planned[0].state == "retired"
    assert planned[0].unpublish_at == T0 + 3 * HOUR
    assert not planned[0].retire_due


def test_a_destroyed_key_stays_destroyed() -> None:
    keys = [row("a", T0, destroyed_at=to_text(T0 + HOUR)), row("b", T0 + MINUTE)]

    assert states_at(keys, T0 + 2 * HOUR) == {"a": "destroyed", "b": "signing"}
    assert not plan(keys, T0 + 2 * HOUR, HOUR)[0].destroy_due


def test_nothing_signs_before_the_first_key_starts() -> None:
    keys = [row("a", T0 + MINUTE)]

    assert signer(plan(keys, T0, HOUR)) is None
    assert signer(plan([], T0, HOUR)) is None

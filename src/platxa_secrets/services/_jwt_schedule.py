"""Which JWT key signs and which are published, from the rows and a time.

    | state       | from                                   | signs | in JWKS |
    |-------------|----------------------------------------|-------|---------|
    | pending     | created_at                             | no    | yes     |
    | signing     | signs_from = created_at + grace        | yes   | yes     |
    |             | (created_at for the very first key)    |       |         |
    | retired     | retired_at = the next key's signs_from | no    | yes     |
    | unpublished | unpublish_at = retired_at + lifetime   | no    | no      |
    | destroyed   | `maintain` erased the private key      | no    | no      |

A pure function of the `jwt_keys` rows, the time and the maximum token
lifetime, so every replica on the same database reaches the same answer
without talking to the others, and a signer change happens on time even
if no maintenance job has run yet. `retired_at` and `unpublish_at` are
written to a row once the next key signs (by `maintain`, or lazily by
`sign`); until then they are derived here the same way: a key retires
at the moment its successor's `signs_from` comes.

Worked example, grace 10 minutes, maximum lifetime 1 hour: key A signs
from 09:00. Key B is created at 12:00, signs from 12:10; A retires at
12:10 and stays published until 13:10, when the last token A signed
(at 12:09:59, valid until 13:09:59) has expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from platxa_secrets.clock import from_text
from platxa_secrets.core.store.jwt_rows import JwtKeyRow

PENDING = "pending"
SIGNING = "signing"
RETIRED = "retired"
UNPUBLISHED = "unpublished"
DESTROYED = "destroyed"
PUBLISHED = frozenset({PENDING, SIGNING, RETIRED})


@dataclass(frozen=True)
class PlannedKey:
    """One key's state at a moment, with its derived schedule."""

    row: JwtKeyRow
    state: str
    retired_at: datetime | None
    unpublish_at: datetime | None

    @property
    def published(self) -> bool:
        return self.state in PUBLISHED

    @property
    def retire_due(self) -> bool:
        """Retired by the schedule, but not yet recorded in its row."""
        return self.retired_at is not None and self.row.retired_at is None

    @property
    def destroy_due(self) -> bool:
        return self.state == UNPUBLISHED


def plan(
    rows: Sequence[JwtKeyRow], now: datetime, max_lifetime: timedelta
) -> list[PlannedKey]:
    """Each key's state at `now`, in signing order.

    The signer is the key whose `signs_from` came last; every key that
    started before it has retired, at its successor's `signs_from`.
    """
    ordered = sorted(rows, key=lambda r: (r.signs_from, r.kid))
    started = [r for r in ordered if from_text(r.signs_from) <= now]
    successor_starts = {old.kid: new.signs_from for old, new in pairwise(started)}

    planned = []
    for row in ordered:
        retired_text = row.retired_at or successor_starts.get(row.kid)
        retired_at = from_text(retired_text) if retired_text else None
        unpublish_at = (
            from_text(row.unpublish_at)
            if row.unpublish_at
            else (retired_at + max_lifetime if retired_at else None)
        )
        state = _state(row, now, retired_at, unpublish_at)
        planned.append(PlannedKey(row, state, retired_at, unpublish_at))
    return planned


def signer(planned: Sequence[PlannedKey]) -> PlannedKey | None:
    """The key that signs now, if any."""
    return next((p for p in planned if p.state == SIGNING), None)


def _state(
    row: JwtKeyRow,
    now: datetime,
    retired_at: datetime | None,
    unpublish_at: datetime | None,
) -> str:
    if row.destroyed_at:
        return DESTROYED
    if from_text(row.signs_from) > now:
        return PENDING
    if retired_at is None:
        return SIGNING
    if unpublish_at is not None and now < unpublish_at:
        return RETIRED
    return UNPUBLISHED

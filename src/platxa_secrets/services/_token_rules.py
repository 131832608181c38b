"""What a token may be called, how long it may live, how it is shown.

Caller input is checked here before any transaction starts, so a bad
request changes nothing and writes no audit event. A token id or name
is never echoed when it might hold a whole token: an operator who
pasted one into a command line learns that it is now exposed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from platxa_secrets.clock import to_text
from platxa_secrets.core import token_format
from platxa_secrets.core.store.token_rows import TokenRecord
from platxa_secrets.errors import ValidationError

MAX_NAME = 200
MAX_LIFETIME = timedelta(days=3650)
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
_ID_RE = re.compile(f"[a-z0-9]{{{token_format.ID_LENGTH}}}")


@dataclass(frozen=True)
class TokenInfo:
    """A token as shown to operators: names, scopes and dates, no secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None
    rotated_from: str | None
    state: str


def check_name(name: str) -> None:
    """A token name: 1 to 200 printable characters, never a token."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise ValidationError(
            f"token name must be 1 to {MAX_NAME} characters", field="name"
        )
    if not name.isprintable() or not name.strip():
        raise ValidationError(
            "token name must be printable characters (no tabs, newlines or "
            "control characters) and not only spaces",
            field="name",
        )
    if token_format.PATTERN.search(name):
        raise ValidationError(
            "token name must not contain a token; that token is now exposed, revoke it",
            field="name",
        )


def check_token_id(token_id: str) -> None:
    """A token id: the 12 characters after `pxs_`; a whole token is refused.

    The input is not echoed: an operator may have pasted a whole token.
    """
    if isinstance(token_id, str) and _ID_RE.fullmatch(token_id):
        return
    hint = ""
    if isinstance(token_id, str) and token_format.PATTERN.search(token_id):
        hint = (
            "; that was a whole token, now in your shell history: revoke it by its id"
        )
    raise ValidationError(
        f"token id must be {token_format.ID_LENGTH} lower-case letters or digits "
        f"(the part after 'pxs_'){hint}",
        field="token_id",
    )


def check_lifetime(lifetime: timedelta | None, label: str) -> None:
    """Positive and at most 10 years; None means the token never expires."""
    if lifetime is None:
        return
    if lifetime <= timedelta(0):
        raise ValidationError(f"{label} must be positive", field="expires_in")
    if lifetime > MAX_LIFETIME:
        raise ValidationError(
            f"{label} must be at most 10 years (3650d)", field="expires_in"
        )


def check_grace(grace: timedelta) -> None:
    """Zero (the old token stops at once) up to 10 years."""
    if grace < timedelta(0):
        raise ValidationError(
            "rotation grace (--grace) must not be negative", field="grace"
        )
    if grace > MAX_LIFETIME:
        raise ValidationError(
            "rotation grace (--grace) must be at most 10 years (3650d)", field="grace"
        )


def state_of(record: TokenRecord, now: datetime) -> str:
    """Revoked wins over expired: it is the operator's deliberate act."""
    if record.revoked_at is not None:
        return REVOKED
    if record.expires_at is not None and record.expires_at <= to_text(now):
        return EXPIRED
    return ACTIVE


def info_of(record: TokenRecord, now: datetime) -> TokenInfo:
    return TokenInfo(
        id=record.id,
        name=record.name,
        scopes=tuple(json.loads(record.scopes)),
        created_at=record.created_at,
        created_by=record.created_by,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
        rotated_from=record.rotated_from,
        state=state_of(record, now),
    )


def describe(record: TokenRecord) -> str:
    """The audit detail of a new token: its name, scopes and expiry."""
    scopes = " ".join(json.loads(record.scopes))
    expiry = record.expires_at or "never"
    return f"name {record.name!r}; scopes {scopes}; expires {expiry}"

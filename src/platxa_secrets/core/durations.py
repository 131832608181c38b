"""Human durations such as `24h`, `7d` or `1h30m` for settings and flags."""

from __future__ import annotations

import re
from datetime import timedelta

from platxa_secrets.core.shapes import quoted
from platxa_secrets.errors import ValidationError

_PART = re.compile(r"([0-9]{1,12})([smhdw])")
_SECONDS = re.compile(r"[0-9]{1,12}")
_MAX_SECONDS = 100 * 365 * 86400
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, field: str) -> timedelta:
    """Parse `1h30m`-style text; a bare number means seconds."""
    cleaned = text.strip().lower()
    if _SECONDS.fullmatch(cleaned):
        return timedelta(seconds=int(cleaned))

    parts = _PART.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ValidationError(
            f"{field} {quoted(text)} is not a duration; write it like 90s, 15m, 24h, "
            "7d or 1h30m",
            field=field,
        )
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds > _MAX_SECONDS:
        raise ValidationError(
            f"{field} {quoted(text)} is longer than 100 years", field=field
        )
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Render a duration compactly (`1d2h`, `45s`)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"

    out = []
    for unit in ("w", "d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)

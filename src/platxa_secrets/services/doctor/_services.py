"""Checks on what the HTTP service relies on: JWT keys, API tokens and
the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from platxa_secrets.clock import from_text
from platxa_secrets.core.durations import format_duration
from platxa_secrets.services.doctor._model import FAIL, PASS, WARN, Finding
from platxa_secrets.services.runtime import Runtime

UNUSED_AFTER = timedelta(days=90)


def check_jwt_window(runtime: Runtime) -> Iterator[Finding]:
    """A retired key stays published for at least the longest token
    lifetime, or tokens it signed stop verifying before they expire."""
    from platxa_secrets.services.jwt_keys import JwtService

    lifetime = format_duration(runtime.config.jwt_max_lifetime)
    keys = JwtService(runtime).keys()
    short = [
        k.kid
        for k in keys
        if k.retired_at
        and k.unpublish_at
        and from_text(k.unpublish_at) - from_text(k.retired_at)
        < runtime.config.jwt_max_lifetime
    ]
    if short:
        yield Finding(
            "jwt.window",
            FAIL,
            f"published for less than jwt_max_lifetime ({lifetime}) after "
            "retirement: " + ", ".join(short),
            "lower jwt_max_lifetime back, or keep the keys published longer "
            "(rotate less often until their tokens have expired)",
        )
    elif not keys:
        yield Finding("jwt.window", PASS, "no JWT signing keys (JWT not in use)")
    else:
        yield Finding(
            "jwt.window",
            PASS,
            f"{len(keys)} JWT key(s); retired keys stay published at least "
            f"{lifetime} (the longest token lifetime)",
        )


def check_tokens(runtime: Runtime) -> Iterator[Finding]:
    """Tokens expire, and tokens nobody uses are revoked."""
    from platxa_secrets.services.tokens import TokenService

    now = runtime.clock.now()
    tokens = [t for t in TokenService(runtime).list() if t.state == "active"]

    forever = [t.id for t in tokens if t.expires_at is None]
    yield (
        Finding(
            "tokens.expiry",
            WARN,
            "API tokens without an expiry: " + ", ".join(forever),
            "rotate them with an expiry: `pxs token create --expires 90d …`, "
            "then `pxs token revoke ID`",
        )
        if forever
        else Finding("tokens.expiry", PASS, f"{len(tokens)} active token(s) expire")
    )

    idle = [
        t.id
        for t in tokens
        if from_text(t.last_used_at or t.created_at) + UNUSED_AFTER <= now
    ]
    yield (
        Finding(
            "tokens.unused",
            WARN,
            f"API tokens unused for {UNUSED_AFTER.days} days: " + ", ".join(idle),
            "revoke them: `pxs token revoke ID`",
        )
        if idle
        else Finding(
            "tokens.unused",
            PASS,
            f"no active token idle for {UNUSED_AFTER.days} days (counted from "
            "its last use, or its creation if never used)",
        )
    )


def check_audit_chain(runtime: Runtime) -> Iterator[Finding]:
    """Nobody changed, removed, inserted or reordered an audit event."""
    from platxa_secrets.services.audit_verify import verify_store

    report = verify_store(runtime)
    if report.problem is not None:
        yield Finding(
            "audit.chain",
            FAIL,
            report.problem.message,
            "investigate who had database access; `pxs audit verify` names the "
            "first broken event; compare with an exported copy or a backup",
        )
    else:
        yield Finding(
            "audit.chain", PASS, f"{report.verified} event(s) verified, chain intact"
        )

"""Every check that needs only the store and the configuration."""

from __future__ import annotations

from platxa_secrets.services.doctor._model import Check
from platxa_secrets.services.doctor._services import (
    check_audit_chain,
    check_jwt_window,
    check_tokens,
)
from platxa_secrets.services.doctor._store import store_checks
from platxa_secrets.services.runtime import Runtime


def all_store_checks(runtime: Runtime) -> list[tuple[str, Check]]:
    """Master key, permissions, keyring, then JWT keys, tokens and audit."""
    return [
        *store_checks(runtime),
        ("jwt", lambda: check_jwt_window(runtime)),
        ("tokens", lambda: check_tokens(runtime)),
        ("audit", lambda: check_audit_chain(runtime)),
    ]

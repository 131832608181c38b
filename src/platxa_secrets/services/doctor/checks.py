"""Every check that needs only the store and the configuration."""

from __future__ import annotations

from collections.abc import Iterable

from platxa_secrets.errors import PlatxaSecretsError
from platxa_secrets.services.doctor._keyring import check_keyring
from platxa_secrets.services.doctor._model import SKIP, Check, Finding
from platxa_secrets.services.doctor._services import (
    check_audit_chain,
    check_jwt_window,
    check_tokens,
)
from platxa_secrets.services.doctor._setup import (
    check_leftover_key,
    check_master_key,
    check_permissions,
)
from platxa_secrets.services.runtime import Runtime


def all_store_checks(runtime: Runtime) -> list[tuple[str, Check]]:
    """Master key, permissions, keyring, then JWT keys, tokens and audit.

    Checks that decrypt or verify need the master key; without one they
    are skipped, so one missing key is one failure, not six.
    """

    def keyed(name: str, check: Check) -> tuple[str, Check]:
        def gated() -> Iterable[Finding]:
            try:
                _ = runtime.master_keys
            except PlatxaSecretsError:
                return [Finding(name, SKIP, "needs the master key (see master-key)")]
            return check()

        return name, gated

    return [
        ("master-key", lambda: check_master_key(runtime)),
        ("permissions", lambda: check_permissions(runtime)),
        keyed("master-key.leftover", lambda: check_leftover_key(runtime)),
        keyed("keyring", lambda: check_keyring(runtime)),
        keyed("jwt", lambda: check_jwt_window(runtime)),
        keyed("tokens", lambda: check_tokens(runtime)),
        keyed("audit", lambda: check_audit_chain(runtime)),
    ]

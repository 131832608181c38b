"""The checks that need only the store and the configuration."""

from __future__ import annotations

from platxa_secrets.services.doctor._keyring import check_keyring
from platxa_secrets.services.doctor._model import Check
from platxa_secrets.services.doctor._setup import check_master_key, check_permissions
from platxa_secrets.services.runtime import Runtime


def store_checks(runtime: Runtime) -> list[tuple[str, Check]]:
    """Named checks in the order an operator reads them."""
    return [
        ("master-key", lambda: check_master_key(runtime)),
        ("permissions", lambda: check_permissions(runtime)),
        ("keyring", lambda: check_keyring(runtime)),
    ]

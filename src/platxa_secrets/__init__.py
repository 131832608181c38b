"""Platxa Secrets: encrypted, versioned secrets for per-tenant Odoo on Kubernetes.

The public API is small and imported lazily, so that the command line
pays only for what a command uses:

- `connect(config=None)` → `Platxa` with `.secrets`, `.keys`, `.envelope`,
  `.audit` and `.provisioning`;
- `load_config(env=None)` → `Config`;
- `PlatxaSecretsError` and its family in `platxa_secrets.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from platxa_secrets.errors import PlatxaSecretsError

if TYPE_CHECKING:
    from platxa_secrets.api import Platxa, connect
    from platxa_secrets.core.config import Config, load_config

__all__ = ["Config", "Platxa", "PlatxaSecretsError", "connect", "load_config"]

_LAZY = {
    "connect": "platxa_secrets.api",
    "Platxa": "platxa_secrets.api",
    "load_config": "platxa_secrets.core.config",
    "Config": "platxa_secrets.core.config",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'platxa_secrets' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

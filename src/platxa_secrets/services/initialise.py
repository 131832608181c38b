"""Create or migrate a store and make sure it has an active data key."""

from __future__ import annotations

from dataclasses import dataclass

from platxa_secrets.core.crypto.keyring import DECRYPT_STATES
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.keys import KeyService
from platxa_secrets.services.runtime import Runtime


@dataclass(frozen=True)
class Initialised:
    database: str
    master_key_source: str
    master_key_id: str
    development_key: bool
    active_kid: str | None
    created_key: bool


def initialise(runtime: Runtime) -> Initialised:
    """Idempotent: migrate the schema to head, create a key if none is active.

    Audit events written before the audit chain existed are sealed into
    it here, right after the migration that made room for them.
    """
    from platxa_secrets.core.store.migrate import upgrade

    master = runtime.load_master_keys(create_fallback=True)
    runtime.database.connect(create=True)
    with runtime.database.exclusive("init"):
        upgrade(runtime.database)
        AuditLog(runtime).seal_legacy()  # before any new event is chained
        created = KeyService(runtime).ensure_active()
    keyring = runtime.keyring()
    for record in keyring.records:
        if record.state in DECRYPT_STATES:
            keyring.check_unwraps(record.kid)

    return Initialised(
        database=runtime.database.display_url,
        master_key_source=master.source,
        master_key_id=master.primary_id,
        development_key=master.source == str(runtime.config.fallback_key_file),
        active_kid=runtime.keyring().active_kid,
        created_key=created is not None,
    )

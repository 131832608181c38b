"""`pxs init`: create or migrate the store and its first data key."""

from __future__ import annotations

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, info


@click.command()
@FORMAT_OPTION
def init(fmt: str) -> None:
    """Create the store (or migrate it) and an active data key. Idempotent."""
    from platxa_secrets.core.store.migrate import upgrade
    from platxa_secrets.services.keys import KeyService

    rt = runtime()
    master = rt.master_keys
    rt.database.connect(create=True)
    upgrade(rt.database)
    created = KeyService(rt).ensure_active()
    active = rt.keyring().active_kid

    summary = {
        "database": rt.database.display_url,
        "master_key_source": master.source,
        "master_key_id": master.primary_id,
        "development_key": master.source == str(rt.config.fallback_key_file),
        "active_kid": active,
        "created_key": created is not None,
    }
    if fmt == "json":
        emit_json(summary)
        return
    info(f"store     {summary['database']}")
    info(f"master key {master.primary_id} from {master.source}")
    state = "created" if created else "already active"
    info(f"data key  {active} ({state})")

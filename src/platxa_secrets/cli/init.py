"""`pxs init`: create or migrate the store and its first data key."""

from __future__ import annotations

from dataclasses import asdict

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, info


@click.command()
@FORMAT_OPTION
def init(fmt: str) -> None:
    """Create the store (or migrate it) and an active data key. Idempotent."""
    from platxa_secrets.services.initialise import initialise

    result = initialise(runtime())
    if fmt == "json":
        emit_json(asdict(result))
        return

    info(f"store      {result.database}")
    source = "development key file" if result.development_key else "from"
    info(f"master key {result.master_key_id} {source} {result.master_key_source}")
    state = "created" if result.created_key else "already active"
    info(f"data key   {result.active_kid} ({state})")

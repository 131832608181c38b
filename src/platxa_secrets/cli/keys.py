"""`pxs keys …`: inspect the data keys of the keyring; import legacy keys."""

from __future__ import annotations

from pathlib import Path

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info
from platxa_secrets.cli.refs import read_file


@click.group()
def keys() -> None:
    """Inspect data keys; import legacy keys."""


@keys.command("list")
@FORMAT_OPTION
def list_(fmt: str) -> None:
    """Data keys with their state and how many ciphertexts use each."""
    from platxa_secrets.services.keys import KeyService

    found = KeyService(runtime()).list()
    if fmt == "json":
        emit_json([vars(k) for k in found])
        return
    emit_table(
        None,
        [
            "KID",
            "STATE",
            "ORIGIN",
            "MASTER",
            "CREATED",
            "ACTIVATED",
            "RETIRED",
            "CIPHERTEXTS",
        ],
        [
            (
                k.kid,
                k.state,
                k.origin,
                k.master_kid,
                k.created_at,
                k.activated_at,
                k.retired_at,
                k.ciphertexts,
            )
            for k in found
        ],
    )


@keys.command("import-legacy")
@click.option(
    "--keys-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Old key strings, one a line (Fernet keys or raw strings).",
)
def import_legacy(keys_file: Path) -> None:
    """Add old keys as decrypt-only keys, so bare legacy tokens can be read."""
    from platxa_secrets.services.keys import KeyService

    lines = read_file(keys_file, "--keys-file").decode("utf-8", "replace").splitlines()
    added = KeyService(runtime()).import_legacy(lines, f"--keys-file {keys_file}")
    info(f"imported {len(added)} legacy key(s): {', '.join(added) or 'all were known'}")

"""`pxs legacy migrate`: move old Fernet-encrypted rows into the store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import emit_json, info
from platxa_secrets.cli.refs import read_file, read_key_lines
from platxa_secrets.errors import ConflictError, ValidationError
from platxa_secrets.services.secrets import SecretService, WriteRequest


@click.group()
def legacy() -> None:
    """Migrate credentials written by older Platxa code."""


def _existing(service: SecretService, requests: list[WriteRequest]) -> list[str]:
    """Targets of the plan that already exist in the store."""
    present = {(s.namespace, s.name) for s in service.list()}
    return [
        f"{r.namespace}/{r.name}" for r in requests if (r.namespace, r.name) in present
    ]


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, column = value.partition("=")
        if not sep or not key or not column:
            raise ValidationError(f"{option} takes KEY=COLUMN", field=option)
        if key in pairs:
            raise ValidationError(f"{option}: key {key!r} is given twice", field=option)
        pairs[key] = column
    return pairs


@legacy.command("migrate")
@click.option(
    "--keys-file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The old key strings, one a line (Fernet keys or raw strings).",
)
@click.option(
    "--csv",
    "csv_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The export of old rows, with a header line.",
)
@click.option(
    "--namespace-column", required=True, help="Column naming each row's namespace."
)
@click.option(
    "--secret", "secret_name", required=True, help="Name of the secret per row."
)
@click.option(
    "--encrypted", multiple=True, metavar="KEY=COL", help="Encrypted column → key."
)
@click.option("--plain", multiple=True, metavar="KEY=COL", help="Plain column → key.")
@click.option("--type", "secret_type", default="Opaque", show_default=True)
@click.option(
    "--dry-run", is_flag=True, help="Decrypt and check everything, write nothing."
)
@click.option(
    "--merge", is_flag=True, help="Merge into existing secrets (default: refuse)."
)
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["table", "json"]), default="table"
)
def migrate(
    keys_file: Path,
    csv_path: Path,
    namespace_column: str,
    secret_name: str,
    encrypted: tuple[str, ...],
    plain: tuple[str, ...],
    secret_type: str,
    dry_run: bool,
    merge: bool,
    fmt: str,
) -> None:
    """Decrypt every row with the old keys and store one secret per row."""
    from platxa_secrets.core.crypto.fernet_keys import parse_legacy_keys
    from platxa_secrets.services.legacy import LegacyMapping, plan_migration

    if not encrypted:
        raise ValidationError(
            "give at least one --encrypted KEY=COLUMN", field="encrypted"
        )
    mapping = LegacyMapping(
        namespace_column,
        secret_name,
        _pairs(encrypted, "--encrypted"),
        _pairs(plain, "--plain"),
        secret_type,
    )
    keys = parse_legacy_keys(read_key_lines(keys_file), "--keys-file")
    if not keys:
        raise ValidationError(
            f"--keys-file {keys_file} holds no keys", field="keys_file"
        )

    plan = plan_migration(read_file(csv_path, "--csv"), str(csv_path), keys, mapping)
    service = SecretService(runtime())
    existing = _existing(service, plan.requests)
    if existing and not merge:
        shown = ", ".join(existing[:10]) + (" …" if len(existing) > 10 else "")
        raise ConflictError(
            f"{len(existing)} target secret(s) already exist ({shown}); nothing "
            "was written. Pass --merge to add the migrated keys to them",
            field="secret",
        )
    requests = [replace(r, replace=False) for r in plan.requests]
    written = [] if dry_run else service.put_many(requests, action="legacy.migrate")

    summary = {
        "rows": plan.rows,
        "dry_run": dry_run,
        "written": sum(1 for w in written if w.changed),
        "unchanged": sum(1 for w in written if not w.changed),
        "values_by_legacy_key": {
            f"line {k}": n for k, n in sorted(plan.by_key.items())
        },
        "empty_cells": plan.empty_cells,
        "existing": existing,
        "secrets": [f"{r.namespace}/{r.name}" for r in plan.requests],
    }
    if fmt == "json":
        emit_json(summary)
        return
    action = "checked" if dry_run else "migrated"
    info(
        f"{action} {plan.rows} rows into {len(plan.requests)} secrets "
        f"named {secret_name}"
    )
    for key, count in sorted(plan.by_key.items()):
        info(f"  {count} values decrypted with legacy key {key}")
    if not dry_run:
        info(
            f"  {summary['written']} written, {summary['unchanged']} already up to date"
        )

"""`pxs audit list`: read the audit trail (names and ids only, never values)."""

from __future__ import annotations

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table


@click.group()
def audit() -> None:
    """Read the audit trail."""


@audit.command("list")
@click.option("--namespace", "-n", help="Only events of this namespace.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@FORMAT_OPTION
def list_(namespace: str | None, limit: int, fmt: str) -> None:
    """The newest events first."""
    from dataclasses import asdict

    from platxa_secrets.services.audit import AuditLog

    events = AuditLog(runtime()).list(namespace, limit)
    if fmt == "json":
        emit_json([asdict(e) for e in events])
        return
    emit_table(
        None,
        [
            "ID",
            "AT",
            "ACTOR",
            "ACTION",
            "TARGET",
            "VERSION",
            "KEYS",
            "KID",
            "OUTCOME",
            "DETAIL",
        ],
        [
            (
                e.id,
                e.at,
                e.actor,
                e.action,
                "/".join(p for p in (e.namespace, e.name) if p) or "-",
                e.version,
                " ".join(e.key_names),
                e.kid,
                e.outcome,
                e.detail,
            )
            for e in events
        ],
    )

"""`pxs audit …`: read, verify, export and archive the audit trail.

Events hold names and ids only, never values, so every command here may
print them. Verification exits non-zero, naming the first event that
broke the chain, when the trail was changed outside Platxa Secrets.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info

_TIME_HELP = "RFC 3339 time, date, or duration back from now (24h, 7d)."


@click.group()
def audit() -> None:
    """Read, verify, export and archive the audit trail."""


@audit.command("list")
@click.option("--namespace", "-n", help="Only events of this namespace.")
@click.option("--actor", help="Only events by this actor (token id or OS user).")
@click.option("--action", help="Only this action, or a prefix ending in * (secret.*).")
@click.option("--since", help=f"Only events at or after this time: {_TIME_HELP}")
@click.option("--until", help=f"Only events before this time: {_TIME_HELP}")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@FORMAT_OPTION
def list_(
    namespace: str | None,
    actor: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
) -> None:
    """The newest events first."""
    from platxa_secrets.services.audit import AuditLog

    events = AuditLog(runtime()).list(
        namespace, limit, actor=actor, action=action, since=since, until=until
    )
    if fmt == "json":
        emit_json([asdict(e) for e in events])
        return
    emit_table(
        None,
        [
            "SEQ",
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
                e.seq,
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


@audit.command("verify")
@click.option(
    "--archive",
    "archive_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check this archive file against its checkpoint instead of the store.",
)
@FORMAT_OPTION
def verify(archive_file: Path | None, fmt: str) -> None:
    """Walk the HMAC chain; name the first event changed, removed or moved."""
    from platxa_secrets.services.audit_archive import verify_archive
    from platxa_secrets.services.audit_verify import verify_store

    rt = runtime()
    report = (
        verify_store(rt) if archive_file is None else verify_archive(rt, archive_file)
    )
    if fmt == "json":
        emit_json({"ok": report.ok, **asdict(report)})
    report.raise_if_broken()

    if fmt != "json":
        span = (
            f" (seq {report.first_seq}…{report.last_seq})" if report.first_seq else ""
        )
        after = (
            f", continuing from the checkpoint at seq {report.checkpoint_seq}"
            if report.checkpoint_seq and archive_file is None
            else ""
        )
        click.echo(
            f"audit chain intact: {report.verified} event(s) verified{span}{after}"
        )


@audit.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="One JSON object per event, with seq and mac.",
)
@click.option("--since", help=f"Only events at or after this time: {_TIME_HELP}")
@click.option("--until", help=f"Only events before this time: {_TIME_HELP}")
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a new file (mode 0600, never overwritten) instead of stdout.",
)
def export(fmt: str, since: str | None, until: str | None, file: Path | None) -> None:
    """Every event in chain order, for a SIEM."""
    from platxa_secrets.services import audit_export

    rt = runtime()
    if file is not None:
        count = audit_export.export_file(rt, file, since, until)
        info(f"exported {count} audit event(s) to {file}")
        return

    audit_export.export(rt, sys.stdout.buffer, since, until)
    sys.stdout.buffer.flush()


@audit.command("archive")
@click.option("--before", required=True, help=f"Archive events before: {_TIME_HELP}")
@click.option(
    "--file",
    "file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The archive to create (mode 0600; an existing file is refused).",
)
@FORMAT_OPTION
def archive(before: str, file: Path, fmt: str) -> None:
    """Move old events into a file and leave a signed checkpoint behind."""
    from platxa_secrets.services import audit_archive

    try:
        done = audit_archive.archive(runtime(), before, file)
    except audit_archive.NothingToArchive as nothing:
        if fmt == "json":
            emit_json({"path": None, "event_count": 0})
        info(f"nothing archived: {nothing.message}; {file} was not written")
        return
    if fmt == "json":
        emit_json(asdict(done))
        return
    info(
        f"archived {done.event_count} audit event(s), seq {done.first_seq}…"
        f"{done.last_seq}, to {done.path}; the checkpoint is its last line"
    )

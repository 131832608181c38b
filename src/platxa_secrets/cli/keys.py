"""`pxs keys …` and `pxs master …`: the key lifecycle from the command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import click

from platxa_secrets.cli.context import runtime
from platxa_secrets.cli.output import FORMAT_OPTION, emit_json, emit_table, info
from platxa_secrets.cli.refs import read_key_lines

T = TypeVar("T")
Progress = Callable[[int, int], None]


@click.group()
def keys() -> None:
    """Data keys: list, rotate, maintain, re-encrypt, census, destroy."""


@keys.command("list")
@FORMAT_OPTION
def list_(fmt: str) -> None:
    """Data keys with their state, dates and how many ciphertexts use each."""
    from platxa_secrets.services.keys import KeyService

    found = KeyService(runtime()).list()
    if fmt == "json":
        emit_json([asdict(k) for k in found])
        return
    emit_table(
        None,
        [
            "KID",
            "STATE",
            "ORIGIN",
            "CREATED",
            "ACTIVATES",
            "ACTIVATED",
            "RETIRED",
            "CIPHERTEXTS",
        ],
        [
            (
                k.kid,
                k.state,
                k.origin,
                k.created_at,
                k.activates_at,
                k.activated_at,
                k.retired_at,
                k.ciphertexts,
            )
            for k in found
        ],
    )


@keys.command()
@click.option(
    "--activate-after",
    "after",
    metavar="DURATION",
    help="Grace period before the key encrypts (default: the configured "
    "grace_period; 0 for a single process).",
)
@FORMAT_OPTION
def rotate(after: str | None, fmt: str) -> None:
    """Create a pending key; it becomes active after the grace period."""
    from platxa_secrets.core.durations import parse_duration
    from platxa_secrets.services.rotation import RotationService

    wait: timedelta | None = (
        parse_duration(after, "--activate-after") if after is not None else None
    )
    rt = runtime()
    record = RotationService(rt).rotate(wait)
    if wait == timedelta(0):
        RotationService(rt).activate(record.kid)
    if fmt == "json":
        emit_json(
            {
                "kid": record.kid,
                "activates_at": record.activates_at,
                "activated": wait == timedelta(0),
            }
        )
        return
    if wait == timedelta(0):
        info(f"key {record.kid} is active; run `pxs keys reencrypt` to move data")
    else:
        info(
            f"key {record.kid} is pending; it activates at {record.activates_at} "
            "(`pxs keys maintain` does it when due)"
        )


def _run_with_progress(work: Callable[[Progress], T], total: int | None = None) -> T:
    """Call `work(progress)`: a Rich bar on a terminal, plain lines otherwise.

    Plain lines come every few seconds, not per batch, so a log stays
    readable on a long run.
    """
    if not sys.stderr.isatty():
        seen = {"done": 0, "shown": time.monotonic()}

        def plain(done: int, absolute: int) -> None:
            seen["done"] = absolute or seen["done"] + done
            if time.monotonic() - seen["shown"] >= 5:
                seen["shown"] = time.monotonic()
                info(f"re-encrypted {seen['done']} ciphertexts so far")

        return work(plain)

    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar("{task.description}", *columns, transient=True) as bar:
        task = bar.add_task("re-encrypting", total=total)

        def advance(done: int, absolute: int) -> None:
            if absolute:
                bar.update(task, completed=absolute)
            else:
                bar.advance(task, done)

        return work(advance)


@keys.command()
@click.option(
    "--batch", default=500, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes sharing the work (use the number of cores).",
)
@FORMAT_OPTION
def reencrypt(batch: int, workers: int, fmt: str) -> None:
    """Move every ciphertext onto the active key (resumable, idempotent)."""
    from platxa_secrets.services.keys import KeyService
    from platxa_secrets.services.reencrypt import reencrypt as run

    rt = runtime()
    census = KeyService(rt).census()
    active = rt.keyring().active_kid
    stale = sum(n for kid, n in census.items() if kid != active)
    report = _run_with_progress(
        lambda progress: run(rt, batch=batch, workers=workers, progress=progress),
        stale,
    )
    if fmt == "json":
        emit_json({k: v for k, v in asdict(report).items() if k != "last"})
    else:
        info(
            f"onto {report.active_kid}: {report.rewritten} rewritten, "
            f"{report.current} already current, {report.failed} failed, "
            f"{report.changed} changed meanwhile (by a writer or another run), "
            f"in {report.seconds:.1f}s"
        )
        for failure in report.failures:
            info(f"  failed: {failure}")
    if report.failed:
        sys.exit(5)


@keys.command()
@click.option(
    "--batch", default=500, show_default=True, type=click.IntRange(1, 100_000)
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@FORMAT_OPTION
def maintain(batch: int, workers: int, fmt: str) -> None:
    """Activate due keys, re-encrypt, destroy retired keys past retention.

    Idempotent and safe from cron on several replicas at once.
    """
    from platxa_secrets.services.maintenance import maintain as run

    rt = runtime()
    report = _run_with_progress(
        lambda progress: run(rt, batch=batch, workers=workers, progress=progress)
    )
    if fmt == "json":
        emit_json(asdict(report))
    else:
        info(
            f"activated: {', '.join(report.activated) or 'none'}; "
            f"retired: {', '.join(report.retired) or 'none'}; "
            f"re-encrypted: {report.reencrypted}; failed: {report.failed}; "
            f"destroyed: {', '.join(report.destroyed) or 'none'}"
        )
        if report.waiting:
            info(f"past retention but still in use: {', '.join(report.waiting)}")
    if report.failed:
        sys.exit(5)


@keys.command()
@FORMAT_OPTION
def census(fmt: str) -> None:
    """Ciphertexts per key id (`legacy`: bare tokens without a key id)."""
    from platxa_secrets.services.keys import KeyService

    counts = KeyService(runtime()).census()
    rows = sorted(((kid or "legacy", n) for kid, n in counts.items()))
    if fmt == "json":
        emit_json(dict(rows))
        return
    emit_table(None, ["KID", "CIPHERTEXTS"], rows)


@keys.command()
@click.argument("kid")
@click.option(
    "--shred",
    "shred",
    metavar="KID",
    help="Destroy even though ciphertexts use it (repeat the key id).",
)
def destroy(kid: str, shred: str | None) -> None:
    """Destroy a retired key (refused while any ciphertext uses it)."""
    from platxa_secrets.errors import ValidationError
    from platxa_secrets.services.rotation import RotationService

    if shred is not None and shred != kid:
        raise ValidationError(
            "--shred must repeat the key id being destroyed", field="shred"
        )
    RotationService(runtime()).destroy(kid, shred=shred is not None)
    info(f"key {kid} destroyed")


@keys.command()
@click.argument("kid")
def activate(kid: str) -> None:
    """Activate a pending key now, before its grace period is over."""
    from platxa_secrets.services.rotation import RotationService

    RotationService(runtime()).activate(kid)
    info(f"key {kid} is active")


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

    lines = read_key_lines(keys_file)
    added = KeyService(runtime()).import_legacy(lines, f"--keys-file {keys_file}")
    info(f"imported {len(added)} legacy key(s): {', '.join(added) or 'all were known'}")


@click.group()
def master() -> None:
    """Master keys: re-wrap data keys under a new one."""


@master.command("rotate")
def master_rotate() -> None:
    """Re-wrap every data key under the primary (first) master key.

    Put the new master key first and the old one second in
    PLATXA_SECRETS_MASTER_KEY (or the key file), run this, then drop
    the old key.
    """
    from platxa_secrets.services.keys import KeyService

    rt = runtime()
    moved = KeyService(rt).rewrap_under_primary()
    info(
        f"re-wrapped {len(moved)} data key(s) under master key "
        f"{rt.master_keys.primary_id}; keys still wrapped by an older master key: 0"
    )

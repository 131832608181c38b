"""`pxs scan`: find leaked keys, tokens and stored values.

One line per leak, `[commit:]path:line:column: kind [fingerprint]
preview`, on stdout; counts and notes on stderr, including one line per
path passed over and why (binary, too large, unreadable, not a regular
file, a symbolic link), so a clean result is read rightly. Exit
status: 0 when nothing is found, 1 when something is, 2 for a usage
error (a missing path, a named path that is a FIFO or a device, a
repository that is not one, an unreadable baseline). A named binary or
oversized file is reported as skipped, not refused: a commit hook
passes every staged file, images included. Matched text is never
printed, so the output is safe to paste into a ticket.
"""

from __future__ import annotations

from pathlib import Path

import click

from platxa_secrets.cli.output import emit_json, info
from platxa_secrets.cli.refs import read_file
from platxa_secrets.services.scan import (
    FILES,
    GIT,
    MIN_VALUE_BYTES,
    STAGED,
    Leak,
    ScanReport,
    ScanRequest,
    ScanService,
    Skipped,
    read_baseline,
    shown_path,
)

_MIB = 1024 * 1024


@click.command()
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATH]..."
)
@click.option("--git", "history", is_flag=True, help="Scan the history of the repo.")
@click.option("--staged", is_flag=True, help="Scan the staged diff (a commit hook).")
@click.option(
    "--store",
    is_flag=True,
    help="Also look for the store's own values (needs the master key; audited).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ignore the leaks listed in an earlier `pxs scan -o json`.",
)
@click.option(
    "--max-size",
    default=16,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Skip (and report) files larger than this many MiB.",
)
@click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per leak (text) or a document for scripts (json).",
)
def scan(
    paths: tuple[Path, ...],
    history: bool,
    staged: bool,
    store: bool,
    baseline: Path | None,
    max_size: int,
    fmt: str,
) -> None:
    """Find leaked Fernet keys and tokens, ciphertexts, API tokens,
    private keys and (with --store) values of this store.

    PATH... are files and folders (default: the current folder); with
    --git or --staged, one repository. Folders are walked without .git,
    .venv, node_modules, and without following links; binary files,
    files over --max-size and anything that is not a regular file are
    skipped and reported one by one. UTF-16 files are read, and
    base64 or hex (even wrapped over lines) is decoded and searched.
    A line holding `pxs-scan: allow` is not reported. Stored values
    shorter than 8 bytes are not looked for.

    Exit status: 0 nothing found, 1 leaks found, 2 usage error (a
    named PATH that is not a regular file or folder is one).
    """
    if history and staged:
        raise click.UsageError("--git and --staged cannot be combined")

    source = GIT if history else STAGED if staged else FILES
    request = ScanRequest(
        paths or (Path("."),),
        source,
        max_size * _MIB,
        read_baseline(read_file(baseline, "--baseline"), str(baseline))
        if baseline
        else frozenset(),
    )

    if store:
        from platxa_secrets.cli.context import runtime

        report = ScanService(runtime()).scan(request)
    else:
        report = ScanService().scan(request)

    if fmt == "json":
        emit_json(_document(report, max_size))
    else:
        for leak in report.leaks:
            click.echo(_line(leak))
        for note in [_summary(report), *_notes(report)]:
            info(f"pxs scan: {note}")

    if report.leaks:
        click.get_current_context().exit(1)


def _line(leak: Leak) -> str:
    place = _place(leak.path, leak.commit) + f":{leak.line}:{leak.column}"
    encoded = f" (in {leak.encoding})" if leak.encoding else ""
    return f"{place}: {leak.kind} [{leak.fingerprint}] {leak.preview}{encoded}"


def _summary(report: ScanReport) -> str:
    tally = report.tally
    where = f"{tally.files} files"
    if tally.commits:
        where = f"{tally.files} file changes in {tally.commits} commits"
    count = len(report.leaks)
    return f"{count} leak{'s' if count != 1 else ''} found in {where}"


def _notes(report: ScanReport) -> list[str]:
    """What the scan did not look at, so a clean result is read rightly."""
    tally, values = report.tally, report.store
    notes = []
    if values is None:
        notes.append(
            "stored values not looked for: pass --store (needs the master key)"
        )
    else:
        notes.append(f"{values.fingerprinted} stored values looked for")
        if values.too_short:
            notes.append(
                f"{values.too_short} stored values shorter than {MIN_VALUE_BYTES} "
                "bytes not looked for (they would match too much)"
            )
        if values.public:
            notes.append(
                f"{values.public} stored values equal to their own namespace, "
                "name or key not looked for (they are not secret)"
            )
        if values.undecryptable:
            notes.append(f"{values.undecryptable} stored values did not decrypt")
    if report.baselined:
        notes.append(f"{report.baselined} leaks in the baseline not shown")
    notes.extend(
        f"skipped {_place(skip.path, skip.commit)}: {skip.reason}"
        for skip in tally.skipped
    )
    return notes


def _document(report: ScanReport, max_size: int) -> dict[str, object]:
    values = report.store
    return {
        "findings": [
            {
                "path": shown_path(leak.path),
                "line": leak.line,
                "column": leak.column,
                "kind": leak.kind,
                "fingerprint": leak.fingerprint,
                "preview": leak.preview,
                "commit": leak.commit,
                "encoding": leak.encoding,
                "secrets": list(leak.secrets),
            }
            for leak in report.leaks
        ],
        "summary": {
            "files": report.tally.files,
            "commits": report.tally.commits,
            "leaks": len(report.leaks),
            "baselined": report.baselined,
            "skipped": [_skipped(skip) for skip in report.tally.skipped],
            "max_file_mib": max_size,
            "store": None
            if values is None
            else {
                "fingerprinted": values.fingerprinted,
                "too_short": values.too_short,
                "public": values.public,
                "undecryptable": values.undecryptable,
                "min_value_bytes": MIN_VALUE_BYTES,
            },
        },
        "notes": _notes(report),
    }


def _skipped(skip: Skipped) -> dict[str, str | None]:
    return {
        "path": shown_path(skip.path),
        "commit": skip.commit,
        "reason": skip.reason,
    }


def _place(path: str, commit: str | None) -> str:
    return f"{commit}:{shown_path(path)}" if commit else shown_path(path)

"""The leak scan: keys, tokens and stored values in files or git history.

Two searches run over the same text. The shape search (`core.leaks`)
needs nothing but the text, so it works in a pre-commit hook or a CI
job that has no master key. The value search needs the store: it
fingerprints every stored value with a key derived from the master key
and looks for those fingerprints (`_scan_values`). It runs only when
asked (`ScanService(runtime)`), because it decrypts every secret, which
is an audited act: the scan writes one `scan` event, counts only.

A report lists leaks by place and kind and never holds matched text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from platxa_secrets.core.leaks import find_leaks
from platxa_secrets.errors import PlatxaSecretsError, ValidationError
from platxa_secrets.logs import get_logger
from platxa_secrets.services import _scan_git as git
from platxa_secrets.services import _scan_sources as sources
from platxa_secrets.services._scan_sources import Skipped
from platxa_secrets.services._scan_values import (
    MIN_VALUE_BYTES,
    STORED_VALUE,
    StoredValues,
    load_stored_values,
)
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.runtime import Runtime

__all__ = [
    "FILES",
    "GIT",
    "MIN_VALUE_BYTES",
    "STAGED",
    "Leak",
    "ScanReport",
    "ScanRequest",
    "ScanService",
    "Skipped",
    "read_baseline",
    "shown_path",
]

FILES, GIT, STAGED = "files", "git", "staged"
DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024
log = get_logger(__name__)


@dataclass(frozen=True)
class ScanRequest:
    """What to scan: files and folders, or the history or index of a repo."""

    paths: tuple[Path, ...] = (Path("."),)
    source: str = FILES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    baseline: frozenset[tuple[str, str, str]] = frozenset()


@dataclass(frozen=True)
class Leak:
    """One leak, located; `preview` and `secrets` name public parts only."""

    path: str
    line: int
    column: int
    kind: str
    fingerprint: str
    preview: str
    commit: str | None = None
    encoding: str | None = None
    secrets: tuple[str, ...] = ()

    @property
    def baseline_key(self) -> tuple[str, str, str]:
        """What a baseline matches on: line numbers move, these do not.

        The path is taken as shown (`shown_path`), as the JSON output
        that a baseline is made from holds it.
        """
        return (shown_path(self.path), self.kind, self.fingerprint)


@dataclass
class ScanReport:
    """The leaks found, and what was read, skipped and fingerprinted."""

    leaks: list[Leak] = field(default_factory=list)
    tally: sources.Tally = field(default_factory=sources.Tally)
    baselined: int = 0
    store: StoredValues | None = None


class ScanService:
    """Scans for leaks; with a runtime, for the store's values as well."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime

    def scan(self, request: ScanRequest) -> ScanReport:
        """Run one scan. Its audit event (store scans only) has counts only."""
        _check(request)
        if self._runtime is None:
            return _run(request, None)

        # A store that cannot be read (no master key, no schema) stops the
        # scan before anything is decrypted, and there is no trail to write.
        self._runtime.ready()
        audit = AuditLog(self._runtime)
        try:
            values = load_stored_values(self._runtime)
            report = _run(request, values)
        except PlatxaSecretsError as exc:
            audit.record("scan", "error", detail=exc.message)
            raise
        audit.record("scan", "ok", detail=_counts(report, values))
        return report


def read_baseline(content: bytes, source: str) -> frozenset[tuple[str, str, str]]:
    """The leaks of an earlier `pxs scan -o json`, to be ignored now."""
    try:
        document = json.loads(content)
        return frozenset(
            (str(item["path"]), str(item["kind"]), str(item["fingerprint"]))
            for item in document["findings"]
        )
    except (ValueError, TypeError, KeyError):
        raise ValidationError(
            f"baseline {source} is not the JSON output of `pxs scan -o json` "
            "(an object whose findings each have path, kind and fingerprint)",
            field="baseline",
        ) from None


def _check(request: ScanRequest) -> None:
    if request.source not in (FILES, GIT, STAGED):
        raise ValidationError(
            f"scan source must be {FILES}, {GIT} or {STAGED}", field="source"
        )
    if request.max_file_bytes < 1:
        raise ValidationError("the file size cap must be positive", field="max_size")
    if request.source != FILES and len(request.paths) != 1:
        raise ValidationError(
            f"a {request.source} scan takes one repository path", field="path"
        )
    for path in request.paths:
        if not path.exists():
            raise ValidationError(f"{path} does not exist", field="path")
        if request.source == FILES:
            sources.check_named(path)


def shown_path(path: str) -> str:
    """A path safe to print: control characters and stray bytes escaped.

    A tab shows as `\\t`, an undecodable byte as `\\udcff`, and so a
    backslash as `\\\\`; the same form is what a baseline holds and is
    matched against.
    """
    return "".join(c if c.isprintable() and c != "\\" else repr(c)[1:-1] for c in path)


def _run(request: ScanRequest, values: StoredValues | None) -> ScanReport:
    report = ScanReport(store=values)
    for chunk in _chunks(request, report.tally):
        for leak in sorted(_search(chunk, values), key=_place):
            if leak.baseline_key in request.baseline:
                report.baselined += 1
            else:
                report.leaks.append(leak)

    log.info(
        "scan: %d leaks in %d files, %d commits",
        len(report.leaks),
        report.tally.files,
        report.tally.commits,
    )
    return report


def _chunks(request: ScanRequest, tally: sources.Tally) -> Iterable[sources.Chunk]:
    if request.source == GIT:
        return git.git_history(request.paths[0], request.max_file_bytes, tally)
    if request.source == STAGED:
        return git.staged(request.paths[0], request.max_file_bytes, tally)
    return sources.files(request.paths, request.max_file_bytes, tally)


def _search(chunk: sources.Chunk, values: StoredValues | None) -> Iterator[Leak]:
    """Shape leaks, then stored values, in one chunk, at file positions."""
    offset = chunk.first_line - 1
    for finding in find_leaks(chunk.text):
        yield Leak(
            chunk.path,
            finding.line + offset,
            finding.column,
            finding.kind,
            finding.fingerprint,
            finding.preview,
            chunk.commit,
            finding.encoding,
        )

    if values is None:
        return
    for match in values.find(chunk.text, chunk.whole_file):
        yield Leak(
            chunk.path,
            match.line + offset,
            match.column,
            STORED_VALUE,
            match.fingerprint,
            ", ".join(match.secrets),
            chunk.commit,
            None,
            match.secrets,
        )


def _place(leak: Leak) -> tuple[int, int]:
    return leak.line, leak.column


def _counts(report: ScanReport, values: StoredValues) -> str:
    stored = sum(leak.kind == STORED_VALUE for leak in report.leaks)
    return (
        f"{values.fingerprinted} values fingerprinted, {values.too_short} shorter "
        f"than {MIN_VALUE_BYTES} bytes skipped, {values.undecryptable} not "
        f"decryptable; {report.tally.files} files, {report.tally.commits} "
        f"commits; {len(report.leaks)} leaks, {stored} of stored values"
    )

"""Re-encryption: move every ciphertext onto the active data key.

For each batch: read the ciphertexts not under the active key, decrypt
and encrypt them in memory, and write each back only if its row still
holds what was read; one commit per batch. The job is idempotent and
resumable — rows already under the active key are simply not selected —
so a run killed at any point loses nothing and a rerun finishes it.
Legacy bare tokens are rewritten into the `pxs1:` form on the way.

Several workers (processes) split the rows by secret id; on PostgreSQL
`SKIP LOCKED` also lets several replicas run at once without double
work. Values never leave the worker that decrypts them, and nothing here
logs a value: progress is counts only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from platxa_secrets.core.config import Config
from platxa_secrets.core.crypto.keyring import Keyring
from platxa_secrets.core.store import value_rows
from platxa_secrets.core.store.db import Database, Tx
from platxa_secrets.core.store.value_rows import StaleValue
from platxa_secrets.errors import CryptoError, PlatxaSecretsError
from platxa_secrets.logs import get_logger
from platxa_secrets.services.audit import AuditLog, Outcome
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import value_context

log = get_logger(__name__)
_MAX_FAILURES_KEPT = 20


@dataclass
class ReencryptReport:
    """Counts of one run (all workers together)."""

    active_kid: str = ""
    total: int = 0
    rewritten: int = 0
    current: int = 0
    changed: int = 0
    failed: int = 0
    shredded: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    last: value_rows.Cursor | None = None

    def merge(self, other: ReencryptReport) -> None:
        self.rewritten += other.rewritten
        self.changed += other.changed
        self.failed += other.failed
        room = _MAX_FAILURES_KEPT - len(self.failures)
        self.failures.extend(other.failures[: max(room, 0)])


Progress = Callable[[int, int], None]


def reencrypt(
    runtime: Runtime,
    batch: int = 500,
    workers: int = 1,
    progress: Progress | None = None,
) -> ReencryptReport:
    """Re-encrypt everything not under the active key; return the counts."""
    if not 1 <= batch <= 100_000:
        raise PlatxaSecretsError("batch must be between 1 and 100000", field="batch")
    if not 1 <= workers <= 64:
        raise PlatxaSecretsError("workers must be between 1 and 64", field="workers")

    started = time.monotonic()
    runtime.forget_keyring()
    active = runtime.keyring().active_kid
    if active is None:
        raise CryptoError("no active data key: run `pxs init` or `pxs keys maintain`")
    with runtime.database.read() as tx:
        total = value_rows.count_stale(tx, active)
        current = value_rows.count_under(tx, active)
        shredded = value_rows.count_shredded(tx)

    report = ReencryptReport(
        active_kid=active, total=total, current=current, shredded=shredded
    )
    if total:
        if workers == 1:
            report.merge(
                _run_partition(runtime, active, batch, value_rows.EVERYTHING, progress)
            )
        else:
            _run_workers(runtime.config, active, batch, workers, report, progress)
    report.seconds = time.monotonic() - started
    _audit(runtime, report)
    return report


def _run_partition(
    runtime: Runtime,
    active: str,
    batch: int,
    partition: value_rows.Bounds,
    progress: Progress | None = None,
) -> ReencryptReport:
    """Walk one partition of the rows in batches; the worker's whole job.

    Counts are taken from a batch only after it committed, so a batch
    retried after a conflict is not counted twice.

    PostgreSQL locks the batch (`SKIP LOCKED`, for replicas) and so reads,
    rewraps and writes in one transaction. SQLite has one write lock for
    the whole database: there the batch is read and rewrapped outside it
    and the lock is held only for the writes, so workers decrypt and
    encrypt in parallel; the compare-and-set in `write_back` keeps any
    row changed in between.
    """
    keyring = runtime.keyring()
    lock = runtime.database.dialect == "postgresql"
    report = ReencryptReport(active_kid=active)
    cursor: value_rows.Cursor | None = value_rows.START

    def one_batch(after: value_rows.Cursor, tx: Tx) -> ReencryptReport | None:
        rows = value_rows.stale_batch(tx, active, after, batch, partition, lock)
        if not rows:
            return None
        done = ReencryptReport(active_kid=active)
        rewrites = _rewrap(keyring, rows, done)
        done.rewritten = value_rows.write_back(tx, rewrites)
        done.changed = len(rewrites) - done.rewritten
        done.last = rows[-1].cursor
        return done

    def unlocked_batch(after: value_rows.Cursor) -> ReencryptReport | None:
        with runtime.database.read() as tx:
            rows = value_rows.stale_batch(tx, active, after, batch, partition)
        if not rows:
            return None
        done = ReencryptReport(active_kid=active)
        rewrites = _rewrap(keyring, rows, done)
        done.rewritten = runtime.database.write(
            partial(value_rows.write_back, rewrites=rewrites)
        )
        done.changed = len(rewrites) - done.rewritten
        done.last = rows[-1].cursor
        return done

    while cursor is not None:
        if lock:
            done = runtime.database.write(partial(one_batch, cursor))
        else:
            done = unlocked_batch(cursor)
        if done is None:
            break
        report.merge(done)
        cursor = done.last
        if progress is not None:
            progress(done.rewritten + done.failed + done.changed, 0)
    return report


def _rewrap(
    keyring: Keyring, rows: list[StaleValue], report: ReencryptReport
) -> list[tuple[StaleValue, str, str]]:
    """Decrypt and encrypt a batch in memory; failures are counted."""
    active = keyring.active_kid or ""
    rewrites = []
    for row in rows:
        context = value_context(row.namespace, row.name, row.version, row.key)
        try:  # messages name the context (namespace/name/version/key)
            ciphertext = keyring.rewrap(row.ciphertext, context, context)
        except CryptoError as exc:
            report.failed += 1
            if len(report.failures) < _MAX_FAILURES_KEPT:
                report.failures.append(exc.message)
            continue
        rewrites.append((row, active, ciphertext))
    return rewrites


def _run_workers(
    config: Config,
    active: str,
    batch: int,
    workers: int,
    report: ReencryptReport,
    progress: Progress | None,
) -> None:
    """Run partitions in separate processes; each opens its own store."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    counter = context.Manager().Value("i", 0) if progress else None
    database = Database(config.database_url)
    try:
        with database.read() as tx:
            ranges = value_rows.partitions(tx, workers)
    finally:
        database.close()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [
            pool.submit(_worker, config, active, batch, bounds, counter)
            for bounds in ranges
        ]
        while progress is not None and not all(f.done() for f in futures):
            time.sleep(0.5)
            progress(0, int(counter.value) if counter is not None else 0)
        for future in futures:
            report.merge(future.result())


def _worker(
    config: Config,
    active: str,
    batch: int,
    partition: value_rows.Bounds,
    counter: object,
) -> ReencryptReport:
    runtime = Runtime(config, actor=config.actor)

    def count(done: int, _: int) -> None:
        if counter is not None:
            counter.value += done  # type: ignore[attr-defined]

    try:
        return _run_partition(runtime, active, batch, partition, count)
    finally:
        runtime.close()


def _audit(runtime: Runtime, report: ReencryptReport) -> None:
    def work(tx: Tx, outcome: Outcome) -> None:
        outcome.kid = report.active_kid
        outcome.detail = (
            f"rewritten {report.rewritten}, failed {report.failed}, changed "
            f"meanwhile {report.changed}"
        )

    AuditLog(runtime).run("keys.reencrypt", None, None, work)
    log.info(
        "re-encryption onto %s: %d rewritten, %d failed in %.1fs",
        report.active_kid,
        report.rewritten,
        report.failed,
        report.seconds,
    )

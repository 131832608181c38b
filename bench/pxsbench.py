"""Shared by the bench scripts: throw-away stores, filled fast.

Not a benchmark itself. The name is deliberately unlike any stdlib or
third-party module: a script in bench/ puts this folder first on
`sys.path`, so a helper called `store.py` or `common.py` could shadow
an installed package.

A store lives in a temporary PLATXA_SECRETS_HOME with a generated master
key. On PostgreSQL it gets a schema of its own, created here and dropped
at the end whatever happens, reached through the URL option
`?options=-csearch_path%3D<schema>`; only a loopback server is accepted.

`fill` writes values the way `SecretService.put` lays them out (one
`secrets` row, a `secret_versions` row per version, a `secret_values`
row per key and version), each encrypted with the project's
`Keyring.encrypt` under the active key and bound to `value_context(ns,
name, version, key)`, but in bulk: worker processes encrypt chunks
while this process inserts the previous ones (`executemany` on SQLite,
`COPY` on PostgreSQL) in large transactions. Each value is derived from
its identity and a per-run salt, so any row can be checked later
without keeping the values.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.fernet import Fernet

from platxa_secrets.clock import to_text
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.core.store import key_rows
from platxa_secrets.services.rotation import RotationService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import value_context

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
KEYS = ("API_KEY", "DB_PASSWORD", "DB_USER", "SMTP_PASSWORD", "TOKEN")
VERSIONS = 2
PER_SECRET = len(KEYS) * VERSIONS  # values per secret
CHUNK_SECRETS = 2_000  # secrets per encryption task (20,000 values)
COMMIT_SECRETS = 20_000  # secrets per build transaction (200,000 values)


# -- stores ------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """A throw-away store: its config, and the environment for children."""

    dialect: str
    config: Config
    env: dict[str, str]
    schema: str | None

    def runtime(self) -> Runtime:
        return Runtime(self.config, actor="bench")

    def child_env(self) -> dict[str, str]:
        """This process's environment without PLATXA_SECRETS_*, plus ours."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("PLATXA_SECRETS_")
        }
        env.update(self.env)
        return env


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(
            f"bench: refusing PostgreSQL host {host!r}: the benches only use a "
            "server on this machine (127.0.0.1)"
        )


def postgresql_available(url: str) -> str | None:
    """None if the server answers, else why not (one line)."""
    import psycopg

    check_loopback(url)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return None


@contextmanager
def temporary_store(dialect: str, pg_url: str = PG_URL) -> Iterator[Store]:
    """A fresh, empty store (not yet initialised) that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="pxs-bench-") as home:
        env = {
            "PLATXA_SECRETS_HOME": home,
            "PLATXA_SECRETS_MASTER_KEY": Fernet.generate_key().decode("ascii"),
        }
        schema = None
        if dialect == "postgresql":
            check_loopback(pg_url)
            schema = f"pxs_bench_{secrets.token_hex(4)}"
            _pg_admin(pg_url, f"CREATE SCHEMA {schema}")
            separator = "&" if "?" in pg_url else "?"
            options = quote(f"-csearch_path={schema}", safe="")
            env["PLATXA_SECRETS_DATABASE_URL"] = (
                f"{pg_url}{separator}options={options}&application_name={schema}"
            )
        try:
            config = load_config(env=env, actor="bench")
            yield Store(dialect, config, env, schema)
        finally:
            if schema is not None:
                _drop_schema(pg_url, schema)


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
        conn.execute(sql)


def _drop_schema(url: str, schema: str) -> None:
    """Drop the bench schema; first end the sessions this bench opened on it.

    Only sessions tagged with the schema's name as application_name (set
    in the store URL), i.e. this bench's own, are ended: a timed-out run
    may have left one inside a long query that holds locks on the schema.
    """
    import psycopg

    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        conn.execute("SET lock_timeout = '60s'")
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def rotate_now(runtime: Runtime) -> str:
    """Make a new data key and activate it at once; return its id."""
    service = RotationService(runtime)
    kid = service.rotate(timedelta(0)).kid
    service.activate(kid)
    return kid


def end_other_sessions(runtime: Runtime, store: Store) -> None:
    """PostgreSQL: end this store's sessions other than `runtime`'s own.

    After a timed-out run its killed processes' sessions may still be
    inside a query holding row locks that the next run would skip.
    """
    if store.schema is None:
        return
    with runtime.database.read() as tx:
        tx.all(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = ? AND pid <> pg_backend_pid()",
            (store.schema,),
        )


def tidy(runtime: Runtime) -> None:
    """PostgreSQL: VACUUM ANALYZE the value tables, as autovacuum would.

    Run (untimed) after a bulk load and between timed runs, so every run
    starts from a table without the dead rows of the previous one and
    with planner statistics. SQLite needs nothing.
    """
    if runtime.database.dialect != "postgresql":
        return
    conn = runtime.database.connect()
    conn.commit()
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        for table in ("secrets", "secret_versions", "secret_values"):
            conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        conn.autocommit = autocommit


# -- values ------------------------------------------------------------------


def identity(secret_id: int) -> tuple[str, str]:
    """Namespace and name of the secret with this id."""
    return f"bench-{secret_id % 16:02d}", f"app-{secret_id:08d}"


def expected_value(salt: bytes, context: str) -> bytes:
    """The 32-byte value stored under `context` in this run."""
    digest = hashlib.blake2b(context.encode("utf-8"), key=salt, digest_size=16)
    return digest.hexdigest().encode("ascii")


_WORKER_RUNTIME: dict[str, Runtime] = {}


def _encrypt_chunk(
    config: Config, salt: bytes, kid: str, first: int, count: int
) -> list[str]:
    """In a build worker: the ciphertexts of secrets first..first+count-1."""
    runtime = _WORKER_RUNTIME.get(kid)
    if runtime is None:
        runtime = _WORKER_RUNTIME[kid] = Runtime(config, actor="bench")
    keyring = runtime.keyring()
    assert keyring.active_kid == kid, "the active key changed under the build"
    out = []
    for secret_id in range(first, first + count):
        namespace, name = identity(secret_id)
        for version in range(1, VERSIONS + 1):
            for key in KEYS:
                context = value_context(namespace, name, version, key)
                out.append(keyring.encrypt(expected_value(salt, context), context))
    return out


def fill(
    runtime: Runtime, salt: bytes, first: int, count: int, workers: int = 2
) -> float:
    """Write secrets first..first+count-1 under the active key; seconds taken."""
    import multiprocessing

    kid = runtime.keyring().active_kid
    assert kid is not None
    started = time.perf_counter()
    now = to_text(runtime.clock.now())
    tasks = [
        (start, min(CHUNK_SECRETS, first + count - start))
        for start in range(first, first + count, CHUNK_SECRETS)
    ]
    writer = _Writer(runtime)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[tuple[int, int, Future[list[str]]]] = deque()
        queue = deque(tasks)
        while queue or pending:
            while queue and len(pending) < 2 * workers:  # bounded in flight
                start, size = queue.popleft()
                future = pool.submit(
                    _encrypt_chunk, runtime.config, salt, kid, start, size
                )
                pending.append((start, size, future))
            start, size, future = pending.popleft()
            writer.add(start, size, kid, future.result(), now)
    writer.finish()
    if runtime.database.dialect == "postgresql":
        _advance_sequence(runtime)
    tidy(runtime)
    return time.perf_counter() - started


class _Writer:
    """Inserts chunks of rows; commits every COMMIT_SECRETS secrets."""

    def __init__(self, runtime: Runtime) -> None:
        self.dialect = runtime.database.dialect
        self.conn = runtime.database.connect()
        self.cursor = self.conn.cursor()
        self.in_tx = 0

    def add(
        self, first: int, count: int, kid: str, ciphertexts: list[str], now: str
    ) -> None:
        assert len(ciphertexts) == count * PER_SECRET
        secret_rows = []
        version_rows = []
        value_rows = []
        index = 0
        for secret_id in range(first, first + count):
            namespace, name = identity(secret_id)
            secret_rows.append((secret_id, namespace, name, VERSIONS, now, now))
            for version in range(1, VERSIONS + 1):
                version_rows.append((secret_id, version, "Opaque", now, "bench"))
                for key in KEYS:
                    value_rows.append(
                        (secret_id, version, key, kid, ciphertexts[index])
                    )
                    index += 1
        if self.in_tx == 0 and self.dialect == "sqlite":
            self.cursor.execute("BEGIN IMMEDIATE")
        self._insert(
            "secrets",
            ("id", "namespace", "name", "current_version", "created_at", "updated_at"),
            secret_rows,
        )
        self._insert(
            "secret_versions",
            ("secret_id", "version", "type", "created_at", "created_by"),
            version_rows,
        )
        self._insert(
            "secret_values",
            ("secret_id", "version", "key", "kid", "ciphertext"),
            value_rows,
        )
        self.in_tx += count
        if self.in_tx >= COMMIT_SECRETS:
            self._commit()

    def finish(self) -> None:
        if self.in_tx:
            self._commit()

    def _commit(self) -> None:
        if self.dialect == "sqlite":
            self.cursor.execute("COMMIT")
        else:
            self.conn.commit()
        self.in_tx = 0

    def _insert(
        self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        names = ", ".join(columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            self.cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", rows
            )
            return
        with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _advance_sequence(runtime: Runtime) -> None:
    """Explicit ids were inserted: move the serial past them, as inserts would."""
    conn = runtime.database.connect()
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('secrets', 'id'), "
        "(SELECT MAX(id) FROM secrets))"
    )
    conn.commit()


# -- checks ------------------------------------------------------------------


def census(runtime: Runtime) -> dict[str | None, int]:
    with runtime.database.read() as tx:
        return key_rows.census(tx)


def verify_sample(
    runtime: Runtime, salt: bytes, secrets_count: int, sample: int, kid: str
) -> int:
    """Decrypt `sample` random values; each must be under `kid` and correct.

    Returns how many were checked; raises SystemExit on the first wrong one.
    """
    runtime.forget_keyring()
    keyring = runtime.keyring()
    chooser = random.Random(secrets.randbits(64))
    checked = 0
    with runtime.database.read() as tx:
        for _ in range(sample):
            secret_id = chooser.randrange(1, secrets_count + 1)
            version = chooser.randrange(1, VERSIONS + 1)
            key = chooser.choice(KEYS)
            row = tx.one(
                "SELECT s.namespace, s.name, v.kid, v.ciphertext FROM "
                "secret_values v JOIN secrets s ON s.id = v.secret_id "
                "WHERE v.secret_id = ? AND v.version = ? AND v.key = ?",
                (secret_id, version, key),
            )
            if row is None:
                raise SystemExit(f"bench: value {secret_id}/{version}/{key} is missing")
            namespace, name, row_kid, ciphertext = row
            context = value_context(namespace, name, version, key)
            decrypted = keyring.decrypt(ciphertext, context)
            if row_kid != kid or decrypted.kid != kid or decrypted.legacy:
                raise SystemExit(
                    f"bench: {context} is under {row_kid}/{decrypted.kid}, not {kid}"
                )
            if decrypted.value != expected_value(salt, context):
                raise SystemExit(f"bench: {context} decrypts to the wrong value")
            checked += 1
    return checked


# -- processes and measurements -------------------------------------------


def peak_memory_mb() -> dict[str, float]:
    """Peak resident set of this process and of its largest reaped child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "self_mb": round(own, 1),
        "children_mb": round(children, 1),
        "total_mb": round(own + children, 1),
    }


def run_child(
    script: Path, args: Sequence[str], env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Run `script` in a fresh interpreter; return the JSON of its last line.

    A fresh process, so its peak memory is that of the measured work only.
    It runs in a session of its own: past `timeout` seconds the whole
    group (the child and any workers it spawned) is killed and the
    result is `{"timeout": timeout}`.
    """
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"timeout": timeout}
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    lines = stdout.decode("utf-8", "replace").strip().splitlines()
    if process.returncode != 0 or not lines:
        raise SystemExit(
            f"bench: child {' '.join(args)} exited {process.returncode}: "
            f"{stderr.decode('utf-8', 'replace').strip()[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def run_databases(
    args: Any, bench_database: Callable[[str, Any], dict[str, Any]]
) -> dict[str, Any]:
    """Run `bench_database` on each database `--database` names.

    PostgreSQL that does not answer is skipped with the reason, unless it
    was asked for alone.
    """
    results: dict[str, Any] = {}
    dialects = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for dialect in dialects:
        if dialect == "postgresql":
            why = postgresql_available(args.pg_url)
            if why is not None:
                if args.database == "postgresql":
                    raise SystemExit(f"bench: PostgreSQL at {args.pg_url}: {why}")
                results[dialect] = {"skipped": f"not reachable: {why}"}
                continue
        results[dialect] = bench_database(dialect, args)
    return results

"""Connections and transactions over the DB-API, for SQLite and PostgreSQL.

Statements are written once with `?` placeholders and translated for
psycopg. SQLite runs in WAL mode with a busy timeout, and write
transactions start with `BEGIN IMMEDIATE`, so concurrent writers queue
for the lock instead of failing with "database is locked". Write
transactions that lose a race (a unique constraint, a serialization
failure, a lock timeout) are retried a few times before the error is
reported.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from platxa_secrets.errors import ConfigError, PlatxaSecretsError, StoreError

T = TypeVar("T")
Row = tuple[Any, ...]
SCHEMA_HEAD = "0004"
_WRITE_ATTEMPTS = 8


class Tx:
    """One open transaction; the only way the store runs statements."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return int(self._cursor.rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run a statement once per row; return the rows changed in all.

        One round trip per call on PostgreSQL (psycopg pipelines it).
        """
        if not rows:
            return 0
        self._cursor.executemany(self._sql(sql), [tuple(r) for r in rows])
        return int(self._cursor.rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self._cursor.execute(self._sql(sql), tuple(params))
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(self._sql(sql), tuple(params))
        return [tuple(row) for row in self._cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return row[0] if row else None

    def _sql(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        return sql.replace("%", "%%").replace("?", "%s")


class Database:
    """A database named by URL: `sqlite:///path` or `postgresql://…`."""

    def __init__(self, url: str) -> None:
        self.url = url
        scheme = url.partition("://")[0]
        self.path: Path | None = None
        if scheme == "sqlite":
            self.dialect = "sqlite"
            self.path = _sqlite_path(url)
        elif scheme in ("postgresql", "postgresql+psycopg", "postgres"):
            self.dialect = "postgresql"
        else:
            raise ConfigError(
                f"database URL scheme {scheme!r} is not supported; use "
                "sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
                field="database_url",
            )
        self._conn: Any = None
        self._file_identity: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"

    @property
    def display_url(self) -> str:
        """The URL without password or query, for messages and logs.

        A password can hide in the user part or in the query string
        (`?password=`), so neither is ever shown.
        """
        if self.dialect == "sqlite":
            return self.url
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))

    @property
    def sqlalchemy_url(self) -> str:
        if self.dialect == "sqlite":
            return self.url
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(scheme="postgresql+psycopg"))

    def exists(self) -> bool:
        return self.dialect != "sqlite" or bool(self.path and self.path.exists())

    def connect(self, create: bool = False) -> Any:
        """Open (once) and return the DB-API connection."""
        if self._conn is not None and self.dialect == "sqlite":
            self._check_same_file()
        if self._conn is None:
            self._conn = (
                self._connect_sqlite(create)
                if self.dialect == "sqlite"
                else self._connect_postgresql()
            )
        return self._conn

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a store-wide lock named `name` (one `pxs init` at a time).

        SQLite: an advisory lock on a file beside the database.
        PostgreSQL: a session advisory lock, held on this connection.
        """
        if self.dialect == "sqlite":
            import fcntl

            assert self.path is not None
            lock_path = self.path.with_name(f"{self.path.name}.{name}.lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)
            return

        conn = self.connect()
        key = int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "big") >> 1
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        conn.commit()
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            conn.commit()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot, nothing written."""
        conn = self.connect()
        try:
            cursor = conn.cursor()
            if self.dialect == "sqlite":
                cursor.execute("BEGIN")
        except Exception as exc:
            raise self._store_error(exc, "read") from None

        try:
            yield Tx(cursor, self.dialect)
        except PlatxaSecretsError:
            raise
        except Exception as exc:
            if not _is_driver_error(exc):
                raise
            raise self._store_error(exc, "read") from None
        finally:
            self._end_read(conn, cursor)

    def _end_read(self, conn: Any, cursor: Any) -> None:
        """Roll back; a connection that cannot is dropped and reopened later."""
        try:
            if self.dialect == "sqlite":
                cursor.execute("ROLLBACK")
            else:
                conn.rollback()
        except Exception:
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # already broken; nothing to save
                conn.close()

    def write(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a write transaction; commit, or roll back and raise.

        Transient conflicts are retried with a short random back-off;
        errors of the project (CAS mismatch, validation) are not.
        """
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                return self._write_once(work)
            except PlatxaSecretsError:
                raise
            except Exception as exc:
                if self.dialect != "sqlite" and getattr(self._conn, "closed", False):
                    self._drop()  # the server went away; reconnect next time
                if attempt == _WRITE_ATTEMPTS or not self._transient(exc):
                    raise self._store_error(exc, "write") from None
                import random  # only on a conflict; it costs start-up time

                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311
        raise AssertionError("unreachable")

    def _write_once(self, work: Callable[[Tx], T]) -> T:
        conn = self.connect()
        cursor = conn.cursor()
        if self.dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        try:
            result = work(Tx(cursor, self.dialect))
        except BaseException:
            conn.rollback() if self.dialect != "sqlite" else cursor.execute("ROLLBACK")
            raise
        conn.commit() if self.dialect != "sqlite" else cursor.execute("COMMIT")
        return result

    def _transient(self, exc: Exception) -> bool:
        if isinstance(exc, sqlite3.OperationalError):
            return "locked" in str(exc) or "busy" in str(exc)
        if isinstance(exc, sqlite3.IntegrityError):
            return "UNIQUE" in str(exc)
        sqlstate = getattr(exc, "sqlstate", None)
        return sqlstate in ("40001", "40P01", "23505", "55P03")

    def _store_error(self, exc: Exception, operation: str) -> StoreError:
        # Driver messages can quote parameters, so only the class is kept.
        sqlstate = getattr(exc, "sqlstate", None)
        code = f", SQLSTATE {sqlstate}" if sqlstate else ""
        return StoreError(
            f"database {self.display_url} failed a {operation} "
            f"({type(exc).__name__}{code}); nothing was changed",
        )

    def _check_same_file(self) -> None:
        """Refuse to go on when the SQLite file was removed or replaced.

        An open connection keeps writing into a deleted (or renamed) file,
        and everything written there is lost; one stat per transaction
        turns that into an error instead.
        """
        assert self.path is not None
        try:
            info = self.path.stat()
            identity: tuple[int, int] | None = (info.st_dev, info.st_ino)
        except OSError:
            identity = None
        if identity != self._file_identity:
            self._drop()
            raise StoreError(
                f"the store {self.path} was removed or replaced while open; "
                "nothing was read or written",
                field="database_url",
            )

    def _connect_sqlite(self, create: bool) -> sqlite3.Connection:
        assert self.path is not None
        if create:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store {self.path}: {exc.strerror}",
                    field="database_url",
                ) from None
        elif not self.path.exists():
            raise StoreError(
                f"no store at {self.path}; run `pxs init` first",
                field="database_url",
            )

        try:
            conn = sqlite3.connect(
                str(self.path),
                timeout=60,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            info = self.path.stat()
            self._file_identity = (info.st_dev, info.st_ino)
        except (sqlite3.Error, OSError) as exc:
            problem = str(exc)
        else:
            return conn
        raise StoreError(
            f"{self.path} cannot be opened as a SQLite database ({problem})",
            field="database_url",
        )

    def _connect_postgresql(self) -> Any:
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        conninfo = urlunsplit(urlsplit(self.url)._replace(scheme="postgresql"))
        try:
            return psycopg.connect(conninfo, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to {self.display_url} "
                f"({type(exc).__name__}: {_first_line(exc)})",
                field="database_url",
            ) from None


def _sqlite_path(url: str) -> Path:
    rest = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if not rest or rest == ":memory:":
        raise StoreError(
            "a SQLite database URL must name a file: sqlite:///relative/path or "
            "sqlite:////absolute/path",
            field="database_url",
        )
    return Path(rest)


def _is_driver_error(exc: Exception) -> bool:
    """An error of sqlite3 or psycopg (not a bug in the caller)."""
    return isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""

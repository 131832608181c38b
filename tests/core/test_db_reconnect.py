"""A PostgreSQL connection that dies is reported as a store error, once,
and the next transaction reconnects."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from platxa_secrets.core.store.db import Database
from platxa_secrets.errors import StoreError
from tests.conftest import PG_BASE


@pytest.mark.postgres
def test_a_killed_connection_fails_one_read_then_reconnects(pg_schema_url: str) -> None:
    database = Database(pg_schema_url)
    with database.read() as tx:
        pid = tx.scalar("SELECT pg_backend_pid()")

    with psycopg.connect(PG_BASE, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    with (
        pytest.raises(StoreError, match="failed a read") as caught,
        database.read() as tx,
    ):
        tx.scalar("SELECT 1")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__

    with database.read() as tx:
        assert tx.scalar("SELECT 1") == 1
    assert database.write(lambda tx: tx.scalar("SELECT 2")) == 2
    database.close()


@pytest.mark.postgres
def test_a_killed_connection_fails_one_write_then_reconnects(
    pg_schema_url: str,
) -> None:
    database = Database(pg_schema_url)
    pid = database.write(lambda tx: tx.scalar("SELECT pg_backend_pid()"))

    with psycopg.connect(PG_BASE, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    with pytest.raises(StoreError, match="failed a write"):
        database.write(lambda tx: tx.scalar("SELECT 1"))
    assert database.write(lambda tx: tx.scalar("SELECT 2")) == 2
    database.close()


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_a_sqlite_file_removed_while_open_stops_reads_and_writes(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "store.db"
    database = Database(f"sqlite:///{path}")
    database.connect(create=True)
    database.write(lambda tx: tx.execute("CREATE TABLE t (x INTEGER)"))

    for leftover in tmp_path.glob("store.db*"):
        leftover.unlink()
    if how == "replaced":
        Database(f"sqlite:///{path}").connect(create=True).close()

    with pytest.raises(StoreError, match="removed or replaced"):
        database.write(lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
    if how == "removed":  # and stays so: no empty store is created
        with pytest.raises(StoreError, match="no store"), database.read() as tx:
            tx.scalar("SELECT 1")
    else:  # the next transaction opens the new file, as a restart would
        with database.read() as tx:
            assert tx.scalar("SELECT COUNT(*) FROM sqlite_master") == 0
    assert path.exists() is (how == "replaced")

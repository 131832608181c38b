"""A PostgreSQL connection that dies is reported as a store error, once,
and the next transaction reconnects."""

from __future__ import annotations

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

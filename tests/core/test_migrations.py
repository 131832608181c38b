"""Alembic migrations: the code's schema revision is the scripts' head."""

from __future__ import annotations

import pytest

from platxa_secrets.core.store.db import SCHEMA_HEAD, Database
from platxa_secrets.core.store.migrate import head_revision, upgrade
from platxa_secrets.core.store.schema_check import check_schema
from platxa_secrets.errors import StoreError


def test_schema_head_matches_the_migration_scripts() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_upgrade_from_the_first_revision_keeps_data(database_url: str) -> None:
    database = Database(database_url)
    database.connect(create=True)
    upgrade(database, "0001")
    database.write(
        lambda tx: tx.execute(
            "INSERT INTO data_keys (kid, state, origin, master_kid, wrapped_key, "
            "created_at, created_by) VALUES ('k1', 'active', 'generated', 'm', 'w', "
            "'2026-01-01T00:00:00.000000Z', 'me')"
        )
    )
    with pytest.raises(StoreError, match="run `pxs init` to migrate"):
        check_schema(database)

    upgrade(database)

    check_schema(database)
    with database.read() as tx:
        assert tx.all("SELECT kid, state, activated_by FROM data_keys") == [
            ("k1", "active", None)
        ]
    database.close()


def test_the_database_refuses_a_second_active_key(database_url: str) -> None:
    database = Database(database_url)
    database.connect(create=True)
    upgrade(database)
    insert = (
        "INSERT INTO data_keys (kid, state, origin, master_kid, wrapped_key, "
        "created_at, created_by) VALUES (?, 'active', 'generated', 'm', 'w', "
        "'2026-01-01T00:00:00.000000Z', 'me')"
    )
    database.write(lambda tx: tx.execute(insert, ("k1",)))

    with pytest.raises(StoreError, match="failed a write"):
        database.write(lambda tx: tx.execute(insert, ("k2",)))

    with database.read() as tx:
        assert tx.all("SELECT kid FROM data_keys") == [("k1",)]
    database.close()

"""Cheap check that the database is initialised at the expected revision."""

from __future__ import annotations

from platxa_secrets.core.store.db import SCHEMA_HEAD, Database
from platxa_secrets.errors import StoreError


def check_schema(database: Database) -> None:
    """Raise unless the schema is at `SCHEMA_HEAD`.

    One query instead of loading Alembic; `pxs init` migrates.
    """
    try:
        with database.read() as tx:
            revision = tx.scalar("SELECT version_num FROM alembic_version")
    except StoreError:
        raise
    except Exception:
        raise StoreError(
            f"the store at {database.display_url} is not initialised; run `pxs init`",
            field="database_url",
        ) from None

    if revision != SCHEMA_HEAD:
        raise StoreError(
            f"the store at {database.display_url} is at schema revision "
            f"{revision}, this version needs {SCHEMA_HEAD}; run `pxs init` to "
            "migrate",
            field="database_url",
        )

"""Run Alembic migrations from code; the only importer of Alembic.

`pxs init` calls `upgrade()`. Every other command only
compares the stored revision with `SCHEMA_HEAD` (see `db.py`), which
costs one query instead of loading the migration machinery.
"""

from __future__ import annotations

from pathlib import Path

from platxa_secrets.core.store.db import Database
from platxa_secrets.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(database: Database) -> object:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as an attribute, not an option: options go through configparser
    # interpolation, which breaks on the '%' of an encoded URL or password.
    config.attributes["url"] = database.sqlalchemy_url
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`, creating it on an empty database."""
    from alembic import command
    from sqlalchemy.exc import SQLAlchemyError

    try:
        command.upgrade(_alembic_config(database), revision)  # type: ignore[arg-type]
    except SQLAlchemyError as exc:
        raise StoreError(
            f"migrating {database.display_url} failed ({type(exc).__name__})"
        ) from None


def head_revision() -> str:
    """The newest revision the migration scripts define."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head

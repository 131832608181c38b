"""Alembic environment: migrate the database named in the Alembic config.

Platxa Secrets runs Alembic from code (`platxa_secrets.core.store.migrate`)
and hands it the URL, so there is no alembic.ini to keep in step.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

url = context.config.attributes.get("url")
assert url, "the migration runner passes the database URL"

engine = create_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()

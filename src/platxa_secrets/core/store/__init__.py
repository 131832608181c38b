"""Storage: the schema (SQLAlchemy, migrated by Alembic) and the row access.

The schema is declared once, as SQLAlchemy DDL in the Alembic migrations
under `migrations/versions/`, which create and evolve it. Values only
ever exist as ciphertext (`secret_values.ciphertext`); the key id of
each one is a plain indexed column, so the census is an index scan.
Times are ISO 8601 text in UTC, identical on SQLite and PostgreSQL.

Day-to-day statements go through the plain DB-API driver (`sqlite3`,
psycopg 3) in `db.py`: importing SQLAlchemy costs about 150 ms, five
times the rest of a `pxs secret get`, and the few statements the store
runs are portable SQL. The migration machinery is loaded only by
`pxs init`, which creates or migrates the schema.
"""

"""Initial schema: data keys, secrets, versions, values, audit events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TEXT32 = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("kid", _TEXT32, primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("master_kid", _TEXT32, nullable=False),
        sa.Column("wrapped_key", sa.Text, nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("activates_at", _TEXT32),
        sa.Column("activated_at", _TEXT32),
        sa.Column("retired_at", _TEXT32),
        sa.Column("destroyed_at", _TEXT32),
    )
    op.create_table(
        "secrets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
        sa.Column("updated_at", _TEXT32, nullable=False),
        sa.UniqueConstraint("namespace", "name", name="uq_secrets_namespace_name"),
    )
    op.create_table(
        "secret_versions",
        sa.Column("secret_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(253), nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("deleted_at", _TEXT32),
        sa.Column("deleted_by", sa.String(200)),
        sa.Column("destroyed_at", _TEXT32),
        sa.PrimaryKeyConstraint("secret_id", "version", name="pk_secret_versions"),
        sa.ForeignKeyConstraint(
            ["secret_id"], ["secrets.id"], ondelete="CASCADE", name="fk_versions_secret"
        ),
    )
    op.create_table(
        "secret_values",
        sa.Column("secret_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", sa.String(253), nullable=False),
        sa.Column("kid", _TEXT32),
        sa.Column("ciphertext", sa.Text),
        sa.PrimaryKeyConstraint("secret_id", "version", "key", name="pk_secret_values"),
        sa.ForeignKeyConstraint(
            ["secret_id", "version"],
            ["secret_versions.secret_id", "secret_versions.version"],
            ondelete="CASCADE",
            name="fk_values_version",
        ),
    )
    op.create_index("ix_secret_values_kid", "secret_values", ["kid"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _TEXT32, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("namespace", sa.String(63)),
        sa.Column("name", sa.String(253)),
        sa.Column("version", sa.Integer),
        sa.Column("key_names", sa.Text),
        sa.Column("kid", _TEXT32),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_events_namespace", "audit_events", ["namespace", "id"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("secret_values")
    op.drop_table("secret_versions")
    op.drop_table("secrets")
    op.drop_table("data_keys")

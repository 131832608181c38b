"""Key lifecycle: who made each transition; one active and one pending key.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_keys") as batch:
        batch.add_column(sa.Column("activated_by", sa.String(200)))
        batch.add_column(sa.Column("retired_by", sa.String(200)))
        batch.add_column(sa.Column("destroyed_by", sa.String(200)))
    # The database itself refuses a second active (or pending) key, whatever
    # the code does and however many replicas race.
    for state in ("active", "pending"):
        op.create_index(
            f"uq_data_keys_one_{state}",
            "data_keys",
            ["state"],
            unique=True,
            sqlite_where=sa.text(f"state = '{state}'"),
            postgresql_where=sa.text(f"state = '{state}'"),
        )


def downgrade() -> None:
    op.drop_index("uq_data_keys_one_pending", "data_keys")
    op.drop_index("uq_data_keys_one_active", "data_keys")
    with op.batch_alter_table("data_keys") as batch:
        batch.drop_column("destroyed_by")
        batch.drop_column("retired_by")
        batch.drop_column("activated_by")

"""The audit chain: sequence and HMAC per event, head, key, checkpoints.

Revision ID: 0004
Revises: 0003

Existing events keep `seq` and `mac` empty: Alembic has no master key,
so it cannot compute an HMAC. The head row records how many events the
store held (and the highest id) when this ran, so that the chain's
start seals exactly those, once, and nothing added later; see
`services/audit_genesis.py`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TEXT32 = sa.String(32)
_MAC = sa.String(64)


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger))
    op.add_column("audit_events", sa.Column("mac", _MAC))
    op.create_index("uq_audit_events_seq", "audit_events", ["seq"], unique=True)
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    # Listings now run in chain order, per namespace too.
    op.drop_index("ix_audit_events_namespace", "audit_events")
    op.create_index("ix_audit_events_namespace", "audit_events", ["namespace", "seq"])

    # One row, locked by every append so concurrent replicas never fork
    # the chain; `head_mac` binds (seq, mac) under the chain key. A store
    # that already held events or data keys is marked as one from before
    # the chain: `legacy_events` and `legacy_last_id` say what to seal.
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("mac", _MAC, nullable=False),
        sa.Column("head_mac", _MAC),
        sa.Column("legacy_events", sa.BigInteger),
        sa.Column("legacy_last_id", sa.BigInteger),
        sa.CheckConstraint("id = 1", name="ck_audit_chain_head_one_row"),
    )
    bind = op.get_bind()
    events, last_id = bind.execute(
        sa.text("SELECT COUNT(*), MAX(id) FROM audit_events")
    ).one()
    data_keys = bind.execute(sa.text("SELECT COUNT(*) FROM data_keys")).scalar_one()
    legacy = bool(events or data_keys)
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "seq": 0,
                "mac": "",
                "head_mac": None,
                "legacy_events": int(events) if legacy else None,
                "legacy_last_id": int(last_id or 0) if legacy else None,
            }
        ],
    )

    # The chain key is random and wrapped by the master key like a data
    # key, so `pxs master rotate` re-wraps it and old events still verify.
    op.create_table(
        "audit_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("master_kid", _TEXT32, nullable=False),
        sa.Column("wrapped_key", sa.Text, nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
    )

    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("prev_mac", _MAC, nullable=False),
        sa.Column("mac", _MAC, nullable=False),
        sa.Column("event_count", sa.BigInteger, nullable=False),
        sa.Column("file_sha256", _MAC, nullable=False),
        sa.Column("archived_before", _TEXT32, nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("checkpoint_mac", _MAC, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_keys")
    op.drop_table("audit_chain_head")
    op.drop_index("ix_audit_events_namespace", "audit_events")
    op.create_index("ix_audit_events_namespace", "audit_events", ["namespace", "id"])
    op.drop_index("ix_audit_events_at", "audit_events")
    op.drop_index("uq_audit_events_seq", "audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("mac")
        batch.drop_column("seq")

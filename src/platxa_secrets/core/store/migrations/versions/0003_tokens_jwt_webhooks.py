"""API tokens, JWT signing keys and webhook alerts seen.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TEXT32 = sa.String(32)
_ACTOR = sa.String(200)


def upgrade() -> None:
    # Only a SHA-256 of a token's secret part is kept: a copy of the
    # database cannot be replayed as a credential.
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
        sa.Column("created_by", _ACTOR, nullable=False),
        sa.Column("expires_at", _TEXT32),
        sa.Column("revoked_at", _TEXT32),
        sa.Column("revoked_by", _ACTOR),
        sa.Column("last_used_at", _TEXT32),
        sa.Column("rotated_from", sa.String(16)),
    )
    # The private key lives in the secrets store (encrypted like any
    # secret); this table holds what is public and the key's schedule.
    op.create_table(
        "jwt_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("created_at", _TEXT32, nullable=False),
        sa.Column("created_by", _ACTOR, nullable=False),
        sa.Column("signs_from", _TEXT32, nullable=False),
        sa.Column("retired_at", _TEXT32),
        sa.Column("unpublish_at", _TEXT32),
        sa.Column("destroyed_at", _TEXT32),
    )
    op.create_table(
        "webhook_alerts",
        sa.Column("receiver", sa.String(63), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", _TEXT32, nullable=False),
        sa.Column("ends_at", _TEXT32),
        sa.Column("updated_at", _TEXT32, nullable=False),
        sa.PrimaryKeyConstraint("receiver", "fingerprint", name="pk_webhook_alerts"),
    )


def downgrade() -> None:
    op.drop_table("webhook_alerts")
    op.drop_table("jwt_keys")
    op.drop_table("api_tokens")

"""media assets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:11:02.871583
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "media_asset",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=50), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_asset")),
        sa.UniqueConstraint("token", name=op.f("uq_media_asset_token")),
    )
    with op.batch_alter_table("media_asset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_asset_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("media_asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_asset_expires_at"))

    op.drop_table("media_asset")

"""series anchor booking

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:06:22.903579
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("booking_series", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "anchor_booking_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_booking_series_anchor_booking_id_booking"),
            "booking",
            ["anchor_booking_id"],
            ["id"],
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("booking_series", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_booking_series_anchor_booking_id_booking"), type_="foreignkey"
        )
        batch_op.drop_column("anchor_booking_id")

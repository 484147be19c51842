"""parked events: a stored event that keeps failing is set aside, not retried for ever

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("parked_at", WHEN, nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.drop_column("parked_at")
        batch_op.drop_column("failures")

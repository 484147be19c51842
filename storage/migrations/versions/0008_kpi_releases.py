"""kpi releases: protected figures of closed periods, stored once and read by every HR view

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 11:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "kpi_release",
        sa.Column("id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("released_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_kpi_release_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_release")),
        sa.UniqueConstraint(
            "organisation_id",
            "kind",
            "start",
            "end",
            name=op.f("uq_kpi_release_organisation_id_kind_start_end"),
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("kpi_release")

"""enrolment and recovery codes; link attempts under keyed hashes, not the member

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00.000000

Link attempts used to cascade with the member, so "forget me" reset the limit. They are now
kept under keyed hashes of the chat account and of the (organisation, employee number) tried.
The old rows cannot be rehashed here (the key is not a migration's business) and only their
last hour ever mattered, so the table is recreated empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = storage.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("roster_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolment_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("enrolment_used_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("recovery_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("link_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_link_attempt_member_time")
    op.drop_table("link_attempt")
    op.create_table(
        "link_attempt",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("employee_key", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", ID, nullable=True),
        sa.Column("attempted_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_link_attempt_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_attempt")),
    )
    with op.batch_alter_table("link_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_link_attempt_account_time", ["account_hash", "attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_link_attempt_employee_time", ["employee_key", "attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_link_attempt_org_time", ["organisation_id", "attempted_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision (attempt rows are dropped again)."""
    with op.batch_alter_table("link_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_link_attempt_org_time")
        batch_op.drop_index("ix_link_attempt_employee_time")
        batch_op.drop_index("ix_link_attempt_account_time")
    op.drop_table("link_attempt")
    op.create_table(
        "link_attempt",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("attempted_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_link_attempt_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_attempt")),
    )
    with op.batch_alter_table("link_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_link_attempt_member_time", ["member_id", "attempted_at"], unique=False
        )
    # Not a batch: on SQLite that copies roster_entry, which member rows reference.
    for column in ("recovery_hash", "enrolment_used_at", "enrolment_hash"):
        op.execute(f"ALTER TABLE roster_entry DROP COLUMN {column}")

"""crisis care: on-call counselor, episodes, alerts, check-ins

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = storage.models.UTCDateTime(timezone=True)
FK_ON_CALL = "fk_organisation_on_call_counselor_id_counselor"


def upgrade() -> None:
    """Apply this revision."""
    _add_on_call_column()
    with op.batch_alter_table("crisis_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("episode_start", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_index(
            "ix_crisis_event_org_time", ["organisation_id", "occurred_at"], unique=False
        )
    _mark_repeat_hits()
    with op.batch_alter_table("crisis_event", schema=None) as batch_op:
        batch_op.alter_column("episode_start", server_default=None)
    op.create_table(
        "crisis_alert",
        sa.Column("id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=True),
        sa.Column("counselor_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("raised_at", WHEN, nullable=False),
        sa.Column("acknowledged_at", WHEN, nullable=True),
        sa.Column("followed_up_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["counselor_id"], ["counselor.id"], name=op.f("fk_crisis_alert_counselor_id_counselor")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_crisis_alert_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_crisis_alert_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_alert")),
    )
    with op.batch_alter_table("crisis_alert", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crisis_alert_open", ["acknowledged_at", "followed_up_at"], unique=False
        )
    op.create_table(
        "crisis_check_in",
        sa.Column("chat_hash", sa.String(length=64), nullable=False),
        sa.Column("checked_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("chat_hash", name=op.f("pk_crisis_check_in")),
    )
    with op.batch_alter_table("crisis_check_in", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crisis_check_in_checked_at"), ["checked_at"], unique=False
        )


def _add_on_call_column() -> None:
    """The on-call counselor of an organisation; SQLite adds it in place (no table copy)."""
    if op.get_bind().dialect.name == "sqlite":
        # A batch copy would drop `organisation`, which every table with data refers to.
        op.execute(
            "ALTER TABLE organisation ADD COLUMN on_call_counselor_id INTEGER"
            f" CONSTRAINT {FK_ON_CALL} REFERENCES counselor (id)"
        )
        return
    op.add_column("organisation", sa.Column("on_call_counselor_id", ID, nullable=True))
    op.create_foreign_key(
        FK_ON_CALL, "organisation", "counselor", ["on_call_counselor_id"], ["id"]
    )


def _mark_repeat_hits() -> None:
    """Existing events: only a person's first hit of a local day starts an episode."""
    bind = op.get_bind()
    event, org = (
        sa.table(
            "crisis_event",
            sa.column("id", ID),
            sa.column("member_id", ID),
            sa.column("organisation_id", ID),
            sa.column("occurred_at", WHEN),
            sa.column("episode_start", sa.Boolean()),
        ),
        sa.table("organisation", sa.column("id", ID), sa.column("timezone", sa.String())),
    )
    rows = bind.execute(
        sa.select(event.c.id, event.c.member_id, event.c.occurred_at, org.c.timezone)
        .select_from(event.outerjoin(org, org.c.id == event.c.organisation_id))
        .where(event.c.member_id.is_not(None))
        .order_by(event.c.occurred_at, event.c.id)
    )
    seen, repeats = set(), []
    for event_id, member_id, occurred_at, timezone in rows:
        moment = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
        day = (member_id, moment.astimezone(ZoneInfo(timezone or "UTC")).date())
        if day in seen:
            repeats.append(event_id)
        seen.add(day)
    for start in range(0, len(repeats), 500):
        chunk = repeats[start : start + 500]
        bind.execute(event.update().where(event.c.id.in_(chunk)).values(episode_start=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("crisis_check_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crisis_check_in_checked_at"))
    op.drop_table("crisis_check_in")
    with op.batch_alter_table("crisis_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_crisis_alert_open")
    op.drop_table("crisis_alert")
    with op.batch_alter_table("crisis_event", schema=None) as batch_op:
        batch_op.drop_index("ix_crisis_event_org_time")
        batch_op.drop_column("episode_start")
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        if not sqlite:  # SQLite does not report the name of a constraint added in place
            batch_op.drop_constraint(FK_ON_CALL, type_="foreignkey")
        batch_op.drop_column("on_call_counselor_id")

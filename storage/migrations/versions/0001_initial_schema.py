"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 09:36:21.232295
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "conversation_state",
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_conversation_state")),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job", sa.String(length=50), nullable=False),
        sa.Column("run_key", sa.String(length=100), nullable=False),
        sa.Column("ran_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("job", "run_key", name=op.f("uq_job_run_job_run_key")),
    )
    op.create_table(
        "organisation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("plan_year_start_month", sa.SmallInteger(), nullable=False),
        sa.Column("plan_year_start_day", sa.SmallInteger(), nullable=False),
        sa.Column("minutes_per_year", sa.Integer(), nullable=False),
        sa.Column("enabled_domains", sa.String(length=200), nullable=False),
        sa.Column("cancellation_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("min_notice_hours", sa.Integer(), nullable=False),
        sa.Column("booking_horizon_days", sa.Integer(), nullable=False),
        sa.Column("no_show_uses_hours", sa.Boolean(), nullable=False),
        sa.Column("min_group_size", sa.SmallInteger(), nullable=False),
        sa.Column("min_group_size_usage", sa.SmallInteger(), nullable=False),
        sa.Column("crisis_line", sa.String(length=40), nullable=True),
        sa.Column("digest_weekday", sa.SmallInteger(), nullable=False),
        sa.Column("digest_hour", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_group_size >= 5", name=op.f("ck_organisation_min_group_size")),
        sa.CheckConstraint(
            "min_group_size_usage >= 5", name=op.f("ck_organisation_min_group_size_usage")
        ),
        sa.CheckConstraint("minutes_per_year >= 0", name=op.f("ck_organisation_minutes_per_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("code", name=op.f("uq_organisation_code")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("retry_key", sa.String(length=36), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sent", "dead", name="outboxstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_message_idempotency_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "processed_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_event")),
        sa.UniqueConstraint(
            "channel", "event_id", name=op.f("uq_processed_event_channel_event_id")
        ),
    )
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.create_index("ix_processed_event_pending", ["processed_at"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_audit_log_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "counselor",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("domains", sa.String(length=200), nullable=False),
        sa.Column("modes", sa.String(length=100), nullable=False),
        sa.Column("languages", sa.String(length=50), nullable=False),
        sa.Column("licence_number", sa.String(length=50), nullable=False),
        sa.Column("licence_expires_on", sa.Date(), nullable=False),
        sa.Column("session_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("decline_window_hours", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=True,
        ),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_counselor_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counselor")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_counselor_channel_external_id")
        ),
    )
    with op.batch_alter_table("counselor", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counselor_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "hr_user",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=True,
        ),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_hr_user_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hr_user")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_hr_user_channel_external_id")),
    )
    with op.batch_alter_table("hr_user", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hr_user_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "kpi_snapshot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("computed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_kpi_snapshot_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_snapshot")),
        sa.UniqueConstraint(
            "organisation_id", "day", name=op.f("uq_kpi_snapshot_organisation_id_day")
        ),
    )
    op.create_table(
        "roster_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("employee_hash", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "left", name="rosterstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_roster_entry_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_entry")),
        sa.UniqueConstraint(
            "organisation_id",
            "employee_hash",
            name=op.f("uq_roster_entry_organisation_id_employee_hash"),
        ),
    )
    with op.batch_alter_table("roster_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roster_entry_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "invite",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "kind",
            sa.Enum("counselor", "hr", name="invitekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "counselor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "hr_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["counselor_id"], ["counselor.id"], name=op.f("fk_invite_counselor_id_counselor")
        ),
        sa.ForeignKeyConstraint(
            ["hr_user_id"], ["hr_user.id"], name=op.f("fk_invite_hr_user_id_hr_user")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_invite_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invite_code_hash")),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("consent_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "roster_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("linked_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "messaging_stopped_at", storage.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("first_seen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_member_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["roster_entry_id"],
            ["roster_entry.id"],
            name=op.f("fk_member_roster_entry_id_roster_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_member_channel_external_id")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_member_pseudonym")),
        sa.UniqueConstraint("roster_entry_id", name=op.f("uq_member_roster_entry_id")),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "slot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "counselor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("starts_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_slot_slot_order")),
        sa.ForeignKeyConstraint(
            ["counselor_id"], ["counselor.id"], name=op.f("fk_slot_counselor_id_counselor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot")),
        sa.UniqueConstraint(
            "counselor_id", "starts_at", name=op.f("uq_slot_counselor_id_starts_at")
        ),
    )
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.create_index("ix_slot_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "weekly_hours",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "counselor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counselor_id"],
            ["counselor.id"],
            name=op.f("fk_weekly_hours_counselor_id_counselor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_hours")),
    )
    op.create_table(
        "booking_series",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "counselor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("interval_weeks", sa.SmallInteger(), nullable=False),
        sa.Column("occurrences", sa.SmallInteger(), nullable=False),
        sa.Column("offered_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["counselor_id"],
            ["counselor.id"],
            name=op.f("fk_booking_series_counselor_id_counselor"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_booking_series_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )
    op.create_table(
        "crisis_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "console", "telegram", "line", "test", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("occurred_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_crisis_event_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_crisis_event_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_event")),
    )
    op.create_table(
        "link_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("attempted_at", storage.models.UTCDateTime(timezone=True), nullable=False),
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

    op.create_table(
        "member_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_member_activity_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_member_activity_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_activity")),
        sa.UniqueConstraint(
            "pseudonym", "kind", "day", name=op.f("uq_member_activity_pseudonym_kind_day")
        ),
    )
    with op.batch_alter_table("member_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_activity_org_day", ["organisation_id", "day"], unique=False
        )

    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "domain",
            sa.Enum(
                "psychology",
                "legal",
                "finance",
                "nutrition",
                name="domain",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "offered_slot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("offered_until", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_waitlist_entry_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offered_slot_id"], ["slot.id"], name=op.f("fk_waitlist_entry_offered_slot_id_slot")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_waitlist_entry_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    op.create_table(
        "booking",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "counselor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("slot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "active_slot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "domain",
            sa.Enum(
                "psychology",
                "legal",
                "finance",
                "nutrition",
                name="domain",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "mode",
            sa.Enum("video", "phone", "in_person", name="mode", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("plan_year", sa.Date(), nullable=False),
        sa.Column("starts_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "cancelled",
                "late_cancelled",
                "declined",
                "held",
                "no_show",
                "rescheduled",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("crisis_flag", sa.Boolean(), nullable=False),
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "rescheduled_from_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_booking_booking_minutes")),
        sa.ForeignKeyConstraint(
            ["active_slot_id"], ["slot.id"], name=op.f("fk_booking_active_slot_id_slot")
        ),
        sa.ForeignKeyConstraint(
            ["counselor_id"], ["counselor.id"], name=op.f("fk_booking_counselor_id_counselor")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_booking_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_booking_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_from_id"],
            ["booking.id"],
            name=op.f("fk_booking_rescheduled_from_id_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["booking_series.id"], name=op.f("fk_booking_series_id_booking_series")
        ),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"], name=op.f("fk_booking_slot_id_slot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("active_slot_id", name=op.f("uq_booking_active_slot_id")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booking_counselor_starts", ["counselor_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_booking_member_status", ["member_id", "status"], unique=False)
        batch_op.create_index(
            "ix_booking_org_starts", ["organisation_id", "starts_at"], unique=False
        )

    op.create_table(
        "booking_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "cancelled",
                "late_cancelled",
                "declined",
                "held",
                "no_show",
                "rescheduled",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=20), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_booking_event_booking_id_booking")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_event")),
    )
    with op.batch_alter_table("booking_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_event_booking_id"), ["booking_id"], unique=False
        )

    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "domain",
            sa.Enum(
                "psychology",
                "legal",
                "finance",
                "nutrition",
                name="domain",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("prompted_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("satisfaction", sa.SmallInteger(), nullable=True),
        sa.Column("resolved", sa.String(length=10), nullable=True),
        sa.Column("would_use_again", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "satisfaction BETWEEN 1 AND 5", name=op.f("ck_feedback_satisfaction_range")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_feedback_booking_id_booking")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_feedback_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_feedback_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_feedback_booking_id")),
    )
    op.create_table(
        "hours_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("plan_year", sa.Date(), nullable=False),
        sa.Column(
            "bucket",
            sa.Enum("granted", "reserved", "used", name="bucket", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column(
            "domain",
            sa.Enum(
                "psychology",
                "legal",
                "finance",
                "nutrition",
                name="domain",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_hours_entry_booking_id_booking")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_hours_entry_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_hours_entry_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hours_entry")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_hours_entry_idempotency_key")),
    )
    with op.batch_alter_table("hours_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hours_entry_member_year", ["member_id", "plan_year"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("hours_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_hours_entry_member_year")

    op.drop_table("hours_entry")
    op.drop_table("feedback")
    with op.batch_alter_table("booking_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_event_booking_id"))

    op.drop_table("booking_event")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_org_starts")
        batch_op.drop_index("ix_booking_member_status")
        batch_op.drop_index("ix_booking_counselor_starts")

    op.drop_table("booking")
    op.drop_table("waitlist_entry")
    with op.batch_alter_table("member_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_member_activity_org_day")

    op.drop_table("member_activity")
    with op.batch_alter_table("link_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_link_attempt_member_time")

    op.drop_table("link_attempt")
    op.drop_table("crisis_event")
    op.drop_table("booking_series")
    op.drop_table("weekly_hours")
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.drop_index("ix_slot_starts_at")

    op.drop_table("slot")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_organisation_id"))

    op.drop_table("member")
    op.drop_table("invite")
    with op.batch_alter_table("roster_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_entry_organisation_id"))

    op.drop_table("roster_entry")
    op.drop_table("kpi_snapshot")
    with op.batch_alter_table("hr_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hr_user_organisation_id"))

    op.drop_table("hr_user")
    with op.batch_alter_table("counselor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counselor_organisation_id"))

    op.drop_table("counselor")
    op.drop_table("audit_log")
    with op.batch_alter_table("processed_event", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_event_pending")

    op.drop_table("processed_event")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox_message")
    op.drop_table("organisation")
    op.drop_table("job_run")
    op.drop_table("conversation_state")

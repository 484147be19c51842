"""The whole data model: SQLAlchemy 2 typed models, all timestamps in UTC."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.pseudonyms import new_grant_key

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC to what SQLite returns naive."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class Domain(enum.StrEnum):
    """The service domains an EAP offers."""

    PSYCHOLOGY = "psychology"
    LEGAL = "legal"
    FINANCE = "finance"
    NUTRITION = "nutrition"


class Mode(enum.StrEnum):
    """How a session is held."""

    VIDEO = "video"
    PHONE = "phone"
    IN_PERSON = "in_person"


class Channel(enum.StrEnum):
    """The messaging channels the bot speaks on."""

    CONSOLE = "console"
    TELEGRAM = "telegram"
    LINE = "line"
    TEST = "test"


class RosterStatus(enum.StrEnum):
    """Whether a roster entry is still employed."""

    ACTIVE = "active"
    LEFT = "left"


class BookingStatus(enum.StrEnum):
    """Where a booking stands; only BOOKED holds the slot."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    DECLINED = "declined"
    HELD = "held"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"


class Bucket(enum.StrEnum):
    """Hours ledger buckets: left = granted - reserved - used."""

    GRANTED = "granted"
    RESERVED = "reserved"
    USED = "used"


class OutboxStatus(enum.StrEnum):
    """Delivery state of an outgoing message."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class InviteKind(enum.StrEnum):
    """Who a one-time invite code links."""

    COUNSELOR = "counselor"
    HR = "hr"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Organisation(Base):
    """An employer whose employees use the EAP."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    plan_year_start_month: Mapped[int] = mapped_column(SmallInteger, default=1)
    plan_year_start_day: Mapped[int] = mapped_column(SmallInteger, default=1)
    minutes_per_year: Mapped[int] = mapped_column(Integer, default=480)
    enabled_domains: Mapped[str] = mapped_column(
        String(200), default="psychology,legal,finance,nutrition"
    )
    cancellation_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)
    min_notice_hours: Mapped[int] = mapped_column(Integer, default=24)
    booking_horizon_days: Mapped[int] = mapped_column(Integer, default=30)
    no_show_uses_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    # Minutes of active, not yet started bookings one member may hold at a time.
    max_minutes_ahead: Mapped[int] = mapped_column(Integer, default=240, server_default="240")
    min_group_size: Mapped[int] = mapped_column(SmallInteger, default=5)
    min_group_size_usage: Mapped[int] = mapped_column(SmallInteger, default=10)
    crisis_line: Mapped[str | None] = mapped_column(String(40))
    on_call_counselor_id: Mapped[int | None] = mapped_column(
        ForeignKey("counselor.id", use_alter=True)
    )
    digest_weekday: Mapped[int] = mapped_column(SmallInteger, default=0)
    digest_hour: Mapped[int] = mapped_column(SmallInteger, default=9)
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        CheckConstraint("min_group_size >= 5", name="min_group_size"),
        CheckConstraint("min_group_size_usage >= 5", name="min_group_size_usage"),
        CheckConstraint("minutes_per_year >= 0", name="minutes_per_year"),
    )

    @property
    def domains(self) -> list[Domain]:
        """The enabled domains in a stable order."""
        enabled = set(self.enabled_domains.split(","))
        return [d for d in Domain if d.value in enabled]


class RosterEntry(Base):
    """One employee on an organisation's roster, known only by a keyed hash."""

    __tablename__ = "roster_entry"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    employee_hash: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[RosterStatus] = mapped_column(_enum(RosterStatus), default=RosterStatus.ACTIVE)
    updated_at: Mapped[datetime] = mapped_column()
    # Keyed hashes of the single-use enrolment code HR hands out and of the recovery code the
    # employee was shown at linking (moves the link to a new chat); the codes are never stored.
    enrolment_hash: Mapped[str | None] = mapped_column(String(64))
    enrolment_used_at: Mapped[datetime | None]
    recovery_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("organisation_id", "employee_hash"),)


class Member(Base):
    """A chat account of an employee who consented; linked to a roster entry once verified."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    consent_at: Mapped[datetime] = mapped_column()
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    # Random, never reused: keys the yearly grant, which a reused id would have swallowed.
    grant_key: Mapped[str] = mapped_column(String(32), default=new_grant_key)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    roster_entry_id: Mapped[int | None] = mapped_column(ForeignKey("roster_entry.id"), unique=True)
    linked_at: Mapped[datetime | None]
    messaging_stopped_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column()

    roster_entry: Mapped[RosterEntry | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_member_grant_key", "grant_key", unique=True),
    )


class LinkAttempt(Base):
    """A failed attempt to link a chat to the roster, under keyed hashes of the chat account
    and of the (organisation, employee number) tried, so "forget me" does not reset the limit."""

    __tablename__ = "link_attempt"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    account_hash: Mapped[str] = mapped_column(String(64))
    employee_key: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    attempted_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        Index("ix_link_attempt_account_time", "account_hash", "attempted_at"),
        Index("ix_link_attempt_employee_time", "employee_key", "attempted_at"),
        Index("ix_link_attempt_org_time", "organisation_id", "attempted_at"),
    )


class MemberActivity(Base):
    """A meaningful action of a member on a day (participation KPI); one row per kind per day."""

    __tablename__ = "member_activity"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    pseudonym: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(30))
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("pseudonym", "kind", "day"),
        Index("ix_member_activity_org_day", "organisation_id", "day"),
    )


class HrUser(Base):
    """An HR user of an organisation; sees aggregates only."""

    __tablename__ = "hr_user"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel))
    external_id: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10), default="zh-TW")
    linked_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class Counselor(Base):
    """A licensed counselor who offers sessions in some domains and modes."""

    __tablename__ = "counselor"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    domains: Mapped[str] = mapped_column(String(200))
    modes: Mapped[str] = mapped_column(String(100))
    languages: Mapped[str] = mapped_column(String(50), default="zh-TW")
    licence_number: Mapped[str] = mapped_column(String(50))
    licence_expires_on: Mapped[date] = mapped_column(Date)
    session_minutes: Mapped[int] = mapped_column(Integer, default=60)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=10)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    decline_window_hours: Mapped[int] = mapped_column(Integer, default=12)
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel))
    external_id: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10), default="zh-TW")
    linked_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    def offers(self, domain: str, mode: str) -> bool:
        """Whether this counselor offers the domain in the mode."""
        return domain in self.domains.split(",") and mode in self.modes.split(",")


class WeeklyHours(Base):
    """A counselor's recurring working hours on one weekday (local time of the organisation)."""

    __tablename__ = "weekly_hours"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselor.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class Invite(Base):
    """A one-time, expiring code that links a counselor or HR user to a chat."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[InviteKind] = mapped_column(_enum(InviteKind))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counselor_id: Mapped[int | None] = mapped_column(ForeignKey("counselor.id"))
    hr_user_id: Mapped[int | None] = mapped_column(ForeignKey("hr_user.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Slot(Base):
    """A bookable time of a counselor; the active booking, if any, holds it."""

    __tablename__ = "slot"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselor.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)

    counselor: Mapped[Counselor] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("counselor_id", "starts_at"),
        Index("ix_slot_starts_at", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="slot_order"),
    )


class BookingSeries(Base):
    """A weekly or fortnightly series a counselor offered and the employee confirmed once."""

    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselor.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    anchor_booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", use_alter=True))
    interval_weeks: Mapped[int] = mapped_column(SmallInteger)
    occurrences: Mapped[int] = mapped_column(SmallInteger)
    offered_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None]


class Booking(Base):
    """A session an employee booked; active_slot_id is unique, so one slot has one booking."""

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselor.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    active_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"), unique=True)
    domain: Mapped[Domain] = mapped_column(_enum(Domain))
    mode: Mapped[Mode] = mapped_column(_enum(Mode))
    minutes: Mapped[int] = mapped_column(Integer)
    plan_year: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus))
    note: Mapped[str | None] = mapped_column(Text)
    crisis_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("booking_series.id"))
    rescheduled_from_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        Index("ix_booking_member_status", "member_id", "status"),
        Index("ix_booking_org_starts", "organisation_id", "starts_at"),
        Index("ix_booking_counselor_starts", "counselor_id", "starts_at"),
        CheckConstraint("minutes > 0", name="booking_minutes"),
    )


class BookingEvent(Base):
    """One status change of a booking (its history)."""

    __tablename__ = "booking_event"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus))
    actor: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column()


class HoursEntry(Base):
    """One signed movement of minutes in a bucket; balances are sums, never stored."""

    __tablename__ = "hours_entry"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    plan_year: Mapped[date] = mapped_column(Date)
    bucket: Mapped[Bucket] = mapped_column(_enum(Bucket))
    minutes: Mapped[int] = mapped_column(Integer)
    domain: Mapped[Domain | None] = mapped_column(_enum(Domain))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    reason: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (Index("ix_hours_entry_member_year", "member_id", "plan_year"),)


class Feedback(Base):
    """The feedback prompt after a held session and the employee's answers."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    domain: Mapped[Domain] = mapped_column(_enum(Domain))
    prompted_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    resolved: Mapped[str | None] = mapped_column(String(10))
    would_use_again: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),)


class CrisisEvent(Base):
    """That the crisis screen fired; never the words."""

    __tablename__ = "crisis_event"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    locale: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column()
    episode_start: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_crisis_event_org_time", "organisation_id", "occurred_at"),)


class CrisisAlert(Base):
    """An employee in danger asked that the organisation's on-call counselor be told."""

    __tablename__ = "crisis_alert"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    counselor_id: Mapped[int] = mapped_column(ForeignKey("counselor.id"))
    kind: Mapped[str] = mapped_column(String(20))
    raised_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None]
    followed_up_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_crisis_alert_open", "acknowledged_at", "followed_up_at"),)


class CrisisCheckIn(Base):
    """When a chat was last gently checked on (a keyed hash of the chat, never its id)."""

    __tablename__ = "crisis_check_in"

    chat_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(index=True)


class WaitlistEntry(Base):
    """An employee waiting for a slot in a domain; a freed slot is offered and held a while."""

    __tablename__ = "waitlist_entry"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    domain: Mapped[Domain] = mapped_column(_enum(Domain))
    weekdays: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column()
    offered_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"))
    offered_until: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class ConversationState(Base):
    """Where a chat stands in a flow, keyed by (channel, external id)."""

    __tablename__ = "conversation_state"

    channel: Mapped[Channel] = mapped_column(_enum(Channel), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    flow: Mapped[str] = mapped_column(String(40), default="")
    step: Mapped[str] = mapped_column(String(40), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column()


class ProcessedEvent(Base):
    """A platform event: stored (with its body) before acknowledging, body dropped once done."""

    __tablename__ = "processed_event"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    event_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column()
    processed_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    parked_at: Mapped[datetime | None]  # failed too often: kept for an operator, not retried

    __table_args__ = (
        UniqueConstraint("channel", "event_id"),
        Index("ix_processed_event_pending", "processed_at"),
    )


class OutboxMessage(Base):
    """A message to send later; survives restarts and outages, sent once per idempotency key."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    recipient: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    retry_key: Mapped[str] = mapped_column(String(36))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient", "channel", "recipient", "status", "id"),
    )


class KpiSnapshot(Base):
    """One organisation's anonymous KPI figures for one day."""

    __tablename__ = "kpi_snapshot"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    day: Mapped[date] = mapped_column(Date)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column()

    __table_args__ = (UniqueConstraint("organisation_id", "day"),)


class KpiRelease(Base):
    """Protected KPI figures of one closed period: released once, never changed afterwards."""

    __tablename__ = "kpi_release"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    released_at: Mapped[datetime] = mapped_column()

    __table_args__ = (UniqueConstraint("organisation_id", "kind", "start", "end"),)


class AuditLog(Base):
    """An HR or operator action, for accountability."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MediaAsset(Base):
    """A file served under an unguessable, expiring URL (e.g. a digest chart for LINE)."""

    __tablename__ = "media_asset"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(50))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


class JobRun(Base):
    """That a scheduled job ran for a key (an organisation and a day), so reruns do nothing."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    run_key: Mapped[str] = mapped_column(String(100))
    ran_at: Mapped[datetime] = mapped_column()

    __table_args__ = (UniqueConstraint("job", "run_key"),)

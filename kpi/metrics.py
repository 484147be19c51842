"""Raw KPI aggregates of one organisation and period, computed in SQL in five queries.

Definitions (N = the active roster headcount at the time of computing; the roster keeps no
history, so the daily snapshot is what freezes N per day):

- participation = distinct members linked to an active roster entry of the organisation with at
  least one meaningful action (viewed services, checked hours, started a booking) on a local day
  in the period, divided by N.
- utilization = distinct such members with at least one held session starting in the period,
  divided by N. repeat use = those with two or more held sessions divided by those with one or
  more (same population).
- hours = minutes of the USED ledger bucket written in the period (held sessions, late cancels
  and, by the organisation's policy, no-shows), divided by the allotment N x minutes_per_year.
- sessions by domain = held sessions starting in the period; hours by domain = the USED ledger
  minutes of the period by the domain on the entry ("other" when an entry has none).
- no-show rate = no_show / (held + no_show); late-cancel rate = late_cancelled / (held + no_show
  + cancelled + late_cancelled), all bookings starting in the period. Declined and rescheduled
  bookings are in neither denominator (the provider ended them, or a new booking replaced them).
- feedback rate = prompts answered / prompts sent in the period (answered_at set); the shares
  count only prompts with that answer: satisfied = satisfaction 4-5 / satisfaction answers, the
  mean satisfaction over the same; resolved = "yes" / resolved answers; again = yes / answers.
- crisis referrals = crisis episodes of the organisation that began in the period, a count
  only: an episode is one person's hits on one local day (39 messages in a day count once).

Forgotten members ("forget me": member_id NULL, member row deleted): their bookings, ledger
minutes, feedback answers and crisis events still count in every session, minute, rate-of-event
and feedback figure, but they are no longer counted as people (participants, users, repeat
users), because nothing tells them apart any more. Leavers are treated the same way: people
counts, like N, only cover the active roster, so every people rate stays within 0..1 and the
department rows add up to the organisation's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from storage import crisis, orgs
from storage.models import (
    Booking,
    BookingStatus,
    Bucket,
    Feedback,
    HoursEntry,
    Member,
    MemberActivity,
    Organisation,
    RosterEntry,
    RosterStatus,
)

MEANINGFUL_ACTIONS = ("viewed_services", "checked_hours", "started_booking")
NO_DOMAIN = "other"
FULL_SCAN_DAYS = 62


@dataclass(frozen=True)
class Period:
    """Local calendar days [start, end) in the organisation's time zone."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the period spans."""
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start)

    def utc_bounds(self, org: Organisation) -> tuple[datetime, datetime]:
        """The period's start and end as UTC instants, for comparing *_at columns."""
        zone = orgs.tz(org)
        return (
            datetime.combine(self.start, time(), zone).astimezone(UTC),
            datetime.combine(self.end, time(), zone).astimezone(UTC),
        )


@dataclass(frozen=True)
class DepartmentCounts:
    """People counts of one department of the active roster."""

    headcount: int = 0
    participants: int = 0
    users: int = 0


@dataclass(frozen=True)
class FeedbackCounts:
    """Feedback prompts sent in a period and the answers to them."""

    prompts: int = 0
    answered: int = 0
    satisfaction_answers: int = 0
    satisfied: int = 0
    satisfaction_sum: int = 0
    resolved_answers: int = 0
    resolved_yes: int = 0
    again_answers: int = 0
    again_yes: int = 0


@dataclass(frozen=True)
class PeriodCounts:
    """Every raw count of one organisation and period (never leaves kpi/ unanonymised)."""

    period: Period
    minutes_per_year: int
    departments: dict[str, DepartmentCounts] = field(default_factory=dict)
    repeat_users: int = 0
    sessions: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    used_minutes: dict[str, int] = field(default_factory=dict)
    used_entries: dict[str, int] = field(default_factory=dict)
    feedback: FeedbackCounts = field(default_factory=FeedbackCounts)
    crisis_events: int = 0
    totals: DepartmentCounts | None = None  # protected totals, noised apart from departments

    @property
    def headcount(self) -> int:
        """N: the active roster headcount."""
        return sum(d.headcount for d in self.departments.values())

    @property
    def participants(self) -> int:
        """Members on the active roster with a meaningful action in the period."""
        if self.totals is not None:
            return self.totals.participants
        return sum(d.participants for d in self.departments.values())

    @property
    def users(self) -> int:
        """Members on the active roster with at least one held session in the period."""
        if self.totals is not None:
            return self.totals.users
        return sum(d.users for d in self.departments.values())

    @property
    def sessions_held(self) -> int:
        """Held sessions in the period, all domains, forgotten members included."""
        return sum(self.sessions.values())

    @property
    def minutes_used(self) -> int:
        """USED ledger minutes written in the period."""
        return sum(self.used_minutes.values())

    @property
    def allotted_minutes(self) -> int:
        """The plan year's allotment for the active roster: N x minutes_per_year."""
        return self.headcount * self.minutes_per_year

    def status(self, status: BookingStatus) -> int:
        """Bookings starting in the period that are now in this status."""
        return self.statuses.get(status.value, 0)

    @property
    def attended_or_missed(self) -> int:
        """Denominator of the no-show rate: held + no_show."""
        return self.status(BookingStatus.HELD) + self.status(BookingStatus.NO_SHOW)

    @property
    def concluded(self) -> int:
        """Denominator of the late-cancel rate: held + no_show + cancelled + late_cancelled."""
        cancelled = self.status(BookingStatus.CANCELLED) + self.status(
            BookingStatus.LATE_CANCELLED
        )
        return self.attended_or_missed + cancelled

    @property
    def participation(self) -> float | None:
        """participants / N (None when N is 0)."""
        return ratio(self.participants, self.headcount)

    @property
    def utilization(self) -> float | None:
        """users / N (None when N is 0)."""
        return ratio(self.users, self.headcount)

    @property
    def hours_share(self) -> float | None:
        """USED minutes of the period / the yearly allotment N x minutes_per_year."""
        return ratio(self.minutes_used, self.allotted_minutes)

    @property
    def repeat_rate(self) -> float | None:
        """repeat users / users."""
        return ratio(self.repeat_users, self.users)

    @property
    def no_show_rate(self) -> float | None:
        """no_show / (held + no_show)."""
        return ratio(self.status(BookingStatus.NO_SHOW), self.attended_or_missed)

    @property
    def late_cancel_rate(self) -> float | None:
        """late_cancelled / (held + no_show + cancelled + late_cancelled)."""
        return ratio(self.status(BookingStatus.LATE_CANCELLED), self.concluded)

    @property
    def feedback_rate(self) -> float | None:
        """Prompts answered / prompts sent."""
        return ratio(self.feedback.answered, self.feedback.prompts)

    @property
    def satisfaction_mean(self) -> float | None:
        """Mean satisfaction (1-5) over the prompts that have a satisfaction answer."""
        return ratio(self.feedback.satisfaction_sum, self.feedback.satisfaction_answers)


@dataclass(frozen=True)
class Change:
    """A figure against the previous period: the difference and the growth multiple."""

    current: float
    previous: float
    difference: float
    multiple: float | None


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0."""
    return numerator / denominator if denominator else None


def change(current: float, previous: float) -> Change:
    """The change from previous to current; the multiple is None when previous is 0."""
    return Change(current, previous, current - previous, ratio(current, previous))


def add_months(day: date, months: int) -> date:
    """The same day of the month some months later, clamped to the month's last day."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    while True:
        try:
            return day.replace(year=year, month=month)
        except ValueError:
            day = day - timedelta(days=1)


def last_complete_week(org: Organisation, today: date) -> Period:
    """The last full week before today, weeks ending the day before the digest weekday."""
    end = today - timedelta(days=(today.weekday() - org.digest_weekday) % 7)
    return Period(end - timedelta(days=7), end)


def plan_year_to_date(org: Organisation, end: date) -> Period:
    """From the start of the plan year containing the day before `end`, to `end`."""
    return Period(orgs.plan_year_start(org, end - timedelta(days=1)), end)


def plan_year_months(org: Organisation, on: date) -> list[Period]:
    """The twelve month-long periods of the plan year containing `on`."""
    start = orgs.plan_year_start(org, on)
    bounds = [add_months(start, i) for i in range(12)] + [orgs.plan_year_end(org, on)]
    return [Period(a, b) for a, b in pairwise(bounds)]


def _active_roster(org: Organisation) -> list[ColumnElement[bool]]:
    return [RosterEntry.organisation_id == org.id, RosterEntry.status == RosterStatus.ACTIVE]


def _starts_at(full_scan: bool) -> ColumnElement[datetime]:
    """booking.starts_at; as `+starts_at` when SQLite should scan the table, not the index."""
    if not full_scan:
        return Booking.starts_at  # type: ignore[return-value]
    plus = operators.custom_op("+")
    return UnaryExpression(Booking.starts_at, operator=plus, type_=Booking.starts_at.type)


def _acted_query(org: Organisation, period: Period) -> Subquery:
    return (
        select(MemberActivity.member_id.label("member_id"))
        .where(
            MemberActivity.organisation_id == org.id,
            MemberActivity.day >= period.start,
            MemberActivity.day < period.end,
            MemberActivity.kind.in_(MEANINGFUL_ACTIONS),
        )
        .group_by(MemberActivity.member_id)
        .subquery()
    )


def _held_query(org: Organisation, period: Period, full_scan: bool) -> Subquery:
    start, end = period.utc_bounds(org)
    starts_at = _starts_at(full_scan)
    return (
        select(Booking.member_id.label("member_id"), func.count().label("held"))
        .where(
            Booking.organisation_id == org.id,
            Booking.status == BookingStatus.HELD,
            starts_at >= start,
            starts_at < end,
            Booking.member_id.is_not(None),
        )
        .group_by(Booking.member_id)
        .subquery()
    )


def _people_query(
    org: Organisation, period: Period, full_scan: bool
) -> Select[tuple[str, int, int, int, int]]:
    """Per department of the active roster: headcount, participants, users, repeat users."""
    acted, held = _acted_query(org, period), _held_query(org, period, full_scan)
    return (
        select(
            RosterEntry.department,
            func.count(),
            func.count(acted.c.member_id),
            func.count(held.c.member_id),
            func.coalesce(func.sum(case((held.c.held >= 2, 1), else_=0)), 0),
        )
        .select_from(RosterEntry)
        .outerjoin(Member, Member.roster_entry_id == RosterEntry.id)
        .outerjoin(acted, acted.c.member_id == Member.id)
        .outerjoin(held, held.c.member_id == Member.id)
        .where(*_active_roster(org))
        .group_by(RosterEntry.department)
    )


def _first_in(
    model: type[Any], where: list[ColumnElement[bool]], cap: int, order: Any
) -> ColumnElement[bool]:
    """Keep each person's first `cap` rows among those matching `where` (the contribution bound).

    A forgotten person's rows (member_id NULL) can no longer be told apart and count one by one.
    """
    person = func.coalesce(model.member_id, -model.id)
    rank = func.row_number().over(partition_by=person, order_by=(order, model.id))
    ranked = select(model.id.label("id"), rank.label("rank")).where(*where).subquery()
    return model.id.in_(select(ranked.c.id).where(ranked.c.rank <= cap))  # type: ignore[no-any-return]


def _bookings_query(
    org: Organisation, period: Period, full_scan: bool, cap: int | None = None
) -> Select[tuple[str, str, int]]:
    start, end = period.utc_bounds(org)
    starts_at = _starts_at(full_scan)
    where = [Booking.organisation_id == org.id, starts_at >= start, starts_at < end]
    if cap is not None:
        where.append(_first_in(Booking, where, cap, Booking.starts_at))
    return (
        select(Booking.status, Booking.domain, func.count())
        .where(*where)
        .group_by(Booking.status, Booking.domain)
    )


def _ledger_query(
    org: Organisation, period: Period, cap: int | None = None
) -> Select[tuple[str | None, int, int]]:
    start, end = period.utc_bounds(org)
    where = [
        HoursEntry.organisation_id == org.id,
        HoursEntry.bucket == Bucket.USED,
        HoursEntry.created_at >= start,
        HoursEntry.created_at < end,
    ]
    if cap is not None:
        where.append(_first_in(HoursEntry, where, cap, HoursEntry.created_at))
    return (
        select(HoursEntry.domain, func.count(), func.coalesce(func.sum(HoursEntry.minutes), 0))
        .where(*where)
        .group_by(HoursEntry.domain)
    )


def _feedback_query(
    org: Organisation, period: Period, cap: int | None = None
) -> Select[tuple[int, ...]]:
    start, end = period.utc_bounds(org)
    where = [
        Feedback.organisation_id == org.id,
        Feedback.prompted_at >= start,
        Feedback.prompted_at < end,
    ]
    if cap is not None:
        where.append(_first_in(Feedback, where, cap, Feedback.prompted_at))

    def tally(condition: object) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)  # type: ignore[arg-type]

    return select(
        func.count(),
        func.count(Feedback.answered_at),
        func.count(Feedback.satisfaction),
        tally(Feedback.satisfaction >= 4),
        func.coalesce(func.sum(Feedback.satisfaction), 0),
        func.count(Feedback.resolved),
        tally(Feedback.resolved == "yes"),
        func.count(Feedback.would_use_again),
        tally(Feedback.would_use_again.is_(True)),
    ).where(*where)


def _key(value: object) -> str:
    return str(getattr(value, "value", value))


async def _departments(
    session: AsyncSession, org: Organisation, period: Period, full_scan: bool
) -> tuple[dict[str, DepartmentCounts], int]:
    departments, repeat = {}, 0
    for name, headcount, acted, used, twice in await session.execute(
        _people_query(org, period, full_scan)
    ):
        departments[name] = DepartmentCounts(int(headcount), int(acted), int(used))
        repeat += int(twice)
    return departments, repeat


async def _bookings(
    session: AsyncSession, org: Organisation, period: Period, full_scan: bool, cap: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    sessions = {d.value: 0 for d in org.domains}
    statuses: dict[str, int] = {}
    for status, domain, n in await session.execute(_bookings_query(org, period, full_scan, cap)):
        statuses[_key(status)] = statuses.get(_key(status), 0) + int(n)
        if _key(status) == BookingStatus.HELD.value:
            sessions[_key(domain)] = sessions.get(_key(domain), 0) + int(n)
    return sessions, statuses


async def _ledger(
    session: AsyncSession, org: Organisation, period: Period, cap: int | None
) -> tuple[dict[str, int], dict[str, int]]:
    minutes = {d.value: 0 for d in org.domains}
    entries = dict(minutes)
    for domain, n, total in await session.execute(_ledger_query(org, period, cap)):
        name = NO_DOMAIN if domain is None else _key(domain)
        entries[name] = int(n)
        minutes[name] = int(total)
    return minutes, entries


def _full_scan(session: AsyncSession, period: Period) -> bool:
    """Whether SQLite should scan bookings rather than walk the (org, starts_at) index.

    Without histograms SQLite walks the index even for a whole year, visiting most rows by
    random access; PostgreSQL's planner makes that choice itself from its statistics.
    """
    return session.get_bind().dialect.name == "sqlite" and period.days > FULL_SCAN_DAYS


async def _plan_each_period(session: AsyncSession) -> None:
    """Make PostgreSQL plan each period's statements for its own bounds.

    asyncpg prepares statements, and after five runs PostgreSQL may switch to a generic plan
    that walks the (org, starts_at) index for a whole year too: several times slower.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def period_counts(
    session: AsyncSession, org: Organisation, period: Period, *, cap: int | None = None
) -> PeriodCounts:
    """Count everything of one organisation and period in five aggregate queries.

    With `cap`, each person's bookings, ledger entries, feedback prompts and crisis episodes
    count at most `cap` times: the contribution bound that protected releases need.
    """
    full_scan = _full_scan(session, period)
    await _plan_each_period(session)
    departments, repeat = await _departments(session, org, period, full_scan)
    sessions, statuses = await _bookings(session, org, period, full_scan, cap)
    minutes, entries = await _ledger(session, org, period, cap)
    feedback = FeedbackCounts(
        *map(int, (await session.execute(_feedback_query(org, period, cap))).one())
    )
    return PeriodCounts(
        period=period,
        minutes_per_year=org.minutes_per_year,
        departments=departments,
        repeat_users=repeat,
        sessions=sessions,
        statuses=statuses,
        used_minutes=minutes,
        used_entries=entries,
        feedback=feedback,
        crisis_events=await crisis.episodes(session, org.id, *period.utc_bounds(org), cap=cap),
    )

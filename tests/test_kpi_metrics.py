"""KPI aggregates on crafted data, each expected value worked out by hand below."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kpi import metrics
from kpi.metrics import Period
from storage.db import unit_of_work
from storage.models import (
    Booking,
    Counselor,
    CrisisEvent,
    Feedback,
    HoursEntry,
    Member,
    MemberActivity,
    Organisation,
    RosterEntry,
    Slot,
)

TAIPEI = ZoneInfo("Asia/Taipei")
WEEK = Period(date(2026, 11, 16), date(2026, 11, 23))  # Mon..Sun before Tue 2026-11-24
PREVIOUS = Period(date(2026, 11, 9), date(2026, 11, 16))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Taipei wall-clock time as an aware datetime."""
    return datetime.combine(day, time(hour, minute), TAIPEI)


def d(day: int) -> date:
    """A day of November 2026."""
    return date(2026, 11, day)


@dataclass
class World:
    """Handles to what `seed` created, for tests that need to add more."""

    org: Organisation
    other: Organisation
    members: dict[str, Member] = field(default_factory=dict)
    counselor_id: int = 0
    slot_id: int = 0
    bookings: list[Booking] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


class Builder:
    """Adds rows for one organisation with terse calls."""

    def __init__(self, session: AsyncSession, world: World, org: Organisation) -> None:
        """Write into `session` for `org`."""
        self.session, self.world, self.org = session, world, org
        self.serial = 0

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    async def roster(self, department: str, *, left: bool = False) -> RosterEntry:
        """One roster entry."""
        entry = RosterEntry(
            organisation_id=self.org.id,
            employee_hash=f"hash-{self.org.code}-{self._next():04d}",
            department=department,
            status="left" if left else "active",
            updated_at=local(d(1), 9),
        )
        self.session.add(entry)
        await self.session.flush()
        self.world.secrets.append(entry.employee_hash)
        return entry

    async def member(self, name: str, entry: RosterEntry | None) -> Member:
        """A chat account linked to a roster entry."""
        member = Member(
            channel="test",
            external_id=f"ext-{self.org.code}-{name}",
            locale="zh-TW",
            pseudonym=f"PSEUDO-{self.org.code}-{name}",
            organisation_id=self.org.id,
            roster_entry_id=entry.id if entry else None,
            linked_at=local(d(1), 9),
            consent_at=local(d(1), 9),
            first_seen_at=local(d(1), 9),
        )
        self.session.add(member)
        await self.session.flush()
        self.world.members[f"{self.org.code}:{name}"] = member
        self.world.secrets += [member.external_id, member.pseudonym]
        return member

    def activity(self, member: Member | None, kind: str, day: date, pseudonym: str = "") -> None:
        """A meaningful (or not) action on a local day."""
        self.session.add(
            MemberActivity(
                organisation_id=self.org.id,
                member_id=member.id if member else None,
                pseudonym=member.pseudonym if member else pseudonym,
                kind=kind,
                day=day,
            )
        )

    async def booking(
        self, member: Member | None, status: str, domain: str, starts: datetime, minutes: int = 60
    ) -> Booking:
        """A booking of `minutes` starting at `starts`; member None means forgotten."""
        note = f"secret note {self._next()}"
        booking = Booking(
            organisation_id=self.org.id,
            member_id=member.id if member else None,
            counselor_id=self.world.counselor_id,
            slot_id=self.world.slot_id,
            domain=domain,
            mode="video",
            minutes=minutes,
            plan_year=date(2026, 1, 1),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            status=status,
            note=note,
            created_at=starts - timedelta(days=3),
            updated_at=starts - timedelta(days=3),
        )
        self.session.add(booking)
        await self.session.flush()
        self.world.bookings.append(booking)
        self.world.secrets.append(note)
        return booking

    def ledger(
        self, member: Member | None, bucket: str, minutes: int, domain: str | None, at: datetime
    ) -> None:
        """One hours ledger entry written at `at`."""
        self.session.add(
            HoursEntry(
                organisation_id=self.org.id,
                member_id=member.id if member else None,
                plan_year=date(2026, 1, 1),
                bucket=bucket,
                minutes=minutes,
                domain=domain,
                reason="test",
                idempotency_key=f"{self.org.code}:{self._next()}",
                created_at=at,
            )
        )

    def feedback(
        self,
        booking: Booking,
        prompted: datetime,
        *,
        satisfaction: int | None = None,
        resolved: str | None = None,
        again: bool | None = None,
        answered: bool = False,
    ) -> None:
        """A feedback prompt and whatever answers it got."""
        comment = f"private comment {self._next()}" if answered else None
        if comment:
            self.world.secrets.append(comment)
        self.session.add(
            Feedback(
                organisation_id=self.org.id,
                booking_id=booking.id,
                member_id=booking.member_id,
                domain=booking.domain,
                prompted_at=prompted,
                expires_at=prompted + timedelta(days=14),
                answered_at=prompted + timedelta(hours=1) if answered else None,
                satisfaction=satisfaction,
                resolved=resolved,
                would_use_again=again,
                comment=comment,
            )
        )

    def crisis(self, member: Member | None, at: datetime, *, org: bool = True) -> None:
        """A crisis event (never the words)."""
        self.session.add(
            CrisisEvent(
                organisation_id=self.org.id if org else None,
                member_id=member.id if member else None,
                channel="test",
                locale="zh-TW",
                occurred_at=at,
            )
        )


async def _organisation(session: AsyncSession, code: str, **settings: int) -> Organisation:
    org = Organisation(
        code=code,
        name=f"Org {code}",
        timezone="Asia/Taipei",
        created_at=local(d(1), 9),
        **settings,
    )
    session.add(org)
    await session.flush()
    return org


async def _counselor(session: AsyncSession, org: Organisation, world: World) -> None:
    counselor = Counselor(
        organisation_id=org.id,
        display_name="Counselor Secret Name",
        domains="psychology,legal,finance,nutrition",
        modes="video",
        licence_number="LIC-SECRET",
        licence_expires_on=date(2030, 1, 1),
    )
    session.add(counselor)
    await session.flush()
    slot = Slot(
        counselor_id=counselor.id,
        starts_at=local(d(2), 9),
        ends_at=local(d(2), 10),
    )
    session.add(slot)
    await session.flush()
    world.counselor_id, world.slot_id = counselor.id, slot.id
    world.secrets += ["Counselor Secret Name", "LIC-SECRET"]


async def _people(b: Builder) -> dict[str, Member]:
    sales = [await b.roster("Sales") for _ in range(7)]
    ops = [await b.roster("Ops") for _ in range(5)]
    left = [await b.roster("Sales", left=True) for _ in range(2)]
    return {
        "m1": await b.member("m1", sales[0]),
        "m2": await b.member("m2", sales[1]),
        "m3": await b.member("m3", sales[2]),
        "m4": await b.member("m4", ops[0]),
        "m5": await b.member("m5", ops[1]),
        "m6": await b.member("m6", left[0]),
        "m7": await b.member("m7", sales[3]),
    }


def _activities(b: Builder, m: dict[str, Member]) -> None:
    b.activity(m["m1"], "viewed_services", d(16))
    b.activity(m["m1"], "checked_hours", d(17))
    b.activity(m["m2"], "started_booking", d(22))
    b.activity(m["m4"], "viewed_services", d(18))
    b.activity(m["m5"], "checked_hours", d(23))  # the day after the week
    b.activity(m["m3"], "something_else", d(18))  # not a meaningful action
    b.activity(m["m6"], "viewed_services", d(18))  # left the company
    b.activity(None, "viewed_services", d(18), pseudonym="PSEUDO-FORGOTTEN")
    b.activity(m["m3"], "viewed_services", d(10))  # previous week


async def _bookings(b: Builder, m: dict[str, Member]) -> list[Booking]:
    held = [
        await b.booking(m["m1"], "held", "psychology", local(d(16), 1)),  # 15 Nov 17:00 UTC
        await b.booking(m["m1"], "held", "psychology", local(d(18), 10)),
        await b.booking(m["m2"], "held", "legal", local(d(19), 10), minutes=30),
        await b.booking(m["m4"], "held", "finance", local(d(21), 10)),
        await b.booking(m["m6"], "held", "psychology", local(d(18), 11)),
        await b.booking(None, "held", "nutrition", local(d(20), 10)),
        await b.booking(None, "held", "nutrition", local(d(21), 11)),
    ]
    await b.booking(m["m2"], "no_show", "legal", local(d(20), 14), minutes=30)
    await b.booking(m["m4"], "late_cancelled", "finance", local(d(22), 10))
    await b.booking(m["m5"], "cancelled", "psychology", local(d(19), 15))
    await b.booking(m["m3"], "declined", "nutrition", local(d(19), 16))
    await b.booking(m["m3"], "rescheduled", "psychology", local(d(17), 10))
    await b.booking(m["m5"], "booked", "psychology", local(d(22), 15))
    await b.booking(m["m1"], "held", "psychology", local(d(23), 0, 30))  # after the week
    held.append(await b.booking(m["m3"], "held", "psychology", local(d(10), 10)))  # previous
    return held


def _ledger(b: Builder, m: dict[str, Member]) -> None:
    used = [
        (m["m1"], 60, "psychology", local(d(16), 2)),
        (m["m1"], 60, "psychology", local(d(18), 11)),
        (m["m2"], 30, "legal", local(d(19), 11)),
        (m["m4"], 60, "finance", local(d(21), 11)),
        (m["m6"], 60, "psychology", local(d(18), 12)),
        (None, 60, "nutrition", local(d(20), 11)),
        (None, 60, "nutrition", local(d(21), 12)),
        (m["m2"], 30, "legal", local(d(20), 15)),  # the no-show, by policy
        (m["m4"], 60, "finance", local(d(20), 10)),  # the late cancel
    ]
    for member, minutes, domain, at in used:
        b.ledger(member, "used", minutes, domain, at)
    b.ledger(m["m1"], "used", 60, "psychology", local(d(23), 0, 10))  # after the week
    b.ledger(m["m3"], "used", 60, "psychology", local(d(10), 11))  # previous week
    b.ledger(m["m1"], "reserved", 60, "psychology", local(d(17), 9))  # not used
    b.ledger(m["m1"], "granted", 480, None, local(d(1), 9))  # not used


def _feedback(b: Builder, held: list[Booking]) -> None:
    at = local(d(19), 20)
    b.feedback(held[0], at, satisfaction=5, resolved="yes", again=True, answered=True)
    b.feedback(held[1], at, satisfaction=4, resolved="partly", again=True, answered=True)
    b.feedback(held[2], at, satisfaction=2, resolved="no", again=False, answered=True)
    b.feedback(held[3], at, satisfaction=3)  # a partial answer
    b.feedback(held[4], at)  # no answer
    b.feedback(held[5], at, satisfaction=5, resolved="yes", again=True, answered=True)
    b.feedback(held[7], local(d(11), 20), satisfaction=5, answered=True)  # previous week


def _crises(b: Builder, m: dict[str, Member]) -> None:
    b.crisis(m["m1"], local(d(17), 23))
    b.crisis(None, local(d(22), 23, 59))
    b.crisis(m["m3"], local(d(12), 8))  # previous week
    b.crisis(m["m2"], local(d(18), 8), org=False)  # no organisation


async def _other_org(session: AsyncSession, world: World) -> None:
    b = Builder(session, world, world.other)
    member = await b.member("x1", await b.roster("Sales"))
    b.activity(member, "viewed_services", d(18))
    booking = await b.booking(member, "held", "psychology", local(d(18), 9))
    b.ledger(member, "used", 60, "psychology", local(d(18), 10))
    b.feedback(booking, local(d(18), 20), satisfaction=1, answered=True)
    b.crisis(member, local(d(18), 9))


async def seed(sessions: async_sessionmaker[AsyncSession], **settings: int) -> World:
    """The crafted data set every KPI test works from."""
    async with unit_of_work(sessions) as session:
        org = await _organisation(session, "ACME", **settings)
        other = await _organisation(session, "OTHER")
        world = World(org=org, other=other)
        await _counselor(session, org, world)
        b = Builder(session, world, org)
        people = await _people(b)
        _activities(b, people)
        held = await _bookings(b, people)
        _ledger(b, people)
        _feedback(b, held)
        _crises(b, people)
        await _other_org(session, world)
    return world


async def counts_of(
    sessions: async_sessionmaker[AsyncSession], org: Organisation, period: Period
) -> metrics.PeriodCounts:
    """Period counts in a fresh unit of work."""
    async with unit_of_work(sessions) as session:
        return await metrics.period_counts(session, org, period)


async def test_people_counts_and_rates(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    week = await counts_of(sessions, world.org, WEEK)
    # N: 7 Sales + 5 Ops active; the 2 leavers are not counted.
    assert week.headcount == 7 + 5
    # m1 (twice), m2, m4 acted this week; m5 acted the day after, m3's kind is not meaningful,
    # m6 left, the forgotten pseudonym has no member.
    assert week.participants == 3
    assert week.participation == 3 / 12
    # m1, m2 (Sales) and m4 (Ops) had a held session; m6 left; forgotten ones are not people.
    assert week.users == 3
    assert week.utilization == 3 / 12
    assert week.repeat_users == 1  # m1 had two
    assert week.repeat_rate == 1 / 3
    assert week.departments == {
        "Sales": metrics.DepartmentCounts(headcount=7, participants=2, users=2),
        "Ops": metrics.DepartmentCounts(headcount=5, participants=1, users=1),
    }


async def test_sessions_hours_and_attendance(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    week = await counts_of(sessions, world.org, WEEK)
    # held: m1 x2 + m6 psychology, m2 legal, m4 finance, 2 forgotten nutrition.
    assert week.sessions == {"psychology": 3, "legal": 1, "finance": 1, "nutrition": 2}
    assert week.sessions_held == 7
    # used ledger: psychology 60+60+60, legal 30+30, finance 60+60, nutrition 60+60.
    assert week.used_minutes == {"psychology": 180, "legal": 60, "finance": 120, "nutrition": 120}
    assert week.used_entries == {"psychology": 3, "legal": 2, "finance": 2, "nutrition": 2}
    assert week.minutes_used == 480
    assert week.allotted_minutes == 12 * 480
    assert week.hours_share == 480 / (12 * 480)
    assert week.no_show_rate == 1 / (7 + 1)
    assert week.late_cancel_rate == 1 / (7 + 1 + 1 + 1)
    assert week.status(metrics.BookingStatus.BOOKED) == 1


async def test_feedback_and_crisis(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    week = await counts_of(sessions, world.org, WEEK)
    f = week.feedback
    assert (f.prompts, f.answered) == (6, 4)
    assert week.feedback_rate == 4 / 6
    # satisfaction answers: 5, 4, 2, 3 (partial), 5 -> 3 of them 4-5, sum 19.
    assert (f.satisfaction_answers, f.satisfied, f.satisfaction_sum) == (5, 3, 19)
    assert week.satisfaction_mean == 19 / 5
    assert (f.resolved_answers, f.resolved_yes) == (4, 2)
    assert (f.again_answers, f.again_yes) == (4, 3)
    assert week.crisis_events == 2  # the third is in the previous week, the fourth has no org


async def test_previous_week_and_change(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    before = await counts_of(sessions, world.org, WEEK.previous())
    assert WEEK.previous() == PREVIOUS
    assert (before.participants, before.users, before.sessions_held) == (1, 1, 1)
    assert before.minutes_used == 60
    assert (before.feedback.prompts, before.crisis_events) == (1, 1)
    growth = metrics.change(3, before.participants)
    assert (growth.difference, growth.multiple) == (3 - 1, 3 / 1)
    assert metrics.change(4, 0).multiple is None


async def test_plan_year_to_date(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    year = metrics.plan_year_to_date(world.org, WEEK.end)
    assert year == Period(date(2026, 1, 1), WEEK.end)
    counts = await counts_of(sessions, world.org, year)
    assert counts.participants == 3 + 1  # m3 acted in the previous week
    assert counts.users == 3 + 1
    assert counts.sessions_held == 7 + 1
    assert counts.minutes_used == 480 + 60


async def test_other_organisation_is_separate(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    other = await counts_of(sessions, world.other, WEEK)
    assert (other.headcount, other.participants, other.users, other.sessions_held) == (1, 1, 1, 1)
    assert (other.feedback.prompts, other.crisis_events, other.minutes_used) == (1, 1, 60)


async def test_query_count_is_bounded(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async with unit_of_work(sessions) as session:
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await metrics.period_counts(session, world.org, WEEK)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5
    assert all("member_activity.pseudonym" not in s for s in selects)


def test_periods() -> None:
    org = Organisation(digest_weekday=0, plan_year_start_month=4, plan_year_start_day=1)
    assert metrics.last_complete_week(org, date(2026, 11, 24)) == WEEK
    assert metrics.last_complete_week(org, date(2026, 11, 23)) == WEEK
    assert metrics.last_complete_week(org, date(2026, 11, 22)) == PREVIOUS
    months = metrics.plan_year_months(org, date(2026, 11, 24))
    assert months[0] == Period(date(2026, 4, 1), date(2026, 5, 1))
    assert months[-1] == Period(date(2027, 3, 1), date(2027, 4, 1))
    assert len(months) == 12
    assert metrics.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    start, end = WEEK.utc_bounds(Organisation(timezone="Asia/Taipei"))
    assert (start, end) == (
        datetime(2026, 11, 15, 16, tzinfo=UTC),
        datetime(2026, 11, 22, 16, tzinfo=UTC),
    )

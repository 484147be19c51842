"""Crisis events: that the screen fired, never what was said; episodes, check-ins, the report.

An episode is one person's hits on one local day (the organisation's time zone): the event
that opens it carries `episode_start`, decided when it is recorded, so counting stays right
after the person is forgotten (member_id becomes NULL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import orgs
from storage.models import (
    Booking,
    BookingStatus,
    CrisisAlert,
    CrisisCheckIn,
    CrisisEvent,
    Member,
    Organisation,
)

FLAG_WINDOW = timedelta(days=30)
CHECK_IN_EVERY = timedelta(minutes=30)
ACK_WITHIN = timedelta(minutes=10)


async def _starts_episode(session: AsyncSession, member: Member | None, now: datetime) -> bool:
    """Whether this hit is the member's first of the local day."""
    if member is None or member.organisation_id is None:
        return True
    org = await orgs.by_id(session, member.organisation_id)
    midnight = datetime.combine(orgs.local_date(org, now), time(), tzinfo=orgs.tz(org))
    earlier = await session.scalar(
        select(CrisisEvent.id)
        .where(CrisisEvent.member_id == member.id, CrisisEvent.occurred_at >= midnight)
        .limit(1)
    )
    return earlier is None


async def record(
    session: AsyncSession, *, channel: str, locale: str, member: Member | None, now: datetime
) -> None:
    """Store a crisis event and flag the member's next booking for its counselor."""
    session.add(
        CrisisEvent(
            channel=channel,
            locale=locale,
            member_id=member.id if member else None,
            organisation_id=member.organisation_id if member else None,
            occurred_at=now,
            episode_start=await _starts_episode(session, member, now),
        )
    )
    if member is None:
        return
    next_id = await session.scalar(
        select(Booking.id)
        .where(
            Booking.member_id == member.id,
            Booking.status == BookingStatus.BOOKED,
            Booking.starts_at > now,
        )
        .order_by(Booking.starts_at)
        .limit(1)
    )
    if next_id is not None:
        await session.execute(
            update(Booking).where(Booking.id == next_id).values(crisis_flag=True)
        )


async def recent(session: AsyncSession, *, member_id: int, now: datetime) -> bool:
    """Whether the member hit the crisis screen in the last 30 days (flags a new booking)."""
    count = await session.scalar(
        select(func.count())
        .select_from(CrisisEvent)
        .where(CrisisEvent.member_id == member_id, CrisisEvent.occurred_at > now - FLAG_WINDOW)
    )
    return bool(count)


async def episodes(
    session: AsyncSession,
    organisation_id: int,
    start: datetime,
    end: datetime,
    *,
    cap: int | None = None,
) -> int:
    """Crisis episodes of an organisation that began in [start, end), at most `cap` a person."""
    where = [
        CrisisEvent.organisation_id == organisation_id,
        CrisisEvent.episode_start.is_(True),
        CrisisEvent.occurred_at >= start,
        CrisisEvent.occurred_at < end,
    ]
    if cap is not None:
        person = func.coalesce(CrisisEvent.member_id, -CrisisEvent.id)
        rank = func.row_number().over(partition_by=person, order_by=CrisisEvent.id)
        ranked = select(CrisisEvent.id.label("id"), rank.label("rank")).where(*where).subquery()
        where.append(CrisisEvent.id.in_(select(ranked.c.id).where(ranked.c.rank <= cap)))
    count = await session.scalar(select(func.count()).select_from(CrisisEvent).where(*where))
    return int(count or 0)


async def check_in_due(
    session: AsyncSession, *, chat_hash: str, now: datetime, every: timedelta = CHECK_IN_EVERY
) -> bool:
    """Whether a chat may be checked on now (at most once per `every`); notes it if so."""
    row = await session.get(CrisisCheckIn, chat_hash)
    if row is not None and row.checked_at > now - every:
        return False
    if row is None:
        session.add(CrisisCheckIn(chat_hash=chat_hash, checked_at=now))
    else:
        row.checked_at = now
    await session.flush()
    return True


async def purge_check_ins(session: AsyncSession, now: datetime) -> int:
    """Forget check-in times once they no longer limit anything (after a day)."""
    result = await session.execute(
        delete(CrisisCheckIn).where(CrisisCheckIn.checked_at < now - timedelta(days=1))
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class OrganisationMonth:
    """One organisation's crisis figures for a month: counts only, no person in them."""

    code: str
    name: str
    episodes: int
    alerts: int
    acknowledged_in_time: int


@dataclass(frozen=True)
class MonthlyReport:
    """Crisis episodes and on-call hand-offs of every organisation in one calendar month."""

    month: date
    organisations: list[OrganisationMonth]

    @property
    def episodes(self) -> int:
        """Episodes of all organisations."""
        return sum(o.episodes for o in self.organisations)


def month_bounds(org: Organisation, month: date) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next, in the organisation's time zone."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    zone = orgs.tz(org)
    return datetime.combine(first, time(), zone), datetime.combine(following, time(), zone)


async def _alerts(
    session: AsyncSession, org: Organisation, start: datetime, end: datetime
) -> tuple[int, int]:
    raised = select(CrisisAlert.raised_at, CrisisAlert.acknowledged_at).where(
        CrisisAlert.organisation_id == org.id,
        CrisisAlert.raised_at >= start,
        CrisisAlert.raised_at < end,
    )
    rows = (await session.execute(raised)).all()  # few; compared here, not in dialect SQL
    acked = sum(1 for at, ack in rows if ack is not None and ack - at <= ACK_WITHIN)
    return len(rows), acked


async def monthly_report(session: AsyncSession, *, month: date) -> MonthlyReport:
    """Episodes and on-call hand-offs per organisation in the month (local calendar)."""
    rows = []
    for org in await session.scalars(select(Organisation).order_by(Organisation.code)):
        start, end = month_bounds(org, month)
        alerts, acked = await _alerts(session, org, start, end)
        count = await episodes(session, org.id, start, end)
        rows.append(OrganisationMonth(org.code, org.name, count, alerts, acked))
    return MonthlyReport(month=month.replace(day=1), organisations=rows)

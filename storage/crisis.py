"""Crisis events: that the screen fired, never what was said."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Booking, BookingStatus, CrisisEvent, Member


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


FLAG_WINDOW = timedelta(days=30)


async def recent(session: AsyncSession, *, member_id: int, now: datetime) -> bool:
    """Whether the member hit the crisis screen in the last 30 days (flags a new booking)."""
    count = await session.scalar(
        select(func.count())
        .select_from(CrisisEvent)
        .where(CrisisEvent.member_id == member_id, CrisisEvent.occurred_at > now - FLAG_WINDOW)
    )
    return bool(count)

"""Recurring sessions: a counselor offers a weekly or fortnightly series, confirmed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import bookings
from storage.counselors import owned_booking
from storage.db import insert_ignore
from storage.errors import BookingNotActive, DomainError, NotFound
from storage.models import Booking, BookingSeries, BookingStatus, Counselor, Member, Slot

INTERVALS = (1, 2)
MAX_OCCURRENCES = 12


class SeriesClosed(DomainError):
    """The series was already confirmed or is no longer on offer."""

    message_key = "series-closed"


@dataclass(frozen=True)
class Occurrence:
    """One date of a series: booked, or the message key saying why not."""

    starts_at: datetime
    booking: Booking | None
    reason: str | None
    params: dict[str, Any] = field(default_factory=dict)


async def offer(
    session: AsyncSession,
    counselor: Counselor,
    *,
    booking_id: int,
    interval_weeks: int,
    occurrences: int,
    now: datetime,
) -> tuple[BookingSeries, Booking]:
    """Offer the employee of one's booking a series following it; nothing is booked yet."""
    booking = await owned_booking(session, counselor, booking_id)
    if booking.member_id is None or booking.status not in (
        BookingStatus.BOOKED,
        BookingStatus.HELD,
    ):
        raise BookingNotActive()
    if interval_weeks not in INTERVALS or not 1 <= occurrences <= MAX_OCCURRENCES:
        raise NotFound()
    series = BookingSeries(
        counselor_id=counselor.id,
        member_id=booking.member_id,
        anchor_booking_id=booking.id,
        interval_weeks=interval_weeks,
        occurrences=occurrences,
        offered_at=now,
    )
    session.add(series)
    await session.flush()
    return series, booking


async def _slot_at(session: AsyncSession, counselor: Counselor, start: datetime) -> Slot | None:
    """The counselor's slot at that time, created when it overlaps nothing."""
    end = start + timedelta(minutes=counselor.session_minutes)
    overlap = await session.scalar(
        select(Slot.id).where(
            Slot.counselor_id == counselor.id,
            Slot.starts_at < end,
            Slot.ends_at > start,
            Slot.starts_at != start,
        )
    )
    if overlap is None:
        values = {
            "counselor_id": counselor.id,
            "starts_at": start,
            "ends_at": end,
            "blocked": False,
        }
        await session.execute(insert_ignore(session, Slot, values))
    return await session.scalar(
        select(Slot).where(Slot.counselor_id == counselor.id, Slot.starts_at == start)
    )


async def open_offer(session: AsyncSession, *, member: Member, series_id: int) -> BookingSeries:
    """The member's own series still on offer; NotFound or SeriesClosed otherwise."""
    series = await session.get(BookingSeries, series_id)
    if series is None or series.member_id != member.id:
        raise NotFound()
    if series.confirmed_at is not None:
        raise SeriesClosed()
    return series


async def confirm(
    session: AsyncSession, *, member: Member, series_id: int, now: datetime
) -> list[Occurrence]:
    """Book each occurrence that slot and hours allow; the others are listed with a reason."""
    series = await session.get(BookingSeries, series_id, with_for_update=True)
    if series is None or series.member_id != member.id:
        raise NotFound()
    if series.confirmed_at is not None:
        raise SeriesClosed()
    anchor = await session.get(Booking, series.anchor_booking_id)
    counselor = await session.get(Counselor, series.counselor_id)
    if anchor is None or counselor is None:
        raise SeriesClosed()
    series.confirmed_at = now
    results = []
    for number in range(1, series.occurrences + 1):
        start = anchor.starts_at + timedelta(weeks=series.interval_weeks * number)
        slot = await _slot_at(session, counselor, start)
        if slot is None:
            results.append(Occurrence(start, None, "book-slot-unavailable"))
            continue
        try:
            async with session.begin_nested():
                booking = await bookings.book(
                    session,
                    member=member,
                    slot_id=slot.id,
                    domain=anchor.domain.value,
                    mode=anchor.mode.value,
                    now=now,
                    series_id=series.id,
                )
        except DomainError as err:
            results.append(Occurrence(start, None, err.message_key, err.params))
            continue
        results.append(Occurrence(start, booking, None))
    return results

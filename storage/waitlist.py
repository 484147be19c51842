"""The waitlist: first come, first offered; an offered slot is held for its taker for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import Counselor, Member, Slot, WaitlistEntry

HOLD = timedelta(minutes=30)


async def join(
    session: AsyncSession, *, member: Member, domain: str, weekdays: str, now: datetime
) -> WaitlistEntry:
    """Put the member on the waitlist for a domain (once; joining again keeps the place)."""
    existing = await session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.member_id == member.id,
            WaitlistEntry.domain == domain,
            WaitlistEntry.closed_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    entry = WaitlistEntry(
        organisation_id=member.organisation_id,
        member_id=member.id,
        domain=domain,
        weekdays=weekdays,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def add_weekday(
    session: AsyncSession, *, member: Member, entry_id: int, weekday: int
) -> WaitlistEntry:
    """Limit the member's waitlist entry to some weekdays (0 = Monday); none means any day."""
    entry = await session.get(WaitlistEntry, entry_id)
    if entry is None or entry.member_id != member.id or entry.closed_at is not None:
        raise NotFound()
    days = {d for d in entry.weekdays.split(",") if d} | {str(weekday)}
    entry.weekdays = ",".join(sorted(days))
    await session.flush()
    return entry


async def leave(session: AsyncSession, *, member: Member, entry_id: int, now: datetime) -> None:
    """Take the member off the waitlist."""
    entry = await session.get(WaitlistEntry, entry_id)
    if entry is None or entry.member_id != member.id or entry.closed_at is not None:
        raise NotFound()  # a replayed "leave" changes nothing
    entry.closed_at = now


async def close_for(session: AsyncSession, *, member_id: int, domain: str, now: datetime) -> None:
    """Close the member's open entries for a domain (they booked)."""
    rows = await session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.member_id == member_id,
            WaitlistEntry.domain == domain,
            WaitlistEntry.closed_at.is_(None),
        )
    )
    for entry in rows:
        entry.closed_at = now


async def held_for_others(
    session: AsyncSession, *, member_id: int | None, now: datetime
) -> set[int]:
    """Slots currently held for someone else on the waitlist."""
    rows = await session.scalars(
        select(WaitlistEntry.offered_slot_id).where(
            WaitlistEntry.offered_until > now,
            WaitlistEntry.closed_at.is_(None),
            WaitlistEntry.member_id != (member_id or 0),
        )
    )
    return {slot_id for slot_id in rows if slot_id is not None}


async def next_in_line(
    session: AsyncSession, *, slot: Slot, counselor: Counselor, weekday: int, now: datetime
) -> WaitlistEntry | None:
    """The first open entry this slot fits that is not holding an offer and had not this one."""
    rows = await session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.organisation_id == counselor.organisation_id,
            WaitlistEntry.closed_at.is_(None),
            or_(WaitlistEntry.offered_until.is_(None), WaitlistEntry.offered_until <= now),
            or_(WaitlistEntry.offered_slot_id.is_(None), WaitlistEntry.offered_slot_id != slot.id),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .with_for_update()
    )
    for entry in rows:
        days = {d for d in entry.weekdays.split(",") if d}
        if entry.domain in counselor.domains.split(",") and (not days or str(weekday) in days):
            return entry
    return None


def offer(entry: WaitlistEntry, slot: Slot, now: datetime) -> None:
    """Hold the slot for this entry's member."""
    entry.offered_slot_id = slot.id
    entry.offered_until = now + HOLD


async def expired_offers(session: AsyncSession, *, now: datetime) -> list[int]:
    """Slots whose hold ran out without a booking; the holds are released."""
    rows = list(
        await session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.closed_at.is_(None),
                WaitlistEntry.offered_until <= now,
                WaitlistEntry.offered_slot_id.is_not(None),
            )
            .with_for_update(skip_locked=True)
        )
    )
    slots = []
    for entry in rows:
        slots.append(entry.offered_slot_id)
        entry.offered_until = None
    return [s for s in slots if s is not None]

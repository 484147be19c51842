"""Finding bookable slots: free, far enough ahead, within the horizon, affordable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager

from storage import orgs, waitlist
from storage.models import Booking, BookingStatus, Counselor, Organisation, Slot


@dataclass(frozen=True)
class Window:
    """The time range in which an organisation's members may book."""

    earliest: datetime
    latest: datetime


def booking_window(org: Organisation, now: datetime) -> Window:
    """Earliest (minimum notice) and latest (horizon) start a booking may have."""
    return Window(
        earliest=now + timedelta(hours=org.min_notice_hours),
        latest=now + timedelta(days=org.booking_horizon_days),
    )


def minutes_of(slot: Slot) -> int:
    """A slot's length in minutes."""
    return int((slot.ends_at - slot.starts_at).total_seconds() // 60)


def counselor_can_take(counselor: Counselor, slot: Slot, org: Organisation) -> bool:
    """Whether the counselor is active and licensed on the slot's date."""
    return counselor.active and counselor.licence_expires_on >= orgs.local_date(
        org, slot.starts_at
    )


async def free_slots(
    session: AsyncSession,
    *,
    org: Organisation,
    domain: str,
    mode: str,
    now: datetime,
    max_minutes: int,
    day: date | None = None,
    member_id: int | None = None,
) -> list[Slot]:
    """Free, unblocked slots of licensed counselors offering domain and mode, soonest first."""
    window = booking_window(org, now)
    holder = aliased(Booking)
    query = (
        select(Slot)
        .join(Slot.counselor)
        .outerjoin(holder, holder.active_slot_id == Slot.id)
        .options(contains_eager(Slot.counselor))
        .where(
            Counselor.organisation_id == org.id,
            Counselor.active.is_(True),
            Counselor.domains.contains(domain),
            Counselor.modes.contains(mode),
            Slot.blocked.is_(False),
            Slot.starts_at >= window.earliest,
            Slot.starts_at <= window.latest,
            holder.id.is_(None),
        )
        .order_by(Slot.starts_at, Slot.id)
    )
    if day is not None:
        local_start = datetime.combine(day, datetime.min.time(), tzinfo=orgs.tz(org))
        query = query.where(
            Slot.starts_at >= local_start, Slot.starts_at < local_start + timedelta(days=1)
        )
    slots = (await session.scalars(query)).unique().all()
    capped = [s.counselor_id for s in slots if s.counselor.daily_cap]
    load = await day_load(session, org, capped, now=now)
    held = await waitlist.held_for_others(session, member_id=member_id, now=now)
    return [
        s
        for s in slots
        if s.id not in held
        and s.counselor.offers(domain, mode)
        and counselor_can_take(s.counselor, s, org)
        and minutes_of(s) <= max_minutes
        and not at_cap(s.counselor, load, orgs.local_date(org, s.starts_at))
    ]


def at_cap(counselor: Counselor, load: dict[tuple[int, date], int], day: date) -> bool:
    """Whether the counselor's daily cap is reached on that local day."""
    cap = counselor.daily_cap
    return cap is not None and load.get((counselor.id, day), 0) >= cap


async def day_load(
    session: AsyncSession, org: Organisation, counselor_ids: list[int], *, now: datetime
) -> dict[tuple[int, date], int]:
    """Upcoming booked or held sessions per (counselor, local day), for daily caps."""
    if not counselor_ids:
        return {}
    rows = await session.execute(
        select(Booking.counselor_id, Booking.starts_at).where(
            Booking.counselor_id.in_(set(counselor_ids)),
            Booking.status.in_((BookingStatus.BOOKED, BookingStatus.HELD)),
            Booking.starts_at >= now - timedelta(days=1),
        )
    )
    load: dict[tuple[int, date], int] = {}
    for counselor_id, starts_at in rows:
        key = (counselor_id, orgs.local_date(org, starts_at))
        load[key] = load.get(key, 0) + 1
    return load


def days_of(org: Organisation, slots: list[Slot]) -> list[date]:
    """The distinct local dates of the slots, in order."""
    return sorted({orgs.local_date(org, s.starts_at) for s in slots})

"""Bookings: book, cancel, reschedule and complete, each one transaction that keeps invariants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import crisis, hours, members, orgs, waitlist
from storage.errors import (
    BookingNotActive,
    NoHoursLeft,
    NotAllowed,
    NotFound,
    OverlappingBooking,
    SlotTaken,
    SlotUnavailable,
    TooMuchBookedAhead,
)
from storage.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Bucket,
    Counselor,
    Domain,
    Member,
    Mode,
    Organisation,
    Slot,
)
from storage.slots import at_cap, booking_window, counselor_can_take, day_load, minutes_of


@dataclass(frozen=True)
class CancelTerms:
    """What cancelling a booking now would mean: free (hours return) or late (forfeited)."""

    late: bool
    cutoff_hours: int
    minutes: int


async def _lock_member(session: AsyncSession, member: Member) -> Member:
    """Serialise hour-spending per member (row lock on PostgreSQL; SQLite serialises writes)."""
    # FOR NO KEY UPDATE: serialises spending without blocking the foreign-key checks that
    # inserting ledger rows for this member takes (FOR UPDATE deadlocked against complete()).
    locked = await session.scalar(
        select(Member).where(Member.id == member.id).with_for_update(key_share=True)
    )
    if locked is None:
        raise NotAllowed()
    return locked


async def _slot_for_update(session: AsyncSession, slot_id: int) -> tuple[Slot, Counselor]:
    row = (
        await session.execute(
            select(Slot, Counselor)
            .join(Counselor, Counselor.id == Slot.counselor_id)
            .where(Slot.id == slot_id)
            .with_for_update(of=Slot)
        )
    ).first()
    if row is None:
        raise SlotUnavailable()
    return row[0], row[1]


async def _check_own_time(
    session: AsyncSession,
    org: Organisation,
    member: Member,
    slot: Slot,
    *,
    now: datetime,
    replacing: Booking | None,
) -> None:
    """Refuse a time overlapping the member's other active bookings, or past the ahead cap."""
    # The caller holds the member's row lock, so no other booking of theirs is being made.
    mine = [Booking.member_id == member.id, Booking.status == BookingStatus.BOOKED]
    if replacing is not None:
        mine.append(Booking.id != replacing.id)
    clash = await session.scalar(
        select(Booking.starts_at)
        .where(*mine, Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at)
        .order_by(Booking.starts_at)
        .limit(1)
    )
    if clash is not None:
        raise OverlappingBooking(start=clash.astimezone(orgs.tz(org)))
    ahead = await session.scalar(
        select(func.coalesce(func.sum(Booking.minutes), 0)).where(*mine, Booking.starts_at > now)
    )
    if int(ahead or 0) + minutes_of(slot) > org.max_minutes_ahead:
        raise TooMuchBookedAhead(
            cap=round(org.max_minutes_ahead / 60, 2), booked=round(int(ahead or 0) / 60, 2)
        )


def _event(booking: Booking, status: BookingStatus, actor: str, now: datetime) -> BookingEvent:
    return BookingEvent(booking_id=booking.id, status=status, actor=actor, at=now)


async def book(
    session: AsyncSession,
    *,
    member: Member,
    slot_id: int,
    domain: str,
    mode: str,
    now: datetime,
    note: str | None = None,
    credit_booking: Booking | None = None,
    replacing: Booking | None = None,  # a reschedule's old booking: its time does not count
    series_id: int | None = None,
) -> Booking:
    """Reserve the hours and take the slot, or raise why not; never half-done."""
    await members.require_active(session, member)
    member = await _lock_member(session, member)
    org = await orgs.by_id(session, member.organisation_id or 0)
    slot, counselor = await _slot_for_update(session, slot_id)
    window = booking_window(org, now)
    if domain not in set(Domain) or mode not in set(Mode):
        raise SlotUnavailable()
    if (
        slot.blocked
        or counselor.organisation_id != org.id
        or domain not in org.enabled_domains.split(",")
        or not counselor.offers(domain, mode)
        or not counselor_can_take(counselor, slot, org)
        or slot.starts_at < window.earliest
        or (series_id is None and slot.starts_at > window.latest)
    ):
        raise SlotUnavailable()
    if await session.scalar(select(Booking.id).where(Booking.active_slot_id == slot.id)):
        raise SlotTaken()
    if slot.id in await waitlist.held_for_others(session, member_id=member.id, now=now):
        raise SlotTaken()
    load = await day_load(session, org, [counselor.id], now=now) if counselor.daily_cap else {}
    if at_cap(counselor, load, orgs.local_date(org, slot.starts_at)):
        raise SlotUnavailable()
    await _check_own_time(session, org, member, slot, now=now, replacing=replacing)
    minutes = minutes_of(slot)
    on = orgs.local_date(org, slot.starts_at)
    balance = await hours.balance(session, org=org, member=member, on=on, now=now)
    credit = 0
    if credit_booking is not None and credit_booking.plan_year == balance.year_start:
        credit = credit_booking.minutes
    if balance.left + credit < minutes:
        raise NoHoursLeft(needed=minutes, left=balance.left)
    booking = Booking(
        organisation_id=org.id,
        member_id=member.id,
        counselor_id=counselor.id,
        slot_id=slot.id,
        active_slot_id=slot.id,
        domain=Domain(domain),
        mode=Mode(mode),
        minutes=minutes,
        plan_year=balance.year_start,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=BookingStatus.BOOKED,
        note=note or None,
        crisis_flag=await crisis.recent(session, member_id=member.id, now=now),
        series_id=series_id,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(booking)
            await session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    session.add(_event(booking, BookingStatus.BOOKED, "member", now))
    await waitlist.close_for(session, member_id=member.id, domain=domain, now=now)
    await hours.add_entry(
        session,
        org=org,
        member_id=member.id,
        plan_year=booking.plan_year,
        bucket=Bucket.RESERVED,
        minutes=minutes,
        reason="booked",
        key=f"reserve:{booking.id}",
        now=now,
        domain=domain,
        booking_id=booking.id,
    )
    await session.flush()
    return booking


async def owned(session: AsyncSession, *, member: Member, booking_id: int) -> Booking:
    """Return the member's booking, or NotFound for anyone else's."""
    booking = await session.scalar(
        select(Booking).where(Booking.id == booking_id).with_for_update()
    )
    if booking is None or booking.member_id != member.id:
        raise NotFound()
    return booking


async def upcoming(session: AsyncSession, *, member: Member, now: datetime) -> list[Booking]:
    """The member's active bookings that have not started, soonest first."""
    rows = await session.scalars(
        select(Booking)
        .where(
            Booking.member_id == member.id,
            Booking.status == BookingStatus.BOOKED,
            Booking.starts_at > now,
        )
        .order_by(Booking.starts_at)
    )
    return list(rows)


async def of_member(session: AsyncSession, *, member: Member) -> list[Booking]:
    """Every booking of a member, any status."""
    return list(await session.scalars(select(Booking).where(Booking.member_id == member.id)))


def cancel_terms(org: Organisation, booking: Booking, now: datetime) -> CancelTerms:
    """Whether cancelling now is free or forfeits the hours."""
    late = now > booking.starts_at - timedelta(hours=org.cancellation_cutoff_hours)
    return CancelTerms(
        late=late, cutoff_hours=org.cancellation_cutoff_hours, minutes=booking.minutes
    )


async def _release(
    session: AsyncSession,
    org: Organisation,
    booking: Booking,
    *,
    status: BookingStatus,
    consume: bool,
    actor: str,
    now: datetime,
) -> None:
    """End an active booking: free the slot, return or consume the reserved minutes."""
    booking.status = status
    booking.active_slot_id = None
    booking.updated_at = now
    common = {
        "org": org,
        "member_id": booking.member_id,
        "plan_year": booking.plan_year,
        "now": now,
        "domain": booking.domain.value,
        "booking_id": booking.id,
    }
    await hours.add_entry(
        session,
        bucket=Bucket.RESERVED,
        minutes=-booking.minutes,
        reason=status.value,
        key=f"release:{booking.id}",
        **common,  # type: ignore[arg-type]
    )
    if consume:
        await hours.add_entry(
            session,
            bucket=Bucket.USED,
            minutes=booking.minutes,
            reason=status.value,
            key=f"use:{booking.id}",
            **common,  # type: ignore[arg-type]
        )
    session.add(_event(booking, status, actor, now))
    await session.flush()


async def cancel(
    session: AsyncSession, *, member: Member, booking_id: int, now: datetime
) -> tuple[Booking, CancelTerms]:
    """Cancel the member's booking: hours return before the cutoff, are forfeited after."""
    member = await _lock_member(session, member)
    booking = await owned(session, member=member, booking_id=booking_id)
    if booking.status != BookingStatus.BOOKED or booking.starts_at <= now:
        raise BookingNotActive()
    org = await orgs.by_id(session, booking.organisation_id)
    terms = cancel_terms(org, booking, now)
    status = BookingStatus.LATE_CANCELLED if terms.late else BookingStatus.CANCELLED
    await _release(
        session, org, booking, status=status, consume=terms.late, actor="member", now=now
    )
    return booking, terms


async def reschedule(
    session: AsyncSession, *, member: Member, booking_id: int, new_slot_id: int, now: datetime
) -> Booking:
    """Book the new slot first, then release the old booking; all or nothing."""
    member = await _lock_member(session, member)
    old = await owned(session, member=member, booking_id=booking_id)
    if old.status != BookingStatus.BOOKED or old.starts_at <= now:
        raise BookingNotActive()
    org = await orgs.by_id(session, old.organisation_id)
    terms = cancel_terms(org, old, now)
    new = await book(
        session,
        member=member,
        slot_id=new_slot_id,
        domain=old.domain.value,
        mode=old.mode.value,
        now=now,
        note=old.note,
        credit_booking=None if terms.late else old,
        replacing=old,
    )
    new.rescheduled_from_id = old.id
    await _release(
        session,
        org,
        old,
        status=BookingStatus.RESCHEDULED,
        consume=terms.late,
        actor="member",
        now=now,
    )
    return new


async def end_by_provider(session: AsyncSession, booking: Booking, *, now: datetime) -> Booking:
    """The counselor declined: free the slot and return all hours to the employee."""
    org = await orgs.by_id(session, booking.organisation_id)
    await _release(
        session,
        org,
        booking,
        status=BookingStatus.DECLINED,
        consume=False,
        actor="counselor",
        now=now,
    )
    return booking


async def complete(
    session: AsyncSession, *, booking_id: int, held: bool, now: datetime, actor: str = "counselor"
) -> Booking:
    """Mark a session held or a no-show; held sessions use the hours, no-shows by policy."""
    booking = await session.scalar(
        select(Booking).where(Booking.id == booking_id).with_for_update()
    )
    if booking is None:
        raise NotFound()
    if booking.status != BookingStatus.BOOKED:
        raise BookingNotActive()
    org = await orgs.by_id(session, booking.organisation_id)
    status = BookingStatus.HELD if held else BookingStatus.NO_SHOW
    consume = held or org.no_show_uses_hours
    await _release(session, org, booking, status=status, consume=consume, actor=actor, now=now)
    return booking

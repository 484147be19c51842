"""A counselor's side: availability, slots, agenda, declining and recording outcomes."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import bookings, orgs
from storage.db import insert_ignore
from storage.errors import BookingNotActive, NotFound, SlotTaken, SlotUnavailable
from storage.models import (
    Booking,
    BookingStatus,
    Counselor,
    Organisation,
    Slot,
    WeeklyHours,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTIVE = (BookingStatus.BOOKED, BookingStatus.HELD, BookingStatus.NO_SHOW)


class DeclineWindowPassed(BookingNotActive):
    """The counselor's window to decline this booking has passed."""

    message_key = "counselor-decline-too-late"


class SessionNotOver(BookingNotActive):
    """An outcome can only be recorded once the session has ended."""

    message_key = "counselor-outcome-too-early"


@dataclass
class ImportReport:
    """What a slot CSV import did, with the line numbers of rejected rows."""

    added: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def client_alias(key: bytes, counselor_id: int, pseudonym: str) -> str:
    """A stable alias of an employee for one counselor that reveals nothing else."""
    digest = hmac.new(key, f"alias:{counselor_id}:{pseudonym}".encode(), hashlib.sha256).digest()
    return "C-" + base64.b32encode(digest[:5]).decode()[:6]


def parse_weekly(spec: str) -> dict[int, list[tuple[int, int]]]:
    """Parse 'mon 09:00-12:00,14:00-17:00; tue 09:00-17:00' into minutes per weekday."""
    result: dict[int, list[tuple[int, int]]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        day, _, ranges = part.partition(" ")
        if day.lower()[:3] not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}; use mon..sun")
        for span in ranges.split(","):
            start, _, end = span.strip().partition("-")
            lo, hi = _minute(start), _minute(end)
            if hi <= lo:
                raise ValueError(f"{span.strip()!r}: the end must be after the start")
            result.setdefault(WEEKDAYS.index(day.lower()[:3]), []).append((lo, hi))
    return result


def _minute(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"{text!r} is not a time of day")
    return value


async def set_availability(
    session: AsyncSession,
    counselor: Counselor,
    *,
    weekly: dict[int, list[tuple[int, int]]],
    session_minutes: int,
    buffer_minutes: int,
    daily_cap: int | None,
) -> None:
    """Replace the weekly hours and session rules (existing slots are not touched)."""
    await session.execute(delete(WeeklyHours).where(WeeklyHours.counselor_id == counselor.id))
    for weekday, spans in weekly.items():
        for lo, hi in spans:
            session.add(
                WeeklyHours(
                    counselor_id=counselor.id, weekday=weekday, start_minute=lo, end_minute=hi
                )
            )
    counselor.session_minutes = session_minutes
    counselor.buffer_minutes = buffer_minutes
    counselor.daily_cap = daily_cap
    await session.flush()


async def _add(session: AsyncSession, counselor: Counselor, start: datetime) -> bool:
    values = {
        "counselor_id": counselor.id,
        "starts_at": start,
        "blocked": False,
        "ends_at": start + timedelta(minutes=counselor.session_minutes),
    }
    result = await session.execute(insert_ignore(session, Slot, values))
    return bool(result.rowcount)


async def generate_slots(
    session: AsyncSession, counselor: Counselor, org: Organisation, *, start: date, days: int
) -> int:
    """Create slots from the weekly hours for `days` days; existing slots stay as they are."""
    spans = list(
        await session.scalars(select(WeeklyHours).where(WeeklyHours.counselor_id == counselor.id))
    )
    step = counselor.session_minutes + counselor.buffer_minutes
    added = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        midnight = datetime.combine(day, time(0), tzinfo=orgs.tz(org))
        for span in (s for s in spans if s.weekday == day.weekday()):
            minute = span.start_minute
            while minute + counselor.session_minutes <= span.end_minute:
                added += await _add(session, counselor, midnight + timedelta(minutes=minute))
                minute += step
    return added


async def add_slot(
    session: AsyncSession, counselor: Counselor, *, start: datetime, now: datetime
) -> Slot:
    """Add one slot; refuse the past and overlaps with the counselor's other slots."""
    end = start + timedelta(minutes=counselor.session_minutes)
    overlap = await session.scalar(
        select(Slot.id).where(
            Slot.counselor_id == counselor.id, Slot.starts_at < end, Slot.ends_at > start
        )
    )
    if start <= now or overlap is not None:
        raise SlotUnavailable()
    await _add(session, counselor, start)
    slot = await session.scalar(
        select(Slot).where(Slot.counselor_id == counselor.id, Slot.starts_at == start)
    )
    assert slot is not None
    return slot


async def block_slot(session: AsyncSession, counselor: Counselor, slot_id: int) -> Slot:
    """Block a free slot of this counselor; a booked slot cannot be blocked."""
    slot = await session.get(Slot, slot_id, with_for_update=True)
    if slot is None or slot.counselor_id != counselor.id:
        raise NotFound()
    if await session.scalar(select(Booking.id).where(Booking.active_slot_id == slot.id)):
        raise SlotTaken()
    slot.blocked = True
    await session.flush()
    return slot


async def import_slots(
    session: AsyncSession, counselor: Counselor, org: Organisation, text: str, *, now: datetime
) -> ImportReport:
    """Import slots from CSV `date,start` (YYYY-MM-DD, HH:MM, organisation time)."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"date", "start"} <= set(reader.fieldnames):
        report.errors.append("line 1: the header must be date,start")
        return report
    for number, row in enumerate(reader, start=2):
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
            start = datetime.combine(day, time(0), tzinfo=orgs.tz(org)) + timedelta(
                minutes=_minute(row.get("start") or "")
            )
        except ValueError:
            report.errors.append(f"line {number}: expected YYYY-MM-DD and HH:MM")
            continue
        try:
            async with session.begin_nested():
                await add_slot(session, counselor, start=start, now=now)
            report.added += 1
        except SlotUnavailable:
            report.skipped += 1
    return report


async def free_slots_of(
    session: AsyncSession, counselor: Counselor, *, now: datetime, limit: int = 12
) -> list[Slot]:
    """The counselor's future free, unblocked slots."""
    holder = aliased(Booking)
    rows = await session.scalars(
        select(Slot)
        .outerjoin(holder, holder.active_slot_id == Slot.id)
        .where(
            Slot.counselor_id == counselor.id,
            Slot.starts_at > now,
            Slot.blocked.is_(False),
            holder.id.is_(None),
        )
        .order_by(Slot.starts_at)
        .limit(limit)
    )
    return list(rows)


async def bookings_between(
    session: AsyncSession, counselor: Counselor, start: datetime, end: datetime
) -> list[Booking]:
    """The counselor's booked, held and no-show sessions starting in [start, end)."""
    rows = await session.scalars(
        select(Booking)
        .where(
            Booking.counselor_id == counselor.id,
            Booking.status.in_(ACTIVE),
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
        .order_by(Booking.starts_at)
    )
    return list(rows)


async def owned_booking(session: AsyncSession, counselor: Counselor, booking_id: int) -> Booking:
    """The counselor's own booking, or NotFound for anyone else's."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None or booking.counselor_id != counselor.id:
        raise NotFound()
    return booking


async def decline(
    session: AsyncSession, counselor: Counselor, booking_id: int, *, now: datetime
) -> Booking:
    """Decline a new booking within the window: the slot and the employee's hours return."""
    booking = await owned_booking(session, counselor, booking_id)
    if booking.status != BookingStatus.BOOKED or booking.starts_at <= now:
        raise BookingNotActive()
    if now > booking.created_at + timedelta(hours=counselor.decline_window_hours):
        raise DeclineWindowPassed(hours=counselor.decline_window_hours)
    return await bookings.end_by_provider(session, booking, now=now)


async def record_outcome(
    session: AsyncSession, counselor: Counselor, booking_id: int, *, held: bool, now: datetime
) -> Booking:
    """Mark one's own ended session held or a no-show."""
    booking = await owned_booking(session, counselor, booking_id)
    if booking.ends_at > now:
        raise SessionNotOver()
    return await bookings.complete(session, booking_id=booking.id, held=held, now=now)


async def unmarked(session: AsyncSession, *, ended_before: datetime) -> list[Booking]:
    """Sessions that ended but still await the counselor's held / no-show."""
    rows = await session.scalars(
        select(Booking).where(
            Booking.status == BookingStatus.BOOKED, Booking.ends_at <= ended_before
        )
    )
    return list(rows)


async def linked(session: AsyncSession) -> list[Counselor]:
    """Counselors who linked a chat."""
    rows = await session.scalars(select(Counselor).where(Counselor.external_id.is_not(None)))
    return list(rows)


async def count_today(
    session: AsyncSession, counselor: Counselor, org: Organisation, moment: datetime
) -> int:
    """Booked or held sessions of the counselor on the local day of `moment`."""
    day = orgs.local_date(org, moment)
    start = datetime.combine(day, time(0), tzinfo=orgs.tz(org))
    total = await session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.counselor_id == counselor.id,
            Booking.status.in_((BookingStatus.BOOKED, BookingStatus.HELD)),
            Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1),
        )
    )
    return int(total or 0)


async def with_weekly_hours(session: AsyncSession) -> list[Counselor]:
    """Active counselors who have weekly hours set."""
    rows = await session.scalars(
        select(Counselor).where(
            Counselor.active.is_(True), Counselor.id.in_(select(WeeklyHours.counselor_id))
        )
    )
    return list(rows)

"""My bookings: list, cancel (told first whether hours return), reschedule (new before old).

Payloads: my | my:c:ID | my:cy:ID | my:r:ID[:PAGE] | my:rd:ID:YYYYMMDD | my:rs:ID:SLOT
| my:ry:ID:SLOT
"""

from __future__ import annotations

from handlers import notify, waitlist
from handlers.booking import DAYS_PER_PAGE, _day_code, _parse_day, free
from handlers.menu import main_choices
from handlers.types import Choice, Key, Reply, Turn
from storage import bookings, members, orgs, slots
from storage.errors import DomainError
from storage.models import Booking, Organisation


def _when(org: Organisation, booking: Booking) -> dict[str, object]:
    return {
        "start": booking.starts_at.astimezone(orgs.tz(org)),
        "domain": Key(f"domain-{booking.domain.value}"),
        "mode": Key(f"mode-{booking.mode.value}"),
    }


async def list_bookings(turn: Turn, org: Organisation) -> list[Reply]:
    """Show upcoming bookings, each with cancel and reschedule."""
    assert turn.member is not None
    upcoming = await bookings.upcoming(turn.session, member=turn.member, now=turn.now)
    if not upcoming:
        return [Reply("my-none", choices=[Choice("menu-book", "bk"), Choice("menu-back", "m")])]
    replies = [
        Reply(
            "my-booking",
            **_when(org, b),
            choices=[Choice("my-cancel", f"my:c:{b.id}"), Choice("my-reschedule", f"my:r:{b.id}")],
        )
        for b in upcoming
    ]
    replies[-1].choices.append(Choice("menu-back", "m"))
    return replies


async def ask_cancel(turn: Turn, org: Organisation, booking: Booking) -> list[Reply]:
    """Say whether the hours return or are forfeited, before confirming."""
    terms = bookings.cancel_terms(org, booking, turn.now)
    key = "cancel-confirm-late" if terms.late else "cancel-confirm-free"
    return [
        Reply(
            key,
            **_when(org, booking),
            cutoff=terms.cutoff_hours,
            choices=[Choice("cancel-yes", f"my:cy:{booking.id}"), Choice("cancel-no", "my")],
        )
    ]


async def do_cancel(turn: Turn, org: Organisation, booking_id: int) -> list[Reply]:
    """Cancel and say what happened to the hours."""
    assert turn.member is not None
    booking, terms = await bookings.cancel(
        turn.session, member=turn.member, booking_id=booking_id, now=turn.now
    )
    await notify.cancelled(turn.session, turn.pseudonym_key, booking, turn.now)
    await waitlist.offer_freed_slot(turn.session, booking.slot_id, turn.now)
    key = "cancel-done-late" if terms.late else "cancel-done-free"
    return [Reply(key, **_when(org, booking), choices=main_choices())]


async def reschedule_days(
    turn: Turn, org: Organisation, booking: Booking, page: int
) -> list[Reply]:
    """Offer days with a free slot in the same domain and mode."""
    found = await free(turn, org, booking.domain.value, booking.mode.value)
    days = slots.days_of(org, [s for s in found if s.id != booking.slot_id])
    if not days:
        return [Reply("reschedule-none", choices=main_choices())]
    shown = days[page * DAYS_PER_PAGE : (page + 1) * DAYS_PER_PAGE]
    choices = [Choice("book-day", f"my:rd:{booking.id}:{_day_code(d)}", {"day": d}) for d in shown]
    if (page + 1) * DAYS_PER_PAGE < len(days):
        choices.append(Choice("book-more", f"my:r:{booking.id}:{page + 1}"))
    choices.append(Choice("book-back", "my"))
    return [Reply("reschedule-choose-day", **_when(org, booking), choices=choices)]


async def reschedule_slots(
    turn: Turn, org: Organisation, booking: Booking, code: str
) -> list[Reply]:
    """Offer that day's free times."""
    day = _parse_day(code)
    found = await free(turn, org, booking.domain.value, booking.mode.value, day) if day else []
    tz = orgs.tz(org)
    choices = [
        Choice(
            "book-slot",
            f"my:rs:{booking.id}:{s.id}",
            {
                "start": s.starts_at.astimezone(tz),
                "minutes": slots.minutes_of(s),
                "counselor": s.counselor.display_name,
            },
        )
        for s in found[:12]
    ]
    if not choices:
        return [Reply("book-slot-unavailable"), *await reschedule_days(turn, org, booking, 0)]
    return [Reply("book-choose-slot", day=day, choices=[*choices, Choice("book-back", "my")])]


async def ask_reschedule(
    turn: Turn, org: Organisation, booking: Booking, slot_id: int
) -> list[Reply]:
    """Confirm moving the booking, saying if the old hours are forfeited."""
    found = [
        s
        for s in await free(turn, org, booking.domain.value, booking.mode.value)
        if s.id == slot_id
    ]
    if not found:
        return [Reply("book-slot-unavailable"), *await reschedule_days(turn, org, booking, 0)]
    late = bookings.cancel_terms(org, booking, turn.now).late
    return [
        Reply(
            "reschedule-confirm-late" if late else "reschedule-confirm",
            **_when(org, booking),
            new_start=found[0].starts_at.astimezone(orgs.tz(org)),
            cutoff=org.cancellation_cutoff_hours,
            choices=[
                Choice("reschedule-yes", f"my:ry:{booking.id}:{slot_id}"),
                Choice("cancel-no", "my"),
            ],
        )
    ]


async def route(turn: Turn) -> list[Reply]:
    """Dispatch the my-bookings buttons; someone else's booking id is simply not found."""
    assert turn.member is not None
    await members.require_active(turn.session, turn.member)
    org = await orgs.by_id(turn.session, turn.member.organisation_id or 0)
    args = turn.args
    if len(args) < 2 or not args[1].isdigit():
        return await list_bookings(turn, org)
    step, booking_id = args[0], int(args[1])
    if step == "cy":
        return await do_cancel(turn, org, booking_id)
    booking = await bookings.owned(turn.session, member=turn.member, booking_id=booking_id)
    if booking.status.value != "booked" or booking.starts_at <= turn.now:
        return [Reply("booking-not-active"), *await list_bookings(turn, org)]
    slot_arg = int(args[2]) if len(args) > 2 and args[2].isdigit() else None
    if step == "c":
        return await ask_cancel(turn, org, booking)
    if step == "r":
        return await reschedule_days(turn, org, booking, int(args[2]) if slot_arg else 0)
    if step == "rd" and len(args) > 2:
        return await reschedule_slots(turn, org, booking, args[2])
    if step == "rs" and slot_arg is not None:
        return await ask_reschedule(turn, org, booking, slot_arg)
    if step == "ry" and slot_arg is not None:
        try:
            new = await bookings.reschedule(
                turn.session,
                member=turn.member,
                booking_id=booking.id,
                new_slot_id=slot_arg,
                now=turn.now,
            )
        except DomainError as err:
            return [
                Reply(err.message_key, **err.params),
                *await reschedule_days(turn, org, booking, 0),
            ]
        await notify.rescheduled(turn.session, turn.pseudonym_key, booking, new, turn.now)
        await waitlist.offer_freed_slot(turn.session, booking.slot_id, turn.now)
        return [Reply("reschedule-done", **_when(org, new), choices=main_choices())]
    return await list_bookings(turn, org)

"""The counselor's back office in the chat: agenda, bookings, outcomes, declining, slots.

Payloads: co | co:ag[:YYYYMMDD] | co:up | co:b:ID | co:dec:ID | co:decy:ID | co:held:ID
| co:ns:ID | co:add | co:ad:YYYYMMDD | co:at:YYYYMMDD:HHMM | co:blk | co:bs:SLOT | co:ack:ID
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from handlers import crisis_handoff, crisis_talk, notify, series, waitlist
from handlers.types import Choice, Key, Reply, Turn
from storage import counselors, orgs
from storage.models import Booking, BookingStatus, Counselor, Organisation

HOURS_OFFERED = range(8, 21)


def menu_choices() -> list[Choice]:
    """The counselor menu's buttons."""
    return [
        Choice("counselor-agenda", "co:ag"),
        Choice("counselor-upcoming", "co:up"),
        Choice("counselor-add-slot", "co:add"),
        Choice("counselor-block-slot", "co:blk"),
        Choice("menu-help", "help"),
    ]


async def _org(turn: Turn) -> tuple[Counselor, Organisation]:
    assert turn.counselor is not None
    return turn.counselor, await orgs.by_id(turn.session, turn.counselor.organisation_id)


async def show_menu(turn: Turn) -> list[Reply]:
    """Greet the counselor, warn about an expired licence, show the menu."""
    counselor, org = await _org(turn)
    turn.state.clear()
    replies = []
    if counselor.licence_expires_on < orgs.local_date(org, turn.now):
        replies.append(Reply("counselor-licence-expired", until=counselor.licence_expires_on))
    return [*replies, Reply("counselor-menu", name=counselor.display_name, choices=menu_choices())]


def _day(code: str | None, org: Organisation, now: datetime):
    try:
        return datetime.strptime(code or "", "%Y%m%d").date()
    except ValueError:
        return orgs.local_date(org, now)


async def _lines(turn: Turn, items: list[Booking]) -> list[Reply]:
    return [
        Reply(
            "counselor-booking-line",
            status=Key(f"status-{b.status}"),
            **await notify.booking_params(turn.session, turn.pseudonym_key, b),
            choices=[Choice("counselor-view", f"co:b:{b.id}")],
        )
        for b in items
    ]


async def agenda(turn: Turn, code: str | None) -> list[Reply]:
    """One day's sessions, in the organisation's time."""
    counselor, org = await _org(turn)
    day = _day(code, org, turn.now)
    start = datetime.combine(day, time(0), tzinfo=orgs.tz(org))
    items = await counselors.bookings_between(
        turn.session, counselor, start, start + timedelta(days=1)
    )
    following = (day + timedelta(days=1)).strftime("%Y%m%d")
    nav = [Choice("counselor-next-day", f"co:ag:{following}"), Choice("menu-back", "m")]
    if not items:
        return [Reply("counselor-agenda-empty", day=day, choices=nav)]
    return [
        Reply("counselor-agenda-title", day=day, count=len(items)),
        *await _lines(turn, items),
        Reply("counselor-more", choices=nav),
    ]


async def upcoming(turn: Turn) -> list[Reply]:
    """The next booked sessions."""
    counselor, _ = await _org(turn)
    items = [
        b
        for b in await counselors.bookings_between(
            turn.session, counselor, turn.now, turn.now + timedelta(days=60)
        )
        if b.status == BookingStatus.BOOKED
    ][:10]
    if not items:
        return [Reply("counselor-upcoming-none", choices=menu_choices())]
    return [*await _lines(turn, items), Reply("counselor-more", choices=menu_choices())]


async def details(turn: Turn, booking_id: int) -> list[Reply]:
    """One booking: when, what, the alias, note, crisis flag, and what can be done now."""
    counselor, _ = await _org(turn)
    booking = await counselors.owned_booking(turn.session, counselor, booking_id)
    params = await notify.booking_params(turn.session, turn.pseudonym_key, booking)
    choices = []
    if booking.status == BookingStatus.BOOKED and booking.ends_at <= turn.now:
        choices += [
            Choice("counselor-held", f"co:held:{booking.id}"),
            Choice("counselor-no-show", f"co:ns:{booking.id}"),
        ]
    elif booking.status == BookingStatus.BOOKED:
        choices.append(Choice("counselor-decline", f"co:dec:{booking.id}"))
    if booking.member_id is not None and booking.status in (
        BookingStatus.BOOKED,
        BookingStatus.HELD,
    ):
        choices.append(Choice("counselor-offer-series", f"co:ser:{booking.id}"))
    replies = [Reply("counselor-booking", status=Key(f"status-{booking.status}"), **params)]
    if booking.note:
        replies.append(Reply("counselor-note", note=booking.note))
    replies[-1].choices = [*choices, Choice("menu-back", "m")]
    return replies


async def decline(turn: Turn, booking_id: int, confirmed: bool) -> list[Reply]:
    """Ask, then decline: the employee is told, hours return, the slot goes to the waitlist."""
    counselor, _ = await _org(turn)
    if not confirmed:
        booking = await counselors.owned_booking(turn.session, counselor, booking_id)
        warning = [Reply("counselor-decline-crisis-warning")] if booking.crisis_flag else []
        return [
            *warning,
            Reply(
                "counselor-decline-confirm",
                choices=[
                    Choice("counselor-decline-yes", f"co:decy:{booking_id}"),
                    Choice("cancel-no", f"co:b:{booking_id}"),
                ],
            ),
        ]
    booking = await counselors.decline(turn.session, counselor, booking_id, now=turn.now)
    await notify.declined(turn.session, booking, turn.now)
    await crisis_talk.after_decline(turn.session, booking, turn.now)  # flagged: re-offer now
    await waitlist.offer_freed_slot(turn.session, booking.slot_id, turn.now)
    return [
        Reply("counselor-declined"),
        Reply("counselor-menu", name=counselor.display_name, choices=menu_choices()),
    ]


async def outcome(turn: Turn, booking_id: int, held: bool) -> list[Reply]:
    """Record held or no-show; a held session triggers the feedback prompt."""
    counselor, _ = await _org(turn)
    await counselors.record_outcome(turn.session, counselor, booking_id, held=held, now=turn.now)
    return [
        Reply(
            "counselor-outcome-saved" if held else "counselor-no-show-saved",
            choices=menu_choices(),
        )
    ]


async def add_slot(turn: Turn, args: list[str]) -> list[Reply]:
    """Add a single slot: pick a day, then an hour."""
    counselor, org = await _org(turn)
    today = orgs.local_date(org, turn.now)
    if not args:
        days = [today + timedelta(days=n) for n in range(1, 13)]
        return [
            Reply(
                "counselor-add-day",
                choices=[Choice("book-day", f"co:ad:{d:%Y%m%d}", {"day": d}) for d in days],
            )
        ]
    day = _day(args[0], org, turn.now)
    if len(args) == 1:
        return [
            Reply(
                "counselor-add-time",
                day=day,
                choices=[
                    Choice(
                        "counselor-hour", f"co:at:{day:%Y%m%d}:{h:02d}00", {"hour": f"{h:02d}:00"}
                    )
                    for h in HOURS_OFFERED
                ],
            )
        ]
    start = datetime.combine(day, time(int(args[1][:2]), int(args[1][2:4])), tzinfo=orgs.tz(org))
    slot = await counselors.add_slot(turn.session, counselor, start=start, now=turn.now)
    await waitlist.offer_freed_slot(turn.session, slot.id, turn.now)
    return [
        Reply(
            "counselor-slot-added",
            start=start,
            minutes=counselor.session_minutes,
            choices=menu_choices(),
        )
    ]


async def block_slot(turn: Turn, slot_id: int | None) -> list[Reply]:
    """Block one of the counselor's free slots (booked slots cannot be blocked)."""
    counselor, org = await _org(turn)
    if slot_id is None:
        free = await counselors.free_slots_of(turn.session, counselor, now=turn.now)
        if not free:
            return [Reply("counselor-no-free-slots", choices=menu_choices())]
        tz = orgs.tz(org)
        return [
            Reply(
                "counselor-block-choose",
                choices=[
                    Choice(
                        "counselor-slot", f"co:bs:{s.id}", {"start": s.starts_at.astimezone(tz)}
                    )
                    for s in free
                ],
            )
        ]
    slot = await counselors.block_slot(turn.session, counselor, slot_id)
    return [
        Reply(
            "counselor-slot-blocked",
            start=slot.starts_at.astimezone(orgs.tz(org)),
            choices=menu_choices(),
        )
    ]


async def route(turn: Turn) -> list[Reply]:
    """Dispatch counselor buttons; only a linked counselor may use them."""
    if turn.counselor is None:
        return [Reply("error-not-allowed")]
    step, rest = (turn.args[0], turn.args[1:]) if turn.args else ("", [])
    number = int(rest[0]) if rest and rest[0].isdigit() else None
    if step == "ag":
        return await agenda(turn, rest[0] if rest else None)
    if step == "up":
        return await upcoming(turn)
    if step == "add":
        return await add_slot(turn, [])
    if step == "ad" and rest:
        return await add_slot(turn, rest[:1])
    if step == "at" and len(rest) == 2 and rest[1].isdigit() and len(rest[1]) == 4:
        return await add_slot(turn, rest[:2])
    if step == "blk":
        return await block_slot(turn, None)
    if number is not None:
        if step == "b":
            return await details(turn, number)
        if step in ("dec", "decy"):
            return await decline(turn, number, confirmed=step == "decy")
        if step in ("held", "ns"):
            return await outcome(turn, number, held=step == "held")
        if step == "bs":
            return await block_slot(turn, number)
        if step == "ack":
            return await crisis_handoff.acknowledge(turn, number)
        if step == "ser":
            return await series.choose(turn, number)
        if step == "sero" and len(rest) == 3 and rest[1].isdigit() and rest[2].isdigit():
            return await series.offer(turn, number, int(rest[1]), int(rest[2]))
    return await show_menu(turn)

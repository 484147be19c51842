"""Booking: domain -> mode -> day -> slot -> (note) -> confirm.

Each payload carries what its step needs, so an old button still works or is refused clearly.
Payloads: bk | bk:d:DOMAIN | bk:m:DOMAIN:MODE[:PAGE] | bk:day:DOMAIN:MODE:YYYYMMDD[:PAGE]
| bk:s:SLOT:DOMAIN:MODE | bk:note:SLOT:DOMAIN:MODE | bk:ok:SLOT:DOMAIN:MODE
"""

from __future__ import annotations

from datetime import date, datetime

from handlers import notify
from handlers.ics import booking_ics
from handlers.menu import main_choices
from handlers.types import Choice, Key, Reply, Turn
from storage import bookings, hours, members, orgs, slots
from storage.errors import DomainError
from storage.models import Mode, Organisation, Slot

FLOW = "bk"
CONFIRM = "confirm"
NOTE = "note"
DAYS_PER_PAGE = 6
SLOTS_PER_PAGE = 8
MAX_NOTE = 500


def _day_code(day: date) -> str:
    return day.strftime("%Y%m%d")


def _parse_day(code: str) -> date | None:
    try:
        return datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        return None


def _page(args: list[str], index: int) -> int:
    return int(args[index]) if len(args) > index and args[index].isdigit() else 0


async def _org(turn: Turn) -> Organisation:
    assert turn.member is not None
    await members.require_active(turn.session, turn.member)
    return await orgs.by_id(turn.session, turn.member.organisation_id or 0)


async def _left(turn: Turn, org: Organisation) -> int:
    assert turn.member is not None
    today = orgs.local_date(org, turn.now)
    balance = await hours.balance(
        turn.session, org=org, member=turn.member, on=today, now=turn.now
    )
    return balance.left


async def free(
    turn: Turn, org: Organisation, domain: str, mode: str, day: date | None = None
) -> list[Slot]:
    """Free slots the member can afford, soonest first."""
    return await slots.free_slots(
        turn.session,
        org=org,
        domain=domain,
        mode=mode,
        now=turn.now,
        max_minutes=await _left(turn, org),
        day=day,
        member_id=turn.member.id if turn.member else None,
    )


async def choose_domain(turn: Turn, org: Organisation) -> list[Reply]:
    """Start a booking: which kind of help."""
    assert turn.member is not None
    await members.record_activity(turn.session, turn.member, "started_booking", turn.now)
    turn.state.go(FLOW, "domain")
    if await _left(turn, org) <= 0:
        turn.state.clear()
        return [Reply("book-no-hours-left", choices=main_choices())]
    choices = [Choice(f"domain-{d.value}", f"bk:d:{d.value}") for d in org.domains]
    return [Reply("book-choose-domain", choices=[*choices, Choice("menu-back", "m")])]


async def choose_mode(turn: Turn, org: Organisation, domain: str) -> list[Reply]:
    """Which way to meet."""
    if domain not in org.enabled_domains.split(","):
        return await choose_domain(turn, org)
    turn.state.go(FLOW, "mode", domain=domain)
    choices = [Choice(f"mode-{m.value}", f"bk:m:{domain}:{m.value}") for m in Mode]
    return [
        Reply(
            "book-choose-mode",
            domain=Key(f"domain-{domain}"),
            choices=[*choices, Choice("book-back", "bk")],
        )
    ]


async def choose_day(
    turn: Turn, org: Organisation, domain: str, mode: str, page: int
) -> list[Reply]:
    """Which day, among days with a free slot."""
    days = slots.days_of(org, await free(turn, org, domain, mode))
    turn.state.go(FLOW, "day", domain=domain, mode=mode)
    if not days:
        return [
            Reply(
                "book-no-slots",
                domain=Key(f"domain-{domain}"),
                mode=Key(f"mode-{mode}"),
                choices=[
                    Choice("book-other-mode", f"bk:d:{domain}"),
                    Choice("waitlist-join", f"wl:j:{domain}"),
                    Choice("menu-back", "m"),
                ],
            )
        ]
    shown = days[page * DAYS_PER_PAGE : (page + 1) * DAYS_PER_PAGE]
    choices = [
        Choice("book-day", f"bk:day:{domain}:{mode}:{_day_code(d)}", {"day": d}) for d in shown
    ]
    if (page + 1) * DAYS_PER_PAGE < len(days):
        choices.append(Choice("book-more", f"bk:m:{domain}:{mode}:{page + 1}"))
    choices.append(Choice("book-back", f"bk:d:{domain}"))
    return [Reply("book-choose-day", choices=choices)]


async def choose_slot(
    turn: Turn, org: Organisation, domain: str, mode: str, day: date, page: int
) -> list[Reply]:
    """Which time on that day."""
    found = await free(turn, org, domain, mode, day)
    if not found:
        return [Reply("book-slot-unavailable"), *await choose_day(turn, org, domain, mode, 0)]
    shown = found[page * SLOTS_PER_PAGE : (page + 1) * SLOTS_PER_PAGE]
    tz = orgs.tz(org)
    choices = [
        Choice(
            "book-slot",
            f"bk:s:{s.id}:{domain}:{mode}",
            {
                "start": s.starts_at.astimezone(tz),
                "minutes": slots.minutes_of(s),
                "counselor": s.counselor.display_name,
            },
        )
        for s in shown
    ]
    if (page + 1) * SLOTS_PER_PAGE < len(found):
        choices.append(Choice("book-more", f"bk:day:{domain}:{mode}:{_day_code(day)}:{page + 1}"))
    choices.append(Choice("book-back", f"bk:m:{domain}:{mode}"))
    return [Reply("book-choose-slot", day=day, choices=choices)]


async def confirm_step(
    turn: Turn, org: Organisation, slot_id: int, domain: str, mode: str
) -> list[Reply]:
    """Say when, how long, how many hours and the cancellation rule; ask to confirm."""
    found = [s for s in await free(turn, org, domain, mode) if s.id == slot_id]
    if not found:
        return [Reply("book-slot-unavailable"), *await choose_day(turn, org, domain, mode, 0)]
    slot = found[0]
    note = turn.state.data.get("note") if turn.state.data.get("slot") == slot_id else None
    turn.state.go(FLOW, CONFIRM, slot=slot_id, domain=domain, mode=mode, note=note)
    tail = f"{slot_id}:{domain}:{mode}"
    minutes = slots.minutes_of(slot)
    return [
        Reply(
            "book-confirm",
            start=slot.starts_at.astimezone(orgs.tz(org)),
            minutes=minutes,
            hours=round(minutes / 60, 2),
            domain=Key(f"domain-{domain}"),
            mode=Key(f"mode-{mode}"),
            cutoff=org.cancellation_cutoff_hours,
            note=1 if note else 0,
            choices=[
                Choice("book-confirm-yes", f"bk:ok:{tail}"),
                Choice("book-add-note", f"bk:note:{tail}"),
                Choice("book-back", f"bk:m:{domain}:{mode}"),
            ],
        )
    ]


async def ask_note(
    turn: Turn, org: Organisation, slot_id: int, domain: str, mode: str
) -> list[Reply]:
    """Ask for a note to the counselor, unless the slot is no longer free (a stale button)."""
    if not any(s.id == slot_id for s in await free(turn, org, domain, mode)):
        return [Reply("book-slot-unavailable"), *await choose_day(turn, org, domain, mode, 0)]
    turn.state.go(FLOW, NOTE, slot=slot_id, domain=domain, mode=mode)
    return [Reply("book-ask-note")]


async def confirm_slot(
    turn: Turn, org: Organisation, slot_id: int, domain: str, mode: str
) -> list[Reply]:
    """Book the chosen slot, or say why it can't be booked."""
    assert turn.member is not None
    note = turn.state.data.get("note") if turn.state.data.get("slot") == slot_id else None
    try:
        booking = await bookings.book(
            turn.session,
            member=turn.member,
            slot_id=slot_id,
            domain=domain,
            mode=mode,
            now=turn.now,
            note=note,
        )
    except DomainError as err:
        return [
            Reply(err.message_key, **err.params),
            *await choose_day(turn, org, domain, mode, 0),
        ]
    turn.state.clear()
    await notify.new_booking(turn.session, turn.pseudonym_key, booking, turn.now)
    calendar = booking_ics(
        uid=f"booking-{booking.id}@eap-bot",
        start=booking.starts_at,
        end=booking.ends_at,
        title=calendar_title(turn.locale),
        now=turn.now,
    )
    return [
        Reply(
            "book-confirmed",
            start=booking.starts_at.astimezone(orgs.tz(org)),
            minutes=booking.minutes,
            domain=Key(f"domain-{domain}"),
            mode=Key(f"mode-{mode}"),
            cutoff=org.cancellation_cutoff_hours,
            attachment=calendar,
            choices=main_choices(),
        )
    ]


def calendar_title(locale: str) -> str:
    """The neutral calendar title; kept out of the catalogs because it must never say EAP."""
    return "預約" if locale == "zh-TW" else "Appointment"


async def route(turn: Turn) -> list[Reply]:
    """Dispatch the booking flow's buttons."""
    org = await _org(turn)
    args = turn.args
    step = args[0] if args else ""
    if step == "d" and len(args) >= 2:
        return await choose_mode(turn, org, args[1])
    if step == "m" and len(args) >= 3:
        return await choose_day(turn, org, args[1], args[2], _page(args, 3))
    if step == "day" and len(args) >= 4 and (day := _parse_day(args[3])):
        return await choose_slot(turn, org, args[1], args[2], day, _page(args, 4))
    if step in ("s", "note", "ok") and len(args) >= 4 and args[1].isdigit():
        slot_id, domain, mode = int(args[1]), args[2], args[3]
        if step == "s":
            return await confirm_step(turn, org, slot_id, domain, mode)
        if step == "note":
            return await ask_note(turn, org, slot_id, domain, mode)
        return await confirm_slot(turn, org, slot_id, domain, mode)
    return await choose_domain(turn, org)


async def on_text(turn: Turn) -> list[Reply]:
    """Take the optional note for the counselor; other text re-shows the step."""
    data = turn.state.data
    if turn.state.step != NOTE or "slot" not in data:
        return [Reply("not-understood", choices=main_choices())]
    org = await _org(turn)
    turn.state.data = {**data, "note": turn.text[:MAX_NOTE]}
    return [
        Reply("book-note-saved"),
        *await confirm_step(turn, org, int(data["slot"]), data["domain"], data["mode"]),
    ]

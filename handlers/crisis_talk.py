""" "I want to talk to someone": the earliest session, told truthfully, and the lines.

When the hours are used up it says so (with the free public programme); when no slot exists it
says that; never "ask HR". A counselor declining a crisis-flagged booking triggers a re-offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import crisis_flow, crisis_lines, notify
from handlers.types import Choice, Reply, Turn
from storage import hours, members, orgs, slots
from storage.errors import DomainError
from storage.models import Booking, Domain, Member, Mode, Organisation, Slot

ANY_LENGTH = 24 * 60
PSYCHOLOGY = Domain.PSYCHOLOGY.value


@dataclass(frozen=True)
class Options:
    """What an employee can book now: the earliest affordable slot, or why there is none."""

    slot: Slot | None
    hours_left: bool
    resets: date | None


async def _candidates(
    session: AsyncSession, org: Organisation, member: Member, domain: str, now: datetime
) -> list[Slot]:
    found: dict[int, Slot] = {}
    for mode in Mode:
        for slot in await slots.free_slots(
            session,
            org=org,
            domain=domain,
            mode=mode.value,
            now=now,
            max_minutes=ANY_LENGTH,
            member_id=member.id,
        ):
            found[slot.id] = slot
    return sorted(found.values(), key=lambda s: (s.starts_at, s.id))


async def options(
    session: AsyncSession,
    org: Organisation,
    member: Member,
    now: datetime,
    *,
    domain: str = PSYCHOLOGY,
    not_with: int | None = None,
) -> Options:
    """The earliest slot the member can afford (not with counselor `not_with`), or why none."""
    balance = await hours.balance(
        session, org=org, member=member, on=orgs.local_date(org, now), now=now
    )
    found = [
        s
        for s in await _candidates(session, org, member, domain, now)
        if s.counselor_id != not_with
    ]
    affordable = [s for s in found if slots.minutes_of(s) <= balance.left]
    if affordable:
        return Options(affordable[0], True, None)
    out_of_hours = balance.left <= 0 or bool(found)
    return Options(None, not out_of_hours, balance.year_end)


def slot_choice(org: Organisation, slot: Slot, domain: str = PSYCHOLOGY) -> Choice:
    """A button booking the slot (its confirm step), in a mode its counselor offers."""
    mode = next(m for m in Mode if slot.counselor.offers(domain, m.value))
    return Choice(
        "crisis-earliest-slot",
        f"bk:s:{slot.id}:{domain}:{mode.value}",
        {"start": slot.starts_at.astimezone(orgs.tz(org))},
    )


async def _eligible(turn: Turn) -> tuple[Organisation, Member] | None:
    member = turn.member
    if member is None or member.organisation_id is None:
        return None
    try:
        await members.require_active(turn.session, member)
    except DomainError:  # unlinked or left: the public lines are still theirs
        return None
    return await orgs.by_id(turn.session, member.organisation_id), member


async def offer(turn: Turn, kind: str) -> list[Reply]:
    """The earliest psychology session, or the truth about why there is none, with the lines."""
    back = crisis_flow.answers(turn, kind, talk=False)
    on = crisis_lines.taiwan_date(turn.now)
    eligible = await _eligible(turn)
    if eligible is None:
        now_lines = await crisis_flow.lines(turn, "crisis-talk-lines", kind)
        return [now_lines, *crisis_lines.programme_reply(turn.locale, on), _next(back)]
    org, member = eligible
    found = await options(turn.session, org, member, turn.now)
    if found.slot is not None:
        choices = [
            slot_choice(org, found.slot),
            Choice("crisis-other-times", f"bk:d:{PSYCHOLOGY}"),
        ]
        return [
            await crisis_flow.lines(turn, "crisis-talk-lines", kind),
            Reply("crisis-talk-offer", choices=[*choices, *back]),
        ]
    if found.hours_left:
        key, params = "crisis-talk-no-slot", {}
        waitlist = [Choice("waitlist-join", f"wl:j:{PSYCHOLOGY}")]
    else:
        key, params, waitlist = "crisis-talk-no-hours", {"resets": found.resets}, []
    return [
        await crisis_flow.lines(turn, key, kind, **params),
        *crisis_lines.programme_reply(turn.locale, on),
        _next([*waitlist, *back]),
    ]


def _next(choices: list[Choice]) -> Reply:
    return Reply("crisis-talk-next", choices=choices)


async def after_decline(session: AsyncSession, booking: Booking, now: datetime) -> bool:
    """Re-offer at once after a counselor declined a crisis-flagged booking: a slot or lines."""
    member = await session.get(Member, booking.member_id) if booking.member_id else None
    if member is None or not booking.crisis_flag:
        return False
    org = await orgs.by_id(session, booking.organisation_id)
    found = await options(
        session, org, member, now, domain=booking.domain.value, not_with=booking.counselor_id
    )
    shown = crisis_lines.lines_for("self", on=crisis_lines.taiwan_date(now))
    own = org.crisis_line
    if found.slot is not None:
        first = slot_choice(org, found.slot, booking.domain.value)
        reply = Reply("crisis-reoffer", start=first.params["start"], choices=[first])
        lines = crisis_lines.lines_reply(
            "crisis-reoffer-lines", shown, member.locale, org_line=own
        )
        replies = [reply, lines]
    else:
        key = "crisis-reoffer-none"
        replies = [crisis_lines.lines_reply(key, shown, member.locale, org_line=own)]
    replies[-1].choices.append(Choice("menu-back", "m"))
    return await notify.to_chat(session, member, replies, f"crisis-reoffer:{booking.id}", now)

"""Joining the waitlist, and offering freed slots to the first in line.

Payloads: wl:j:DOMAIN | wl:d:ID:WEEKDAY | wl:x:ID
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.menu import main_choices
from handlers.types import Choice, Key, Lines, Reply, Turn, to_payload
from storage import orgs, outbox, waitlist
from storage.models import Booking, Counselor, Domain, Member, Organisation, Slot
from storage.slots import booking_window


async def offer_freed_slot(session: AsyncSession, slot_id: int, now: datetime) -> bool:
    """Offer a slot that became free to the first fitting person on the waitlist."""
    slot = await session.get(Slot, slot_id)
    counselor = await session.get(Counselor, slot.counselor_id) if slot else None
    if slot is None or counselor is None or slot.blocked:
        return False
    org = await session.get(Organisation, counselor.organisation_id)
    taken = await session.scalar(select(Booking.id).where(Booking.active_slot_id == slot.id))
    window = booking_window(org, now)
    if taken or not window.earliest <= slot.starts_at <= window.latest:
        return False
    local = slot.starts_at.astimezone(orgs.tz(org))
    entry = await waitlist.next_in_line(
        session, slot=slot, counselor=counselor, weekday=local.weekday(), now=now
    )
    member = await session.get(Member, entry.member_id) if entry else None
    if entry is None or member is None:
        return False
    waitlist.offer(entry, slot, now)
    mode = counselor.modes.split(",")[0]
    reply = Reply(
        "waitlist-offer",
        start=local,
        domain=Key(f"domain-{entry.domain}"),
        minutes=int(waitlist.HOLD.total_seconds() // 60),
        choices=[Choice("waitlist-take", f"bk:s:{slot.id}:{entry.domain}:{mode}")],
    )
    return await outbox.enqueue(
        session,
        channel=member.channel.value,
        recipient=member.external_id,
        locale=member.locale,
        payload=to_payload([reply]),
        key=f"waitlist-offer:{entry.id}:{slot.id}",
        now=now,
    )


async def route(turn: Turn) -> list[Reply]:
    """Join or leave the waitlist for a domain."""
    assert turn.member is not None
    args = turn.args
    if args[:1] == ["j"] and len(args) > 1 and args[1] in set(Domain):
        entry = await waitlist.join(
            turn.session, member=turn.member, domain=args[1], weekdays="", now=turn.now
        )
        days = [Choice(f"weekday-{d}", f"wl:d:{entry.id}:{d}") for d in range(7)]
        return [
            Reply(
                "waitlist-joined",
                domain=Key(f"domain-{args[1]}"),
                choices=[
                    *days,
                    Choice("waitlist-leave", f"wl:x:{entry.id}"),
                    Choice("menu-back", "m"),
                ],
            )
        ]
    if args[:1] == ["d"] and len(args) > 2 and args[1].isdigit() and args[2] in set("0123456"):
        entry = await waitlist.add_weekday(
            turn.session, member=turn.member, entry_id=int(args[1]), weekday=int(args[2])
        )
        chosen = sorted(int(d) for d in entry.weekdays.split(",") if d)
        return [
            Reply(
                "waitlist-days",
                body=Lines((f"weekday-{d}", {}) for d in chosen),
                choices=[
                    Choice(f"weekday-{d}", f"wl:d:{entry.id}:{d}")
                    for d in range(7)
                    if d not in chosen
                ]
                + [Choice("menu-back", "m")],
            )
        ]
    if args[:1] == ["x"] and len(args) > 1 and args[1].isdigit():
        await waitlist.leave(turn.session, member=turn.member, entry_id=int(args[1]), now=turn.now)
        return [Reply("waitlist-left", choices=main_choices())]
    return [Reply("menu-main", choices=main_choices())]

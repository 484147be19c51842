"""Recurring sessions: the counselor offers a series, the employee confirms it once.

Payloads: co:ser:BOOKING | co:sero:BOOKING:WEEKS:COUNT (counselor) | ser:y:ID | ser:n:ID
"""

from __future__ import annotations

from handlers import notify
from handlers.menu import main_choices
from handlers.types import Choice, Key, Lines, Reply, Turn
from storage import counselors, orgs, series

OPTIONS = ((1, 4), (1, 8), (2, 4), (2, 6))


async def choose(turn: Turn, booking_id: int) -> list[Reply]:
    """Ask the counselor how often and how many times (only for one's own booking)."""
    assert turn.counselor is not None
    await counselors.owned_booking(turn.session, turn.counselor, booking_id)
    return [
        Reply(
            "series-choose",
            choices=[
                Choice(
                    "series-option",
                    f"co:sero:{booking_id}:{weeks}:{count}",
                    {"weeks": weeks, "count": count},
                )
                for weeks, count in OPTIONS
            ],
        )
    ]


async def offer(turn: Turn, booking_id: int, weeks: int, count: int) -> list[Reply]:
    """Record the offer and send it to the employee to confirm."""
    assert turn.counselor is not None
    offered, anchor = await series.offer(
        turn.session,
        turn.counselor,
        booking_id=booking_id,
        interval_weeks=weeks,
        occurrences=count,
        now=turn.now,
    )
    org = await orgs.by_id(turn.session, anchor.organisation_id)
    reply = Reply(
        "series-offer",
        start=anchor.starts_at.astimezone(orgs.tz(org)),
        weeks=weeks,
        count=count,
        domain=Key(f"domain-{anchor.domain}"),
        choices=[
            Choice("series-accept", f"ser:y:{offered.id}"),
            Choice("series-decline", f"ser:n:{offered.id}"),
        ],
    )
    await notify.to_member(
        turn.session, anchor.member_id, [reply], f"series:{offered.id}", turn.now
    )
    return [Reply("series-offered", count=count, weeks=weeks)]


async def route(turn: Turn) -> list[Reply]:
    """The employee accepts (booking what slot and hours allow) or declines a series."""
    assert turn.member is not None
    args = turn.args
    if len(args) < 2 or not args[1].isdigit() or args[0] not in ("y", "n"):
        return [Reply("menu-main", choices=main_choices())]
    if args[0] == "n":
        await series.open_offer(turn.session, member=turn.member, series_id=int(args[1]))
        return [Reply("series-declined", choices=main_choices())]
    results = await series.confirm(
        turn.session, member=turn.member, series_id=int(args[1]), now=turn.now
    )
    org = await orgs.by_id(turn.session, turn.member.organisation_id or 0)
    tz = orgs.tz(org)
    booked = [r for r in results if r.booking is not None]
    for occurrence in booked:
        assert occurrence.booking is not None
        await notify.new_booking(turn.session, turn.pseudonym_key, occurrence.booking, turn.now)
    replies = [Reply("series-result", booked=len(booked), total=len(results))]
    replies += [Reply("series-booked-line", start=r.starts_at.astimezone(tz)) for r in booked]
    replies += [
        Reply(
            "series-skipped-line",
            start=r.starts_at.astimezone(tz),
            reason=Lines([(r.reason or "book-slot-unavailable", r.params)]),
        )
        for r in results
        if r.booking is None
    ]
    replies[-1].choices = main_choices()
    return replies

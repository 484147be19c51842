"""The crisis reply: warm, fixed, with crisis lines first and the earliest counselor offered.

Payloads: call:NUMBER
"""

from __future__ import annotations

from handlers.types import Choice, Reply, Turn
from storage import crisis, orgs, slots
from storage.models import Domain, Mode

CRISIS_LINES = ("1925", "1995", "1980", "110", "119")


async def _earliest_psychology_slot(turn: Turn) -> list[Choice]:
    member = turn.member
    if member is None or member.organisation_id is None:
        return []
    org = await orgs.by_id(turn.session, member.organisation_id)
    found = []
    for mode in Mode:
        found += await slots.free_slots(
            turn.session,
            org=org,
            domain=Domain.PSYCHOLOGY.value,
            mode=mode.value,
            now=turn.now,
            max_minutes=24 * 60,
        )
    if not found:
        return []
    first = min(found, key=lambda s: s.starts_at)
    mode = next(m for m in Mode if first.counselor.offers(Domain.PSYCHOLOGY.value, m.value))
    return [
        Choice(
            "crisis-earliest-slot",
            f"bk:s:{first.id}:{Domain.PSYCHOLOGY.value}:{mode.value}",
            {"start": first.starts_at.astimezone(orgs.tz(org))},
        )
    ]


async def respond(turn: Turn) -> list[Reply]:
    """Record the event (no words) and answer with crisis lines, keeping the flow open."""
    await crisis.record(
        turn.session,
        channel=turn.inbound.channel,
        locale=turn.locale,
        member=turn.member,
        now=turn.now,
    )
    calls = [Choice(f"crisis-call-{number}", f"call:{number}") for number in CRISIS_LINES]
    offer = await _earliest_psychology_slot(turn)
    return [Reply("crisis-help"), Reply("crisis-lines", choices=calls + offer)]


async def show_number(turn: Turn) -> list[Reply]:
    """Show one crisis line's number to tap or dial."""
    number = turn.args[0] if turn.args and turn.args[0] in CRISIS_LINES else "1925"
    return [Reply("crisis-call", number=number)]

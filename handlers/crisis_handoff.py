"""Telling the organisation's on-call counselor, with the employee's consent, and following up.

The counselor gets the client alias, the time and a callback number if the employee types one,
never anything the employee wrote. Unacknowledged after ten minutes, the employee is told and
shown the lines again (`follow_up_unanswered`, a scheduled job). The counselor's button is
co:ack:ID (handlers/counselor.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers import crisis_flow, crisis_lines, notify
from handlers.types import Choice, Reply, Turn
from storage import crisis_alerts, orgs
from storage.counselors import client_alias
from storage.crisis import ACK_WITHIN
from storage.db import unit_of_work
from storage.models import Counselor, CrisisAlert, Member

MINUTES = int(ACK_WITHIN.total_seconds() // 60)


async def _on_call(turn: Turn) -> Counselor | None:
    """The on-call counselor of a linked employee's organisation, when one is set up."""
    member = turn.member
    if member is None or member.roster_entry_id is None or member.organisation_id is None:
        return None
    org = await orgs.by_id(turn.session, member.organisation_id)
    return await crisis_alerts.on_call(turn.session, org)


async def offer(turn: Turn, kind: str) -> list[Reply]:
    """Ask for consent to tell the on-call counselor (nothing when none is set up)."""
    if await _on_call(turn) is None:
        return []
    assert turn.member is not None
    later = crisis_flow.answers(turn, kind, danger=False)
    if await crisis_alerts.open_alert(turn.session, member=turn.member, now=turn.now):
        return [Reply("crisis-alert-waiting", choices=later)]
    code = crisis_flow.CODES[kind]
    consent = Choice("crisis-alert-yes", f"cr:a:{code}")
    return [Reply("crisis-alert-offer", choices=[consent, *later])]


async def _alert_message(
    turn: Turn, alert: CrisisAlert, message_key: str, **params: object
) -> Reply:
    """What the counselor sees: the alias, the time, the button; never the employee's words."""
    assert turn.member is not None
    org = await orgs.by_id(turn.session, alert.organisation_id)
    return Reply(
        message_key,
        client=client_alias(turn.pseudonym_key, alert.counselor_id, turn.member.pseudonym),
        at=alert.raised_at.astimezone(orgs.tz(org)),
        choices=[Choice("crisis-alert-ack", f"co:ack:{alert.id}")],
        **params,
    )


async def consent(turn: Turn, kind: str) -> list[Reply]:
    """Raise the alert (once) through the outbox and ask, optionally, for a callback number."""
    counselor = await _on_call(turn)
    crisis_flow.enter(turn, kind, crisis_flow.DANGER)
    if counselor is None or turn.member is None:
        return [
            await crisis_flow.lines(turn, "crisis-alert-unavailable", kind, danger=True),
            Reply("crisis-ask", choices=crisis_flow.answers(turn, kind)),
        ]
    alert, new = await crisis_alerts.raise_alert(
        turn.session, member=turn.member, counselor=counselor, kind=kind, now=turn.now
    )
    if new:
        message = await _alert_message(turn, alert, "crisis-alert")
        await notify.to_chat(
            turn.session, counselor, [message], f"crisis-alert:{alert.id}", turn.now
        )
    crisis_flow.enter(turn, kind, crisis_flow.NUMBER)
    turn.state.data["alert"] = alert.id
    return [
        await crisis_flow.lines(turn, "crisis-alert-sent", kind, danger=True, minutes=MINUTES),
        Reply("crisis-ask-number", choices=crisis_flow.answers(turn, kind, danger=False)),
    ]


async def callback(turn: Turn, number: str) -> list[Reply]:
    """Pass the callback number the employee typed to the on-call counselor, once per alert."""
    kind = crisis_flow.kind_of(turn)
    alert = await turn.session.get(CrisisAlert, int(turn.state.data.get("alert") or 0))
    counselor = await turn.session.get(Counselor, alert.counselor_id) if alert else None
    crisis_flow.enter(turn, kind, crisis_flow.DANGER)
    if alert is None or counselor is None or turn.member is None:
        return [Reply("crisis-ask", choices=crisis_flow.answers(turn, kind))]
    message = await _alert_message(turn, alert, "crisis-alert-callback", phone=number)
    await notify.to_chat(turn.session, counselor, [message], f"crisis-call:{alert.id}", turn.now)
    later = crisis_flow.answers(turn, kind, danger=False)
    return [Reply("crisis-number-sent", phone=number, choices=later)]


async def acknowledge(turn: Turn, alert_id: int) -> list[Reply]:
    """The on-call counselor saw the alert: the employee is told once."""
    assert turn.counselor is not None
    alert, first = await crisis_alerts.acknowledge(
        turn.session, counselor=turn.counselor, alert_id=alert_id, now=turn.now
    )
    if first:
        told = [Reply("crisis-alert-acknowledged")]
        await notify.to_member(
            turn.session, alert.member_id, told, f"crisis-ack:{alert.id}", turn.now
        )
    key = "crisis-alert-ack-done" if first else "crisis-alert-ack-again"
    return [Reply(key, choices=[Choice("menu-back", "m")])]


async def _tell_unanswered(session: AsyncSession, alert: CrisisAlert, now: datetime) -> bool:
    member = await session.get(Member, alert.member_id) if alert.member_id else None
    if member is None:
        return False
    org = await orgs.by_id(session, alert.organisation_id)
    on = crisis_lines.taiwan_date(now)
    shown = crisis_lines.lines_for(alert.kind, on=on, danger=True)
    lines = crisis_lines.lines_reply(
        "crisis-alert-unanswered", shown, member.locale, org_line=org.crisis_line, minutes=MINUTES
    )
    replies = [lines, Reply("crisis-ask", choices=crisis_flow.buttons(alert.kind))]
    return await notify.to_chat(session, member, replies, f"crisis-unanswered:{alert.id}", now)


async def follow_up_unanswered(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Tell employees whose alert nobody acknowledged in ten minutes; once per alert."""
    told = 0
    async with unit_of_work(sessions) as session:
        for alert in await crisis_alerts.unanswered(session, now=now):
            alert.followed_up_at = now
            told += await _tell_unanswered(session, alert, now)
    return told

"""On-call hand-offs: an employee in danger agrees that the on-call counselor be told."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crisis import ACK_WITHIN
from storage.errors import NotFound
from storage.models import Counselor, CrisisAlert, Member, Organisation


async def on_call(session: AsyncSession, org: Organisation) -> Counselor | None:
    """The organisation's on-call counselor, if one is set, active and linked to a chat."""
    if org.on_call_counselor_id is None:
        return None
    counselor = await session.get(Counselor, org.on_call_counselor_id)
    if counselor is None or not counselor.active or counselor.external_id is None:
        return None
    return counselor


async def set_on_call(
    session: AsyncSession, org: Organisation, counselor_id: int | None
) -> Counselor | None:
    """Make one of the organisation's counselors the on-call one (None turns it off)."""
    if counselor_id is None:
        org.on_call_counselor_id = None
        return None
    counselor = await session.get(Counselor, counselor_id)
    if counselor is None or counselor.organisation_id != org.id:
        raise NotFound()
    org.on_call_counselor_id = counselor.id
    await session.flush()
    return counselor


async def open_alert(
    session: AsyncSession, *, member: Member, now: datetime
) -> CrisisAlert | None:
    """The member's alert still waiting for an answer, if any (pressing twice raises one)."""
    return await session.scalar(
        select(CrisisAlert)
        .where(
            CrisisAlert.member_id == member.id,
            CrisisAlert.acknowledged_at.is_(None),
            CrisisAlert.followed_up_at.is_(None),
            CrisisAlert.raised_at > now - ACK_WITHIN,
        )
        .order_by(CrisisAlert.id.desc())
        .limit(1)
    )


async def raise_alert(
    session: AsyncSession, *, member: Member, counselor: Counselor, kind: str, now: datetime
) -> tuple[CrisisAlert, bool]:
    """Open an alert for the member (or return the open one); whether it is new."""
    existing = await open_alert(session, member=member, now=now)
    if existing is not None:
        return existing, False
    alert = CrisisAlert(
        organisation_id=counselor.organisation_id,
        member_id=member.id,
        counselor_id=counselor.id,
        kind=kind[:20],
        raised_at=now,
    )
    session.add(alert)
    await session.flush()
    return alert, True


async def acknowledge(
    session: AsyncSession, *, counselor: Counselor, alert_id: int, now: datetime
) -> tuple[CrisisAlert, bool]:
    """The counselor saw the alert; whether this was the first acknowledgement."""
    alert = await session.get(CrisisAlert, alert_id, with_for_update=True)
    if alert is None or alert.counselor_id != counselor.id:
        raise NotFound()
    if alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at = now
    await session.flush()
    return alert, True


async def unanswered(
    session: AsyncSession, *, now: datetime, wait: timedelta = ACK_WITHIN
) -> list[CrisisAlert]:
    """Alerts nobody acknowledged within `wait` whose employee has not been told yet."""
    rows = await session.scalars(
        select(CrisisAlert)
        .where(
            CrisisAlert.acknowledged_at.is_(None),
            CrisisAlert.followed_up_at.is_(None),
            CrisisAlert.raised_at <= now - wait,
        )
        .order_by(CrisisAlert.id)
        .with_for_update(skip_locked=True)
    )
    return list(rows)

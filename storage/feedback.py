"""Feedback after a held session: prompt once, remind once after 48 h, expire after 14 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignore
from storage.errors import FeedbackClosed, NotFound
from storage.models import Booking, BookingStatus, Feedback, Member

EXPIRES_AFTER = timedelta(days=14)
REMIND_AFTER = timedelta(hours=48)
RESOLVED = ("yes", "partly", "no")
MAX_COMMENT = 1000


async def open_prompts(
    session: AsyncSession, *, now: datetime, limit: int = 500
) -> list[Feedback]:
    """Create a prompt for each held session without one; return the new prompts."""
    held = await session.scalars(
        select(Booking)
        .outerjoin(Feedback, Feedback.booking_id == Booking.id)
        .where(
            Booking.status == BookingStatus.HELD,
            Booking.member_id.is_not(None),
            Feedback.id.is_(None),
            Booking.ends_at > now - EXPIRES_AFTER,
        )
        .limit(limit)
    )
    created = []
    for booking in held:
        values = {
            "organisation_id": booking.organisation_id,
            "booking_id": booking.id,
            "member_id": booking.member_id,
            "domain": booking.domain.value,
            "prompted_at": now,
            "expires_at": now + EXPIRES_AFTER,
        }
        result = await session.execute(insert_ignore(session, Feedback, values))
        if result.rowcount:
            created.append(
                await session.scalar(select(Feedback).where(Feedback.booking_id == booking.id))
            )
    return [f for f in created if f is not None]


async def due_reminders(session: AsyncSession, *, now: datetime) -> list[Feedback]:
    """Unanswered prompts older than 48 h not yet reminded; marks them reminded."""
    rows = list(
        await session.scalars(
            select(Feedback)
            .where(
                Feedback.answered_at.is_(None),
                Feedback.reminded_at.is_(None),
                Feedback.prompted_at <= now - REMIND_AFTER,
                Feedback.expires_at > now,
                Feedback.member_id.is_not(None),
            )
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.reminded_at = now
    return rows


async def pending(session: AsyncSession, *, member: Member, now: datetime) -> list[Feedback]:
    """The member's unanswered, unexpired prompts, oldest first."""
    rows = await session.scalars(
        select(Feedback)
        .where(
            Feedback.member_id == member.id,
            Feedback.answered_at.is_(None),
            Feedback.expires_at > now,
        )
        .order_by(Feedback.prompted_at)
    )
    return list(rows)


async def _open(
    session: AsyncSession, member: Member, feedback_id: int, now: datetime
) -> Feedback:
    row = await session.get(Feedback, feedback_id, with_for_update=True)
    if row is None or row.member_id != member.id:
        raise NotFound()
    if row.expires_at <= now:
        raise FeedbackClosed()
    return row


async def answer(
    session: AsyncSession,
    *,
    member: Member,
    feedback_id: int,
    question: str,
    value: str,
    now: datetime,
) -> Feedback:
    """Record one answer: satisfaction 1-5, resolved yes/partly/no, again yes/no, comment."""
    row = await _open(session, member, feedback_id, now)
    if row.answered_at is not None and question != "comment":
        raise FeedbackClosed()
    if question == "satisfaction" and value in {"1", "2", "3", "4", "5"}:
        row.satisfaction = int(value)
    elif question == "resolved" and value in RESOLVED:
        row.resolved = value
    elif question == "again" and value in ("yes", "no"):
        row.would_use_again = value == "yes"
        row.answered_at = now
    elif question == "comment" and row.comment is None:
        row.comment = value.strip()[:MAX_COMMENT] or None
    else:
        raise FeedbackClosed()
    await session.flush()
    return row

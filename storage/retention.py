"""Retention: drop operational rows once they have served their purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversation, crisis, linking, media
from storage.models import OutboxMessage, OutboxStatus, ProcessedEvent


@dataclass(frozen=True)
class Retention:
    """How long each kind of operational row is kept, in days."""

    processed_events: int = 30
    sent_messages: int = 30
    conversation_states: int = 30


DEFAULT = Retention()


async def purge(session: AsyncSession, *, now: datetime, keep: Retention = Retention()) -> int:
    """Delete processed events, sent messages, idle states, media, stale link attempts and
    check-in times."""
    removed = await media.purge(session, now) + await linking.purge(session, now)
    removed += await crisis.purge_check_ins(session, now)
    events = await session.execute(
        delete(ProcessedEvent).where(
            or_(
                ProcessedEvent.processed_at < now - timedelta(days=keep.processed_events),
                ProcessedEvent.parked_at < now - timedelta(days=keep.processed_events),
            )
        )
    )
    messages = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.DEAD)),
            OutboxMessage.created_at < now - timedelta(days=keep.sent_messages),
        )
    )
    removed += int(events.rowcount or 0) + int(messages.rowcount or 0)
    cutoff = now - timedelta(days=keep.conversation_states)
    return removed + await conversation.purge_older_than(session, cutoff)

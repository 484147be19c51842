"""Platform events: stored before acknowledging, deduplicated by the platform's event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignore, insert_ignore_many
from storage.models import ProcessedEvent


async def record(
    session: AsyncSession,
    *,
    channel: str,
    event_id: str,
    payload: dict[str, Any] | None,
    now: datetime,
) -> bool:
    """Store an event for processing; False when it was seen before (a duplicate delivery)."""
    values = {
        "channel": channel,
        "event_id": event_id,
        "payload": payload,
        "received_at": now,
    }
    result = await session.execute(insert_ignore(session, ProcessedEvent, values))
    return bool(result.rowcount)


async def record_many(
    session: AsyncSession,
    *,
    events: list[tuple[str, str, dict[str, Any] | None]],
    now: datetime,
) -> set[tuple[str, str]]:
    """Store (channel, event_id, payload) rows in one statement; return the new ones."""
    if not events:
        return set()
    rows = [
        {"channel": channel, "event_id": event_id, "payload": payload, "received_at": now}
        for channel, event_id, payload in events
    ]
    statement = insert_ignore_many(session, ProcessedEvent, rows).returning(
        ProcessedEvent.channel, ProcessedEvent.event_id
    )
    result = await session.execute(statement)
    return {(_value(channel), event_id) for channel, event_id in result}


def _value(channel: Any) -> str:
    """A channel as its string value (enums come back from RETURNING as members)."""
    return str(getattr(channel, "value", channel))


async def finish(session: AsyncSession, *, channel: str, event_id: str, now: datetime) -> None:
    """Mark an event processed and drop its body."""
    await session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id)
        .values(processed_at=now, payload=None)
    )


async def pending(
    session: AsyncSession, *, channel: str, limit: int = 500
) -> list[ProcessedEvent]:
    """Events stored but not yet processed (e.g. cut off by a crash), oldest first."""
    rows = await session.scalars(
        select(ProcessedEvent)
        .where(ProcessedEvent.channel == channel, ProcessedEvent.processed_at.is_(None))
        .order_by(ProcessedEvent.id)
        .limit(limit)
    )
    return list(rows)


async def claim_and_finish(
    session: AsyncSession, *, channel: str, event_id: str, now: datetime
) -> bool:
    """Mark a stored event processed (dropping its body) in the caller's transaction.

    One statement: True when this transaction took it (the row stays locked until commit,
    and a rollback undoes it); False when it was processed already or is unknown.
    """
    result = await session.execute(
        update(ProcessedEvent)
        .where(
            ProcessedEvent.channel == channel,
            ProcessedEvent.event_id == event_id,
            ProcessedEvent.processed_at.is_(None),
        )
        .values(processed_at=now, payload=None)
    )
    return bool(result.rowcount)


async def claim(session: AsyncSession, *, channel: str, event_id: str) -> bool:
    """Lock a stored, unprocessed event for processing; False if done or unknown."""
    row = await session.scalar(
        select(ProcessedEvent.id)
        .where(
            ProcessedEvent.channel == channel,
            ProcessedEvent.event_id == event_id,
            ProcessedEvent.processed_at.is_(None),
        )
        .with_for_update()
    )
    return row is not None


def select_event(*, channel: str, event_id: str) -> Select[tuple[ProcessedEvent]]:
    """The query for one stored event."""
    return select(ProcessedEvent).where(
        ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
    )

"""Platform events: stored before acknowledging, deduplicated by the platform's event id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent

_EVENTS = ProcessedEvent.__table__
MAX_FAILURES = 5  # failed catch-up tries (the database answering) before an event is parked
# Built once: every update runs it, and building and keying a statement per call costs more
# than running it on SQLite. A Core statement on the table also skips the ORM's bulk machinery.
_CLAIM_AND_FINISH = (
    update(_EVENTS)
    .where(
        _EVENTS.c.channel == bindparam("b_channel"),
        _EVENTS.c.event_id == bindparam("b_event_id"),
        _EVENTS.c.processed_at.is_(None),
    )
    .values(processed_at=bindparam("b_now", type_=_EVENTS.c.processed_at.type), payload=None)
)
# One per dialect; run with a list of rows, SQLAlchemy sends them as one multi-row INSERT.
_RECORD = {
    name: dialect.insert(_EVENTS)
    .on_conflict_do_nothing()
    .returning(_EVENTS.c.channel, _EVENTS.c.event_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def record(
    session: AsyncSession,
    *,
    channel: str,
    event_id: str,
    payload: dict[str, Any] | None,
    now: datetime,
) -> bool:
    """Store an event for processing; False when it was seen before (a duplicate delivery)."""
    return bool(await record_many(session, events=[(channel, event_id, payload)], now=now))


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
    statement = _RECORD[session.get_bind().dialect.name]
    result = await session.execute(statement, rows)
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
    """Events stored but not yet processed (e.g. cut off by a crash), oldest first; not parked."""
    rows = await session.scalars(
        select(ProcessedEvent)
        .where(
            ProcessedEvent.channel == channel,
            ProcessedEvent.processed_at.is_(None),
            ProcessedEvent.parked_at.is_(None),
        )
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
        _CLAIM_AND_FINISH, {"b_channel": channel, "b_event_id": event_id, "b_now": now}
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


async def note_failure(
    session: AsyncSession, *, channel: str, event_id: str, now: datetime
) -> bool:
    """Count a failed try of a stored event; True when this try parks it (MAX_FAILURES)."""
    row = await session.scalar(select_event(channel=channel, event_id=event_id).with_for_update())
    if row is None or row.processed_at is not None or row.parked_at is not None:
        return False
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.parked_at = now
        return True
    return False


async def parked(session: AsyncSession) -> list[ProcessedEvent]:
    """Parked events, oldest first."""
    return list(
        await session.scalars(
            select(ProcessedEvent)
            .where(ProcessedEvent.parked_at.is_not(None), ProcessedEvent.processed_at.is_(None))
            .order_by(ProcessedEvent.id)
        )
    )


async def unpark(session: AsyncSession) -> int:
    """Put every parked event back in line with a clean count; how many."""
    result = await session.execute(
        update(ProcessedEvent)
        .where(ProcessedEvent.parked_at.is_not(None), ProcessedEvent.processed_at.is_(None))
        .values(parked_at=None, failures=0)
    )
    return int(result.rowcount or 0)

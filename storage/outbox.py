"""The outbox: messages handed over inside a transaction, delivered later, once per key."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignore
from storage.models import OutboxMessage, OutboxStatus

MAX_ATTEMPTS = 12


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    recipient: str,
    locale: str,
    payload: dict[str, Any],
    key: str,
    now: datetime,
) -> bool:
    """Add a message unless one with the same idempotency key exists; True when added."""
    values = {
        "channel": channel,
        "recipient": recipient,
        "locale": locale,
        "payload": payload,
        "idempotency_key": key,
        "retry_key": str(uuid.uuid4()),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    result = await session.execute(insert_ignore(session, OutboxMessage, values))
    return bool(result.rowcount)


async def due(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Pending messages whose time has come, oldest first, locked against other workers."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


def mark_sent(message: OutboxMessage, now: datetime) -> None:
    """Record a delivery."""
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.attempts += 1
    message.last_error = None


def mark_failed(
    message: OutboxMessage, *, now: datetime, error: str, retry_after: float | None = None
) -> None:
    """Record a failed attempt and schedule the next with exponential backoff."""
    message.attempts += 1
    message.last_error = error[:200]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.DEAD
        return
    backoff = retry_after if retry_after is not None else min(3600.0, 2.0**message.attempts)
    message.next_attempt_at = now + timedelta(seconds=backoff)


async def drop_for_recipient(session: AsyncSession, *, channel: str, recipient: str) -> None:
    """Delete pending messages to a chat (used by forget me)."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    )

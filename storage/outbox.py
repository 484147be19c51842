"""The outbox: messages handed over inside a transaction, delivered later, once per key."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import insert_ignore
from storage.models import OutboxMessage, OutboxStatus

MAX_ATTEMPTS = 12

_OUTBOX = OutboxMessage.__table__
# The statements each update runs, built once (see storage.events): Core on the table, keyed
# and compiled once, no ORM unit of work.
_HAS_PENDING = (
    select(_OUTBOX.c.id)
    .where(
        _OUTBOX.c.channel == bindparam("b_channel"),
        _OUTBOX.c.recipient == bindparam("b_recipient"),
        _OUTBOX.c.status == OutboxStatus.PENDING,
    )
    .limit(1)
)
_ADD_REPLY = insert(_OUTBOX).returning(_OUTBOX.c.id)
FORGET_PREFIX = "forget:"
_RECORD_SENT = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("b_ids", expanding=True)),
        _OUTBOX.c.status == OutboxStatus.PENDING,
    )
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("b_now", type_=_OUTBOX.c.sent_at.type),
        payload={"sent": True},
        # The last answer to someone who was just forgotten keeps its chat id only until sent.
        recipient=case(
            (_OUTBOX.c.idempotency_key.startswith(FORGET_PREFIX), ""),
            else_=_OUTBOX.c.recipient,
        ),
        attempts=_OUTBOX.c.attempts + 1,
        last_error=None,
    )
)


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
    return (
        await enqueue_id(
            session,
            channel=channel,
            recipient=recipient,
            locale=locale,
            payload=payload,
            key=key,
            now=now,
        )
        is not None
    )


async def enqueue_id(
    session: AsyncSession,
    *,
    channel: str,
    recipient: str,
    locale: str,
    payload: dict[str, Any],
    key: str,
    now: datetime,
) -> int | None:
    """Add a message and return its id, or None when the idempotency key exists already."""
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
    result = await session.execute(
        insert_ignore(session, OutboxMessage, values).returning(OutboxMessage.id)
    )
    return result.scalar_one_or_none()


async def due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int = 100,
    ids: Sequence[int] | None = None,
    channels: Sequence[str] | None = None,
    recipient: str | None = None,
) -> list[OutboxMessage]:
    """Pending messages whose time has come, in creation order, locked against other workers.

    A message waits while an older one to the same recipient is still pending, so each chat
    receives its messages in order even across retries.
    """
    older = aliased(OutboxMessage)
    # Older messages that are due come earlier in this same batch; only those still backing
    # off (or, when picking by id, any older one) hold a message back.
    blocking = older.next_attempt_at > now if ids is None else older.id.is_not(None)
    waiting_behind = (
        select(older.id)
        .where(
            older.channel == OutboxMessage.channel,
            older.recipient == OutboxMessage.recipient,
            older.status == OutboxStatus.PENDING,
            older.id < OutboxMessage.id,
            blocking,
        )
        .exists()
    )
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            ~waiting_behind,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    if channels is not None:
        query = query.where(OutboxMessage.channel.in_(list(channels)))
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(await session.scalars(query))


async def oldest_pending(session: AsyncSession, chats: Collection[tuple[str, str]]) -> set[int]:
    """The id of the oldest pending message to each (channel, recipient)."""
    if not chats:
        return set()
    rows = await session.scalars(
        select(func.min(OutboxMessage.id))
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            tuple_(OutboxMessage.channel, OutboxMessage.recipient).in_(list(chats)),
        )
        .group_by(OutboxMessage.channel, OutboxMessage.recipient)
    )
    return set(rows)


LEASE = timedelta(seconds=30)


def lease(message: OutboxMessage, now: datetime) -> None:
    """Claim a message for one send attempt; others skip it until the lease ends."""
    message.next_attempt_at = now + LEASE


async def has_pending(session: AsyncSession, *, channel: str, recipient: str) -> bool:
    """Whether any message to this chat is still waiting."""
    found = await session.scalar(_HAS_PENDING, {"b_channel": channel, "b_recipient": recipient})
    return found is not None


@dataclass(frozen=True)
class Added:
    """A reply just stored: its id, and the retry key its sends carry."""

    id: int
    retry_key: str


async def add_reply(
    session: AsyncSession,
    *,
    channel: str,
    recipient: str,
    locale: str,
    payload: dict[str, Any],
    key: str,
    now: datetime,
    leased: bool,
) -> Added:
    """Store a turn's answer (one per event, so its key cannot clash); leased when sent now."""
    retry_key = str(uuid.uuid4())
    message_id = await session.scalar(
        _ADD_REPLY,
        {
            "channel": channel,
            "recipient": recipient,
            "locale": locale,
            "payload": payload,
            "idempotency_key": key,
            "retry_key": retry_key,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now + LEASE if leased else now,
            "created_at": now,
        },
    )
    assert message_id is not None
    return Added(message_id, retry_key)


async def has_older_pending(
    session: AsyncSession, *, channel: str, recipient: str, before_id: int
) -> bool:
    """Whether an earlier message to this chat is still waiting (order must be kept)."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.id < before_id,
        )
        .limit(1)
    )
    return found is not None


async def record_sent(session: AsyncSession, message_id: int, *, now: datetime) -> None:
    """Mark a message delivered and drop its content (one statement)."""
    await record_sent_many(session, [message_id], now=now)


async def record_sent_many(
    session: AsyncSession, message_ids: list[int], *, now: datetime
) -> None:
    """Mark messages delivered and drop their content, in one statement (ids in order)."""
    if message_ids:
        await session.execute(_RECORD_SENT, {"b_ids": sorted(message_ids), "b_now": now})


async def record_failure(
    session: AsyncSession,
    message_id: int,
    *,
    now: datetime,
    error: str,
    retry_after: float | None,
    permanent: bool,
) -> None:
    """Record a failed attempt: back off, or give up when retrying cannot help."""
    message = await session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status != OutboxStatus.PENDING:
        return
    mark_failed(message, now=now, error=error, retry_after=retry_after)
    if permanent:
        message.status = OutboxStatus.DEAD


def mark_sent(message: OutboxMessage, now: datetime) -> None:
    """Record a delivery and drop the content: a sent message is not kept."""
    message.payload = {"sent": True}
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
    # A platform that says when to retry (429 Retry-After) is waited for, never given up on.
    if message.attempts >= MAX_ATTEMPTS and retry_after is None:
        message.status = OutboxStatus.DEAD
        return
    backoff = retry_after if retry_after is not None else min(3600.0, 2.0**message.attempts)
    message.next_attempt_at = now + timedelta(seconds=backoff)


async def depth(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages are pending, and when the oldest was created."""
    row = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        )
    ).one()
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(row[0]), oldest


async def scrub_keys(session: AsyncSession, keys: Sequence[str], *, drop_key: str) -> None:
    """Remove replies with one message key from pending messages (e.g. a forgotten note)."""
    rows = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.idempotency_key.in_(list(keys)),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    )
    for message in rows:
        replies = [r for r in message.payload.get("replies", []) if r.get("key") != drop_key]
        message.payload = {**message.payload, "replies": replies}


async def drop_for_recipient(session: AsyncSession, *, channel: str, recipient: str) -> None:
    """Forget a chat: delete its pending messages and strip the chat id and the keys (which
    name bookings and platform updates) from the rows kept for retention."""
    to_chat = (OutboxMessage.channel == channel, OutboxMessage.recipient == recipient)
    await session.execute(
        delete(OutboxMessage).where(*to_chat, OutboxMessage.status == OutboxStatus.PENDING)
    )
    await session.execute(
        update(OutboxMessage)
        .where(*to_chat)
        .values(
            recipient="",
            idempotency_key=literal("forgotten:") + cast(OutboxMessage.id, String),
            payload={"sent": True},
        )
    )


def forget_key() -> str:
    """The idempotency key of the answer to a "forget me": no update id, chat id scrubbed on
    sending."""
    return f"{FORGET_PREFIX}{uuid.uuid4().hex}"

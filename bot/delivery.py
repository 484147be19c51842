"""Delivering the outbox: due messages go to their channel's sender, failures back off."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import AlreadyDelivered, Delivery, Sender, SendError
from handlers.types import from_payload
from storage import outbox
from storage.db import unit_of_work
from storage.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)


def _delivery(message: OutboxMessage) -> Delivery:
    payload = message.payload
    return Delivery(
        recipient=message.recipient,
        locale=message.locale,
        replies=from_payload(payload),
        retry_key=message.retry_key,
        attempts=message.attempts,
        context=dict(payload.get("context") or {}),
    )


async def _send_one(sender: Sender, message: OutboxMessage, now: datetime) -> bool:
    try:
        await sender.send(_delivery(message))
    except AlreadyDelivered:
        outbox.mark_sent(message, now)
        metrics.MESSAGES_SENT.labels(sender.channel).inc()
        return True
    except SendError as err:
        metrics.SEND_FAILURES.labels(sender.channel, metrics.reason_of(err.reason)).inc()
        outbox.mark_failed(message, now=now, error=err.reason, retry_after=err.retry_after)
        if err.permanent:
            message.status = OutboxStatus.DEAD
        log.warning("send failed", extra={"outbox_id": message.id, "reason": err.reason})
        return False
    outbox.mark_sent(message, now)
    metrics.MESSAGES_SENT.labels(sender.channel).inc()
    return True


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    senders: dict[str, Sender],
    *,
    now: datetime,
    ids: Sequence[int] | None = None,
    recipient: str | None = None,
    limit: int = 100,
) -> int:
    """Send due messages (or just `ids`), keeping each recipient's order; returns how many."""
    sent = 0
    async with unit_of_work(sessions) as session:
        due = await outbox.due(
            session, now=now, limit=limit, ids=ids, channels=list(senders), recipient=recipient
        )
        blocked: set[tuple[str, str]] = set()
        for message in due:
            who = (message.channel.value, message.recipient)
            if who in blocked:
                continue
            if await _send_one(senders[message.channel.value], message, now):
                sent += 1
            else:
                blocked.add(who)
    return sent


class OutboxWorker:
    """Delivers the outbox in the background; `wake()` sends new messages at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: dict[str, Sender],
        *,
        interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Deliver every `interval` seconds, or sooner when woken."""
        self.sessions = sessions
        self.senders = senders
        self.interval = interval
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Ask for a delivery round now."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                while await deliver(self.sessions, self.senders, now=self.clock()):
                    pass
            except Exception:  # keep delivering after a database or platform hiccup
                log.exception("outbox delivery round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        """Start the background loop."""
        if self.senders and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="outbox-worker")

    async def stop(self) -> None:
        """Stop the loop; undelivered messages stay in the outbox."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

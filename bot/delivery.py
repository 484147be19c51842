"""Delivering the outbox: claim due messages under a lease, send outside any transaction.

A message is claimed by pushing its next attempt a lease into the future, in a short
transaction; the send happens after commit, and a second short transaction records the
outcome. A process that dies mid-send leaves the message to be retried when the lease ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import AlreadyDelivered, Delivery, Sender, SendError
from bot.clock import utcnow
from handlers.types import from_payload
from storage import outbox
from storage.db import unit_of_work
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """An outbox message claimed for sending."""

    id: int
    channel: str
    delivery: Delivery


def to_delivery(message: OutboxMessage) -> Delivery:
    """What a sender needs of an outbox row (read before the row is leased again)."""
    payload = message.payload
    return Delivery(
        recipient=message.recipient,
        locale=message.locale,
        replies=from_payload(payload),
        retry_key=message.retry_key,
        attempts=message.attempts,
        context=dict(payload.get("context") or {}),
        # Leased (or sent at once) before, yet no outcome recorded: a send may have happened.
        maybe_sent=message.attempts == 0 and message.next_attempt_at > message.created_at,
    )


async def send_claimed(
    sessions: async_sessionmaker[AsyncSession],
    sender: Sender,
    claimed: Claimed,
    now: datetime,
    *,
    unrecorded: set[int] | None = None,
) -> bool:
    """Send one claimed message and record the outcome; True when delivered.

    `unrecorded` keeps the ids of messages sent whose recording failed (the database went
    away after the send): when one comes round again it is recorded, not sent a second time.
    """
    if unrecorded is None or claimed.id not in unrecorded:
        try:
            await sender.send(claimed.delivery)
        except AlreadyDelivered:
            pass
        except SendError as err:
            metrics.SEND_FAILURES.labels(sender.channel, metrics.reason_of(err.reason)).inc()
            log.warning("send failed", extra={"outbox_id": claimed.id, "reason": err.reason})
            async with unit_of_work(sessions) as session:
                await outbox.record_failure(
                    session,
                    claimed.id,
                    now=now,
                    error=err.reason,
                    retry_after=err.retry_after,
                    permanent=err.permanent,
                )
            return False
        if unrecorded is not None:
            unrecorded.add(claimed.id)
    async with unit_of_work(sessions) as session:
        await outbox.record_sent(session, claimed.id, now=now)
    if unrecorded is not None:
        unrecorded.discard(claimed.id)
    metrics.MESSAGES_SENT.labels(sender.channel).inc()
    return True


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    channels: Sequence[str],
    *,
    now: datetime,
    recipient: str | None = None,
    limit: int = 100,
) -> list[Claimed]:
    """Claim due messages (oldest first, one per recipient) under a lease."""
    async with unit_of_work(sessions) as session:
        due = await outbox.due(
            session, now=now, limit=limit, channels=list(channels), recipient=recipient
        )
        picked: dict[tuple[str, str], OutboxMessage] = {}
        for message in due:
            picked.setdefault((message.channel.value, message.recipient), message)
        # An older message another worker has just claimed (locked, its lease not committed
        # yet) is skipped by `due`: wait for it, or the two could arrive swapped.
        oldest = await outbox.oldest_pending(session, list(picked))
        ready = [m for m in picked.values() if m.id in oldest]
        claimed = [Claimed(m.id, m.channel.value, to_delivery(m)) for m in ready]
        for message in ready:
            outbox.lease(message, now)
        return claimed


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    senders: dict[str, Sender],
    *,
    now: datetime,
    recipient: str | None = None,
    limit: int = 100,
    unrecorded: set[int] | None = None,
) -> int:
    """One delivery round: claim, send concurrently across recipients; returns how many."""
    claimed = await claim(sessions, list(senders), now=now, recipient=recipient, limit=limit)
    results = await asyncio.gather(
        *(
            send_claimed(sessions, senders[c.channel], c, now, unrecorded=unrecorded)
            for c in claimed
        )
    )
    return sum(results)


IN_FLIGHT = 100  # messages a worker sends at once at most
STOP_WAIT = 5.0  # seconds a stopping worker lets sends under way finish


class OutboxWorker:
    """Delivers the outbox in the background; `wake()` starts a round at once.

    Each claimed message is sent in its own task, and more are claimed as sends finish, so
    one slow platform call (a timeout) holds up only its own chat, not a whole round.
    """

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
        self._sending: set[asyncio.Task[None]] = set()
        self.unrecorded: set[int] = set()  # sent, but the database failed to record it

    def wake(self) -> None:
        """Ask for a delivery round now."""
        self._wake.set()

    async def _record_unrecorded(self) -> None:
        """Record the messages sent while the database was away, so none goes out twice."""
        for message_id in sorted(self.unrecorded):
            async with unit_of_work(self.sessions) as session:
                await outbox.record_sent(session, message_id, now=self.clock())
            self.unrecorded.discard(message_id)

    async def _claim_more(self) -> int:
        """Claim due messages while there is room and send each in a task; how many."""
        room = IN_FLIGHT - len(self._sending)
        if room <= 0:
            return 0
        claimed = await claim(self.sessions, list(self.senders), now=self.clock(), limit=room)
        for message in claimed:
            task = asyncio.create_task(self._send(message))
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return len(claimed)

    async def _send(self, message: Claimed) -> None:
        sender = self.senders[message.channel]
        try:
            await send_claimed(
                self.sessions, sender, message, self.clock(), unrecorded=self.unrecorded
            )
        except Exception:  # the database failed; the lease ends and it is tried again
            log.exception("outbox send not recorded", extra={"outbox_id": message.id})

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self.wake()  # room for another, and the chat's next message may be due now

    async def _loop(self) -> None:
        while True:
            try:
                await self._record_unrecorded()
                while await self._claim_more():
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
        """Stop the loop, let sends under way finish briefly; the rest stay in the outbox."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._sending:
            _, late = await asyncio.wait(set(self._sending), timeout=STOP_WAIT)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

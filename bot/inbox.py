"""Platform events: stored before acknowledging, processed once, recovered at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import EventSource
from bot.delivery import Claimed, OutboxWorker, send_claimed
from bot.dispatch import Answer, Dispatcher
from storage import events
from storage.db import unit_of_work
from storage.models import ProcessedEvent, utcnow

log = logging.getLogger(__name__)


class Inbox:
    """Stores webhook events, processes them in the background, and sends replies at once."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        sources: dict[str, EventSource],
        worker: OutboxWorker,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Wire the dispatcher, each channel's event source and the outbox worker."""
        self.dispatcher = dispatcher
        self.sessions: async_sessionmaker[AsyncSession] = dispatcher.sessions
        self.sources = sources
        self.worker = worker
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        # Bodies just stored, so processing need not read them back (recovery reads the DB).
        self._bodies: dict[tuple[str, str], dict[str, Any]] = {}

    async def accept(self, channel: str, batch: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Store events in one transaction; return the ids not seen before (duplicates drop)."""
        fresh = []
        async with unit_of_work(self.sessions) as session:
            for event_id, payload in batch:
                now = self.clock()
                if await events.record(
                    session, channel=channel, event_id=event_id, payload=payload, now=now
                ):
                    fresh.append(event_id)
                    self._bodies[(channel, event_id)] = payload
        metrics.UPDATES_RECEIVED.labels(channel).inc(len(batch))
        metrics.UPDATES_DUPLICATE.labels(channel).inc(len(batch) - len(fresh))
        return fresh

    def schedule(self, channel: str, event_ids: list[str]) -> None:
        """Process events in the background, in order, after the webhook has been answered."""
        if not event_ids:
            return
        task = asyncio.create_task(self._process_all(channel, event_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process_all(self, channel: str, event_ids: list[str]) -> None:
        for event_id in event_ids:
            try:
                await self.process(channel, event_id)
            except Exception:  # stays stored; recovered at the next start
                log.exception("event processing failed", extra={"event_id": event_id})

    async def process(self, channel: str, event_id: str) -> None:
        """Run one stored event through the bot and deliver its replies."""
        body = self._bodies.pop((channel, event_id), None)
        if body is None:
            async with self.sessions() as session:
                row = await session.scalar(events.select_event(channel=channel, event_id=event_id))
            if row is None or row.processed_at is not None:
                return
            body = row.payload or {}
        inbound, context = self.sources[channel].to_inbound(body)
        answer = await self.dispatcher.handle_event(channel, event_id, inbound, context)
        metrics.UPDATES_PROCESSED.labels(channel).inc()
        if answer is not None:
            await self.send_now(answer)

    async def send_now(self, answer: Answer) -> None:
        """Send a turn's answer at once when it may; the worker retries what fails."""
        if not answer.direct or answer.channel not in self.worker.senders:
            self.worker.wake()
            return
        claimed = Claimed(answer.outbox_id, answer.channel, answer.delivery)
        try:
            sent = await send_claimed(
                self.sessions, self.worker.senders[answer.channel], claimed, self.clock()
            )
        except Exception:
            log.exception("immediate delivery failed; the outbox worker will retry")
            sent = False
        if not sent:
            self.worker.wake()

    async def recover(self) -> int:
        """Process events stored but not processed (e.g. cut off by a crash)."""
        done = 0
        for channel in self.sources:
            async with self.sessions() as session:
                pending: list[ProcessedEvent] = await events.pending(session, channel=channel)
            for row in pending:
                await self.process(channel, row.event_id)
                done += 1
        return done

    async def drain(self) -> None:
        """Wait for background processing to finish (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

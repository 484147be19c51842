"""Platform events: stored before acknowledging, processed once, recovered at start."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import EventSource
from bot.clock import utcnow
from bot.delivery import Claimed, OutboxWorker, send_claimed
from bot.dispatch import Answer, Dispatcher
from bot.logrefs import event_ref
from storage import audit, events
from storage.db import unit_of_work
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)

Batch = list[tuple[str, dict[str, Any]]]
MAX_GROUP = 200  # webhook calls stored per transaction at most
CATCH_UP_FIRST, CATCH_UP_MAX = 0.5, 10.0  # seconds between tries to catch up after a failure


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
        # Webhook calls waiting to be stored, and the task storing them (group commit).
        self._waiting: list[tuple[str, Batch, asyncio.Future[list[str]]]] = []
        self._storing: asyncio.Task[None] | None = None
        # Set while events stored earlier may still wait (a crash, a failed turn): nothing new
        # is processed before them, or a chat's updates would take effect out of order.
        self._behind = False
        self._catching_up = asyncio.Lock()
        self._queued = 0  # processing calls waiting behind a catch-up
        self._failed_at = float("-inf")  # when catching up last failed (time.monotonic)
        self._retry: asyncio.Task[None] | None = None

    async def accept(self, channel: str, batch: Batch) -> list[str]:
        """Store events before the 200; return the ids not seen before (duplicates drop).

        Calls that arrive while a transaction is storing earlier ones wait and are stored
        together in the next one (one INSERT), so a burst of webhooks costs a few commits,
        not one each. Raises if the store fails: nothing is acknowledged that is not stored.
        """
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._waiting.append((channel, batch, future))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_waiting())
        fresh = await asyncio.shield(future)
        metrics.UPDATES_RECEIVED.labels(channel).inc(len(batch))
        metrics.UPDATES_DUPLICATE.labels(channel).inc(len(batch) - len(fresh))
        return fresh

    async def _store_waiting(self) -> None:
        """Store every waiting call's events, a group per transaction, until none wait."""
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            rows = [(ch, event_id, body) for ch, batch, _ in group for event_id, body in batch]
            try:
                async with unit_of_work(self.sessions, urgent=True) as session:
                    new = await events.record_many(session, events=rows, now=self.clock())
            except Exception as error:
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            for ch, batch, future in group:
                fresh = []
                for event_id, body in batch:
                    if (ch, event_id) in new:  # first caller with this id takes it
                        new.discard((ch, event_id))
                        fresh.append(event_id)
                        self._bodies[(ch, event_id)] = body
                if not future.done():
                    future.set_result(fresh)

    def schedule(self, channel: str, event_ids: list[str]) -> None:
        """Process events in the background, in order, after the webhook has been answered."""
        if not event_ids:
            return
        task = asyncio.create_task(self._process_all(channel, event_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process_all(self, channel: str, event_ids: list[str]) -> None:
        if self._behind or self._queued:
            # Behind the catch-up and everyone queued before: the lock is first come, first
            # served, and from it to the chat's turn lock nothing waits, so each chat's
            # events still reach their turns in arrival order.
            self._queued += 1
            try:
                await self.catch_up()
            finally:
                self._queued -= 1
            if self._behind:
                return  # still failing: these stay stored and are caught up in order later
        for event_id in event_ids:
            try:
                await self.process(channel, event_id)
            except Exception:  # stays stored, and so do the rest: caught up in order soon
                log.exception("event processing failed", extra={"event": event_ref(event_id)})
                self.hold_until_caught_up()
                return

    def hold_until_caught_up(self, *, retry: bool = True) -> None:
        """Process nothing new until every stored event has been, in arrival order.

        `retry`: keep trying to catch up in the background (else the caller does it).
        """
        self._behind = True
        if retry and (self._retry is None or self._retry.done()):
            self._retry = asyncio.create_task(self._catch_up_soon(), name="event-catch-up")

    def stop_catching_up(self) -> None:
        """Stop the background retries (shutdown); what is stored stays for the next start."""
        if self._retry is not None:
            self._retry.cancel()

    async def _catch_up_soon(self) -> None:
        delay = CATCH_UP_FIRST
        while self._behind:
            await asyncio.sleep(delay)
            await self.catch_up()
            delay = min(delay * 2, CATCH_UP_MAX)

    async def catch_up(self) -> None:
        """Process the stored events in arrival order; stay behind if the database fails."""
        async with self._catching_up:
            if not self._behind:
                return
            if time.monotonic() - self._failed_at < CATCH_UP_FIRST:
                return  # it failed a moment ago: callers queued behind it need not each retry
            try:
                await self.recover()
            except Exception:  # the database is still away; events stay stored
                self._failed_at = time.monotonic()
                log.warning("catching up on stored events failed; retrying")
                return
            self._behind = False

    async def process(self, channel: str, event_id: str, *, catching_up: bool = False) -> None:
        """Run one stored event through the bot and deliver its replies.

        Unless `catching_up`, an event whose turn comes while older stored events wait (a
        turn of the same chat failed just before) is left stored for the catch-up.
        """
        body = self._bodies.pop((channel, event_id), None)
        if body is None:
            async with unit_of_work(self.sessions) as session:
                row = await session.scalar(events.select_event(channel=channel, event_id=event_id))
            if row is None or row.processed_at is not None:
                return
            body = row.payload or {}
        try:
            inbound, context = self.sources[channel].to_inbound(body)
        except Exception as err:  # reading it again fails again: finish it, unanswered
            log.warning(
                "event not understood; finished without an answer",
                extra={"event": event_ref(event_id), "error": type(err).__name__},
            )
            inbound, context = None, {}
        answer = await self.dispatcher.handle_event(
            channel,
            event_id,
            inbound,
            context,
            hold=None if catching_up else lambda: self._behind,
        )
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
                self.sessions,
                self.worker.senders[answer.channel],
                claimed,
                self.clock(),
                unrecorded=self.worker.unrecorded,
            )
        except Exception:
            log.exception("immediate delivery failed; the outbox worker will retry")
            sent = False
        if not sent:
            self.worker.wake()

    async def recover(self) -> int:
        """Process events stored but not processed (e.g. cut off by a crash), oldest first.

        An event that fails while the database answers is skipped (logged), so one bad event
        cannot hold up the rest; a database failure stops the round (raises).
        """
        done = 0
        for channel in self.sources:
            tried: set[str] = set()
            while True:  # a page at a time, until none is left that was not tried
                async with unit_of_work(self.sessions) as session:
                    pending: list[ProcessedEvent] = await events.pending(session, channel=channel)
                pending = [row for row in pending if row.event_id not in tried]
                if not pending:
                    break
                for row in pending:
                    tried.add(row.event_id)
                    try:
                        await self.process(channel, row.event_id, catching_up=True)
                    except Exception:
                        if not await self._database_answers():
                            raise
                        log.exception(
                            "stored event fails; skipped", extra={"event": event_ref(row.event_id)}
                        )
                        await self._note_failure(channel, row.event_id, row.id)
                        continue
                    done += 1
        return done

    async def _note_failure(self, channel: str, event_id: str, row_id: int) -> None:
        """Count a failed try; park the event with an alert after events.MAX_FAILURES."""
        async with unit_of_work(self.sessions) as session:
            now = self.clock()
            if not await events.note_failure(session, channel=channel, event_id=event_id, now=now):
                return
            await audit.record(
                session,
                actor_kind="system",
                action="event-parked",
                now=now,
                detail={"channel": channel, "stored_event": row_id},
            )
        metrics.EVENTS_PARKED.labels(channel).inc()
        log.warning(
            "stored event parked after repeated failures; run: python bot.py events retry",
            extra={"stored_event": row_id, "failures": events.MAX_FAILURES},
        )

    async def _database_answers(self) -> bool:
        try:
            async with unit_of_work(self.sessions) as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def drain(self) -> None:
        """Wait for background processing to finish (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

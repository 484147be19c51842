"""One scheduler leader among the workers: whoever holds the PostgreSQL advisory lock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.locks import try_leader

log = logging.getLogger(__name__)
# How often a worker checks for the lock: a dead leader is replaced within about this.
CHECK_EVERY = 5.0


class LeaderElection:
    """Tries for leadership every `interval` seconds; runs callbacks on gaining and losing it.

    The lock belongs to one database connection, so a leader that dies (or loses the database)
    releases it at once and another worker takes over within about one interval.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        interval: float = CHECK_EVERY,
    ) -> None:
        """Remember what to do when leadership changes."""
        self.engine = engine
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.interval = interval
        self.is_leader = False
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def _check(self) -> None:
        if self._connection is None:
            self._connection = await self.engine.connect()
            if await try_leader(self._connection):
                await self._connection.commit()
                self.is_leader = True
                log.info("this worker is the scheduler leader")
                await self.on_elected()
            else:
                await self._release()
            return
        await self._connection.execute(text("SELECT 1"))  # still holding the session lock
        # End the transaction SELECT 1 began (the advisory lock is session-level): left open
        # it idles in transaction on PostgreSQL and holds SQLite's write lock (BEGIN
        # IMMEDIATE) for good, so every other write of the process waits, then fails.
        await self._connection.commit()

    async def _release(self) -> None:
        if self._connection is not None:
            try:
                # Invalidate rather than close: a pooled connection would keep holding the lock.
                await self._connection.invalidate()
                await self._connection.close()
            except Exception:  # the connection may already be gone
                log.debug("leader connection already closed")
            self._connection = None

    async def _loop(self) -> None:
        while True:
            try:
                await self._check()
            except Exception:
                log.warning("leader check failed; giving up leadership until the database answers")
                await self._step_down()
            await asyncio.sleep(self.interval)

    async def _step_down(self) -> None:
        await self._release()
        if self.is_leader:
            self.is_leader = False
            await self.on_deposed()

    def start(self) -> None:
        """Start competing for leadership."""
        self._task = asyncio.create_task(self._loop(), name="leader-election")

    async def stop(self) -> None:
        """Stop competing and release the lock."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._step_down()

"""Scheduled jobs: plain async functions of (sessions, now), idempotent, feeding the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Job = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[int]]

# name -> (job, interval in seconds); the journeys add their jobs here.
JOBS: dict[str, tuple[Job, int]] = {}

"""The scheduler: runs the periodic jobs with the current time; each job is idempotent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.clock import utcnow

log = logging.getLogger(__name__)
Job = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[int]]


def _wrap(name: str, job: Job, sessions: async_sessionmaker[AsyncSession]) -> Callable:
    async def run() -> None:
        try:
            done = await job(sessions, utcnow())
        except Exception:
            metrics.SCHEDULER_RUNS.labels(name, "failed").inc()
            log.exception("job %s failed; it runs again at its next time", name)
            return
        metrics.SCHEDULER_RUNS.labels(name, "ok").inc()
        if done:
            log.info("job %s did %d things", name, done)

    return run


def build_scheduler(
    sessions: async_sessionmaker[AsyncSession], jobs: dict[str, tuple[Job, int]]
) -> AsyncIOScheduler:
    """Schedule each job every N seconds; missed runs coalesce into one."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for name, (job, seconds) in jobs.items():
        scheduler.add_job(
            _wrap(name, job, sessions),
            "interval",
            seconds=seconds,
            id=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=seconds,
        )
    return scheduler

"""A clock you can set, for people walking the demo: `chat --at`, `/at +2d`, `jobs run --at`."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ClockError
from handlers.jobs import build_jobs
from storage.demo import is_demo_only

log = logging.getLogger(__name__)
AT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
JUMP = re.compile(r"^\+?((?:\d{1,4}[wdhm])+)$")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
JUMP_HINT = "write a jump forward like +2d, +3h, +30m, +1w or +1d2h"


def parse_at(text: str, tz: ZoneInfo) -> datetime:
    """Read "YYYY-MM-DD HH:MM" (local to `tz`) or an ISO time with an offset."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        for pattern in AT_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern).replace(tzinfo=tz)
                break
            except ValueError:
                continue
        else:
            raise ClockError(f'--at takes a local time like "2026-12-10 10:00", got {value!r}')
    return parsed


def parse_jump(text: str) -> timedelta:
    """Read a jump forward like +2d, +3h, +30m, +1w or +1d2h."""
    match = JUMP.match(text.strip().lower())
    if not match:
        raise ClockError(f"{JUMP_HINT}; got {text.strip()!r}")
    parts = re.findall(r"(\d+)([wdhm])", match.group(1))
    return timedelta(**{UNITS[unit]: int(number) for number, unit in parts})


async def require_demo(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Refuse to set the clock on a database that `seed-demo` did not make."""
    async with sessions() as session:
        if not await is_demo_only(session):
            raise ClockError(
                "--at only works on a database made by `python bot.py seed-demo` that holds "
                "no other organisation: a set clock would send real people real messages"
            )


async def run_jobs(
    sessions: async_sessionmaker[AsyncSession],
    key: bytes,
    now: datetime,
    names: list[str] | None = None,
) -> dict[str, int]:
    """Run the named scheduled jobs (all by default) once at `now`; what each did."""
    jobs = build_jobs(key)
    done = {}
    for name in names or list(jobs):
        job, _ = jobs[name]
        done[name] = await job(sessions, now)
        log.info("job %s did %d things", name, done[name])
    return done


def job_names() -> list[str]:
    """The scheduled jobs' names."""
    return list(build_jobs(b"names only"))


__all__ = ["ClockError", "job_names", "parse_at", "parse_jump", "require_demo", "run_jobs"]

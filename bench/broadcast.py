"""Broadcast: reminders through the outbox to a fake Telegram that enforces a rate limit.

2,000 employees each have a session within 24 hours; the real reminder job
(handlers.jobs.send_reminders) queues one reminder each in the outbox, and the real OutboxWorker
delivers them through the real TelegramChannel (python-telegram-bot on our aiohttp transport) to
the fake Bot API from tests/fake_telegram.py on 127.0.0.1. The fake accepts at most --limit
messages in any one second (Telegram's broadcast limit is about 30) and answers the rest
429 Too Many Requests with retry_after, as Telegram does.

Two ways to run the channel:

    limiter:    the product as shipped: its SendLimiter paces sends at 30/s overall
    no limiter: the SendLimiter off, so only 429s and retry_after slow the worker down

Reported: the achieved rate (first to last delivery) as a share of the limit, the 429s the fake
sent, and messages lost (reminders that never reached their chat, counted at the fake) and
delivered twice; both must be 0.

Run: python -m bench.broadcast [--messages 2000] [--limit 30] [--modes limiter nolimiter]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import math
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import PG_URL, Figure, scratch_postgres, write_figures
from bot.channels.telegram import SendLimiter, TelegramChannel
from bot.clock import utcnow
from bot.delivery import OutboxWorker
from bot.settings import Settings
from handlers.jobs import send_reminders
from storage.db import create_engine, session_factory, unit_of_work
from storage.models import (
    Booking,
    BookingStatus,
    Counselor,
    Member,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    RosterEntry,
    Slot,
)
from storage.schema import migrate
from tests.fake_telegram import BUILTIN, TOKEN, ApiError, Contract, FakeTelegram

KEY = "bench-pseudonym-key-0123456789"
FIRST_CHAT = 7_000_000
SENDS = {"sendMessage", "sendPhoto", "sendDocument", "editMessageText"}
MODES = ("limiter", "nolimiter")


class RateLimitedTelegram(FakeTelegram):
    """The fake Bot API, refusing sends beyond `limit` in any one second with a 429."""

    def __init__(self, *, limit: int, retry_after: int) -> None:
        """Light contract checks (the bench measures the bot, not the fake)."""
        super().__init__(TOKEN, contract=Contract(BUILTIN, from_file=False))
        self.limit = limit
        self.retry_after = retry_after
        self.accepted: collections.deque[float] = collections.deque()
        self.refused = 0

    def _planned_failure(self, method: str) -> None:
        super()._planned_failure(method)
        if method not in SENDS:
            return
        now = time.monotonic()
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if len(self.accepted) >= self.limit:
            self.refused += 1
            wait = self.retry_after
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        self.accepted.append(now)


@dataclass
class Result:
    """What one broadcast achieved."""

    mode: str
    messages: int
    limit: int
    queued: int = 0
    seconds: float = 0.0
    delivery_seconds: float = 0.0
    refused: int = 0
    lost: int = 0
    duplicates: int = 0
    dead: int = 0
    attempts: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Deliveries per second between the first and the last delivery."""
        delivered = self.messages - self.lost
        return (delivered - 1) / self.delivery_seconds if self.delivery_seconds else 0.0

    @property
    def share(self) -> float:
        """The achieved rate as a share of the fake's limit."""
        return self.rate / self.limit


def _employee(i: int, starts: datetime, now: datetime) -> dict[type, dict[str, Any]]:
    """Employee i's roster entry, chat account, slot and booking, as table rows."""
    counselor, ends = (i - 1) % 100 + 1, starts + timedelta(hours=1)
    return {
        RosterEntry: {
            "id": i, "organisation_id": 1, "employee_hash": f"h{i}", "department": "D",
            "status": "active", "updated_at": now,
        },
        Member: {
            "id": i, "channel": "telegram", "external_id": str(FIRST_CHAT + i),
            "locale": ("zh-TW", "en")[i % 2], "consent_at": now, "pseudonym": f"p{i}",
            "organisation_id": 1, "roster_entry_id": i, "linked_at": now, "first_seen_at": now,
        },
        Slot: {"id": i, "counselor_id": counselor, "starts_at": starts, "ends_at": ends},
        Booking: {
            "id": i, "organisation_id": 1, "member_id": i, "counselor_id": counselor,
            "slot_id": i, "active_slot_id": i, "domain": "psychology", "mode": "video",
            "minutes": 60, "plan_year": date(now.year, 1, 1), "starts_at": starts,
            "ends_at": ends, "status": BookingStatus.BOOKED, "created_at": now, "updated_at": now,
        },
    }  # fmt: skip


async def _seed(sessions: async_sessionmaker[AsyncSession], count: int, now: datetime) -> None:
    """An organisation, 100 counselors, and `count` employees each booked within 24 hours."""
    first = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    step = timedelta(minutes=max(1, 20 * 60 // math.ceil(count / 100)))  # all within 22 h
    counselors = [
        {"id": c, "organisation_id": 1, "display_name": f"C{c}", "domains": "psychology",
         "modes": "video", "licence_number": f"L{c}", "licence_expires_on": date(2100, 1, 1)}
        for c in range(1, 101)
    ]  # fmt: skip
    rows: dict[type, list[dict[str, Any]]] = collections.defaultdict(list)
    for i in range(1, count + 1):
        for model, row in _employee(i, first + step * ((i - 1) // 100), now).items():
            rows[model].append(row)
    async with unit_of_work(sessions) as session:
        await session.execute(
            insert(Organisation).values(id=1, code="B", name="B", created_at=now)
        )
        await session.execute(insert(Counselor), counselors)
        for model in (RosterEntry, Member, Slot, Booking):  # in foreign-key order
            await session.execute(insert(model), rows[model])


async def _pending(sessions: async_sessionmaker[AsyncSession]) -> int:
    # A unit of work, as the product's own reads: on SQLite it queues with the worker's writes.
    async with unit_of_work(sessions) as session:
        found = await session.scalar(
            select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
        )
    return int(found or 0)


async def _attempts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many outbox messages took 1, 2, ... attempts, and how many died."""
    async with unit_of_work(sessions) as session:
        rows = await session.execute(
            select(OutboxMessage.status, OutboxMessage.attempts, func.count()).group_by(
                OutboxMessage.status, OutboxMessage.attempts
            )
        )
        return {f"{status.value}:{attempts}": int(n) for status, attempts, n in rows}


async def broadcast(
    url: str, *, mode: str, messages: int, limit: int, retry_after: int, patience: float
) -> Result:
    """Queue `messages` reminders in the empty database at `url` and deliver them."""
    result = Result(mode, messages, limit)
    await migrate(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    fake = RateLimitedTelegram(limit=limit, retry_after=retry_after)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        await fake.start()
        stack.push_async_callback(fake.close)
        for i in range(1, messages + 1):
            fake.user(FIRST_CHAT + i)
        now = utcnow()
        await _seed(sessions, messages, now)
        result.queued = await send_reminders(sessions, now)
        settings = Settings(
            database_url=url, pseudonym_key=KEY, telegram_token=TOKEN, telegram_api_base=fake.url
        )
        limiter = SendLimiter() if mode == "limiter" else SendLimiter(overall_per_second=None)
        channel = TelegramChannel(settings, limiter=limiter)
        worker = OutboxWorker(sessions, {"telegram": channel})
        stack.push_async_callback(channel.stop)
        started = time.perf_counter()
        worker.start()
        stack.push_async_callback(worker.stop)
        deadline = started + patience
        # The outbox is the truth (a 429 puts a message back), so poll it rather than wait.
        while await _pending(sessions) and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        result.seconds = time.perf_counter() - started
        await worker.stop()
        _count(result, fake, messages)
        result.attempts = await _attempts(sessions)
        result.dead = sum(n for k, n in result.attempts.items() if k.startswith("dead:"))
    return result


def _count(result: Result, fake: RateLimitedTelegram, messages: int) -> None:
    """Deliveries as the fake saw them: distinct chats reached, repeats, 429s sent."""
    shown = [s for s in fake.shown if s.kind == "send"]
    per_chat = collections.Counter(s.chat_id for s in shown)
    expected = {FIRST_CHAT + i for i in range(1, messages + 1)}
    result.lost = len(expected - set(per_chat))
    result.duplicates = sum(n - 1 for n in per_chat.values())
    result.refused = fake.refused
    if shown:
        result.delivery_seconds = max(s.at for s in shown) - min(s.at for s in shown)


async def measure(
    *,
    modes: list[str],
    messages: int,
    limit: int,
    retry_after: int = 1,
    backend: str = "sqlite",
    postgres_url: str = PG_URL,
) -> list[Result]:
    """Run one broadcast per mode, each in a fresh database."""
    patience = 60 + 4 * messages / limit
    results = []
    for mode in modes:
        options: dict[str, Any] = {
            "mode": mode,
            "messages": messages,
            "limit": limit,
            "retry_after": retry_after,
            "patience": patience,
        }
        if backend == "postgres":
            async with scratch_postgres(postgres_url) as url:
                results.append(await broadcast(url, **options))
        else:
            with tempfile.TemporaryDirectory(prefix="eap-bench-broadcast-") as folder:
                results.append(await broadcast(f"sqlite+aiosqlite:///{folder}/b.db", **options))
    return results


def figures(results: list[Result]) -> list[Figure]:
    """The figures `python -m bench` collects."""
    out = []
    for r in results:
        where = f"{r.messages} reminders, {r.limit}/s limit, {r.mode}"
        out += [
            Figure(f"{where}: achieved rate", r.rate, "/s"),
            Figure(f"{where}: share of limit", r.share, "x"),
            Figure(f"{where}: 429s received", r.refused, ""),
            Figure(f"{where}: seconds to empty the outbox", r.seconds, "s"),
            Figure(f"{where}: lost", r.lost, "", must_be_zero=True),
            Figure(f"{where}: delivered twice", r.duplicates, "", must_be_zero=True),
        ]
    return out


def table(results: list[Result]) -> str:
    """One line per mode."""
    lines = [
        f"{'mode':<11}{'queued':>7}{'limit/s':>8}{'sent/s':>8}{'share':>7}{'429s':>7}"
        f"{'lost':>6}{'twice':>6}{'dead':>6}{'total s':>9}"
    ]
    for r in results:
        lines.append(
            f"{r.mode:<11}{r.queued:>7}{r.limit:>8}{r.rate:>8.1f}{r.share:>7.2f}{r.refused:>7}"
            f"{r.lost:>6}{r.duplicates:>6}{r.dead:>6}{r.seconds:>9.1f}"
        )
    return "\n".join(lines)


def cli() -> None:
    """Parse the command line, run, print the table, write the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=30, help="sends per second the fake takes")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds, in each 429")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 150 messages")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # one "send failed" line per 429 would drown the table
    messages = 150 if args.quick else args.messages
    results = asyncio.run(
        measure(
            modes=args.modes,
            messages=messages,
            limit=args.limit,
            retry_after=args.retry_after,
            backend=args.backend,
        )
    )
    print(table(results))
    write_figures(args.json, figures(results), attempts={r.mode: r.attempts for r in results})


if __name__ == "__main__":
    cli()

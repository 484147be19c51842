"""deploy/ for real: nginx, three web processes and two workers on PostgreSQL, then a crash.

A load of 100 employees' journeys goes through nginx (TLS, as in deploy/nginx.conf) to the web
processes; what nginx does not acknowledge is sent again, as Telegram does. Mid-load one web
process and the scheduler leader are SIGKILLed. Nothing acknowledged may be lost or processed
twice, another worker must lead within the election's bound, and the reminders the scheduler
owes go out once. No reply may arrive twice, except one whose send the crash cut off between
Telegram accepting it and the database recording it: the Bot API takes no idempotency key, so
a worker sends it again (at least once beats at most once for a booking confirmation); each
such repeat must trace back to a killed process.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import utcnow
from bot.leader import CHECK_EVERY
from storage.db import create_engine, session_factory, unit_of_work
from storage.demo import seed
from storage.models import (
    Booking,
    BookingStatus,
    Counselor,
    Member,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    RosterEntry,
    Slot,
)
from storage.pseudonyms import employee_hash, new_pseudonym
from storage.schema import migrate
from tests import nginx_cluster as cluster
from tests.conftest import PG_ENV, TEST_KEY
from tests.fake_telegram import FakeTelegram

pytestmark = [
    pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs PostgreSQL: {PG_ENV} not set"),
    pytest.mark.skipif(
        cluster.nginx_binary() is None or shutil.which("openssl") is None,
        reason="needs nginx and openssl (apt-get install nginx)",
    ),
]

EMPLOYEES = range(51, 151)  # demo roster numbers E0051-E0150 (E0001 is the console demo user)
CHAT = 7_000_000  # chat id of employee n: CHAT + n
REMINDED = range(161, 171)  # employees with a booking in two hours: the reminder falls due
ALREADY_REMINDED = 171  # a booking whose reminder went out before the test
KILL_AT = 0.3  # share of the updates acknowledged when the crash comes
SETTLE = 150.0  # seconds for everything owed to arrive (the first reminder run is at 60 s)


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A fresh database of its own, migrated and seeded with the demo organisation."""
    base = os.environ[PG_ENV]
    url = await cluster.create_database(base, "eap_scaleout")
    try:
        await migrate(url)
        engine = create_engine(url)
        async with unit_of_work(session_factory(engine)) as session:
            await seed(session, key=TEST_KEY.encode(), now=utcnow())
        await engine.dispose()
        yield url
    finally:
        await cluster.drop_database(base, url)


async def book_in_two_hours(session: AsyncSession, number: int, now: datetime) -> Booking:
    """Link employee `number` to a Telegram chat and book them a session in about two hours."""
    entry = await session.scalar(
        select(RosterEntry).where(
            RosterEntry.employee_hash == employee_hash(TEST_KEY.encode(), "DEMO", f"E{number:04d}")
        )
    )
    assert entry is not None
    counselor = await session.scalar(select(Counselor).where(Counselor.domains == "psychology"))
    assert counselor is not None
    member = Member(
        channel="telegram",
        external_id=str(CHAT + number),
        locale="zh-TW",
        pseudonym=new_pseudonym(),
        organisation_id=entry.organisation_id,
        roster_entry_id=entry.id,
        linked_at=now,
        consent_at=now,
        first_seen_at=now,
    )
    starts = (now + timedelta(hours=2, minutes=number)).replace(second=0, microsecond=0)
    slot = Slot(counselor_id=counselor.id, starts_at=starts, ends_at=starts + timedelta(hours=1))
    session.add_all([member, slot])
    await session.flush()
    booking = Booking(
        organisation_id=entry.organisation_id,
        member_id=member.id,
        counselor_id=counselor.id,
        slot_id=slot.id,
        active_slot_id=slot.id,
        domain="psychology",
        mode="video",
        minutes=60,
        plan_year=date(starts.year, 1, 1),
        starts_at=starts,
        ends_at=slot.ends_at,
        status=BookingStatus.BOOKED,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    await session.flush()
    return booking


async def seed_bookings(sessions: async_sessionmaker[AsyncSession]) -> tuple[dict[int, int], int]:
    """Bookings whose 24-hour reminder is due (booking id by chat), and one already reminded."""
    now = utcnow()
    async with unit_of_work(sessions) as session:
        booked = {CHAT + n: (await book_in_two_hours(session, n, now)).id for n in REMINDED}
        done = await book_in_two_hours(session, ALREADY_REMINDED, now)
        session.add(
            OutboxMessage(
                channel="telegram",
                recipient=str(CHAT + ALREADY_REMINDED),
                locale="zh-TW",
                payload={"sent": True},
                idempotency_key=f"reminder-24h:{done.id}",
                retry_key="0" * 36,
                status=OutboxStatus.SENT,
                sent_at=now,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return booked, done.id


async def settled(sessions: async_sessionmaker[AsyncSession], reminders: int) -> bool:
    """Every event processed, every message sent, and the due reminders queued and sent."""
    async with sessions() as session:
        unprocessed = await session.scalar(
            select(func.count()).where(ProcessedEvent.processed_at.is_(None))
        )
        unsent = await session.scalar(
            select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        )
        reminded = await session.scalar(
            select(func.count()).where(OutboxMessage.idempotency_key.like("reminder-%"))
        )
    return unprocessed == 0 and unsent == 0 and reminded == reminders + 1


async def wait_for(condition: Callable[[], Any], seconds: float) -> float:
    """Poll a condition (plain or async); how long it took to hold (fails after `seconds`)."""
    started = time.monotonic()
    while not await _value(condition()):
        assert time.monotonic() - started < seconds, "not reached in time"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def duplicates(
    fake: FakeTelegram, chats: list[int], names: dict[int, str], killed: set[int]
) -> tuple[list[str], Counter[int]]:
    """Messages shown twice in a chat: unexplained ones, and how many a crash explains by chat.

    Every message of these journeys differs from the others in its chat, so a repeat is a
    second delivery. Telegram takes no idempotency key: a message sent by a process that was
    killed before it could record the send is sent again by a worker. Only repeats whose first
    copy came from a killed process (so before it died) are explained.
    """
    unexplained: list[str] = []
    explained: Counter[int] = Counter()
    for chat in chats:
        first: dict[tuple[str, str], Any] = {}
        for shown in fake.shown_in(chat):
            content = (shown.text, repr(shown.rows))
            if content not in first:
                first[content] = shown
            elif first[content].via in killed:
                explained[chat] += 1
            else:
                was = first[content]
                unexplained.append(
                    f"chat {chat}: {shown.text[:30]!r} {was.kind} by {names.get(was.via)}, "
                    f"{shown.kind} by {names.get(shown.via)} {shown.at - was.at:.1f} s later"
                )
    return unexplained, explained


def scheduler_runs(metrics: str, job: str) -> float:
    """How many times a process ran a scheduled job successfully, from its /metrics."""
    found = re.search(rf'eap_scheduler_runs_total{{job="{job}",outcome="ok"}} (\S+)', metrics)
    return float(found.group(1)) if found else 0.0


async def stored(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[dict[str, Any], Counter[str], dict[str, Any]]:
    """Events (id: when processed), answers (key: how many) and reminders (key: status)."""
    async with sessions() as session:
        events = {
            event_id: processed_at
            for event_id, processed_at in await session.execute(
                select(ProcessedEvent.event_id, ProcessedEvent.processed_at)
            )
        }
        keys = select(OutboxMessage.idempotency_key, OutboxMessage.status)
        answers = await session.execute(keys.where(OutboxMessage.idempotency_key.like("reply:%")))
        reminders = await session.execute(
            keys.where(OutboxMessage.idempotency_key.like("reminder-%"))
        )
        return events, Counter(key for key, _ in answers), {k: status for k, status in reminders}


async def scrape(bots: list[cluster.BotProcess]) -> dict[str, str]:
    """Each process's /metrics by name."""
    scraped = {}
    async with aiohttp.ClientSession() as http:
        for bot in bots:
            async with http.get(f"http://127.0.0.1:{bot.port}/metrics") as response:
                scraped[bot.name] = await response.text()
    return scraped


async def test_crash_behind_nginx_loses_nothing_and_does_everything_once(
    database: str, tmp_path: Path
) -> None:
    engine = create_engine(database)
    sessions = session_factory(engine)
    booked, reminded_before = await seed_bookings(sessions)
    fake = FakeTelegram()
    await fake.start()
    for chat in [*booked, CHAT + ALREADY_REMINDED]:
        fake.user(chat)
    bots: list[cluster.BotProcess] = []
    nginx: cluster.Nginx | None = None
    try:
        common = {"database_url": database, "key": TEST_KEY, "folder": tmp_path, "fake": fake}
        workers = [await cluster.start_bot(f"worker{i}", "worker", **common) for i in (1, 2)]
        webs = [await cluster.start_bot(f"web{i}", "web", **common) for i in (1, 2, 3)]
        bots = workers + webs
        await cluster.wait_healthy(bots)
        await wait_for(lambda: _count_leaders(bots, 1), 4 * CHECK_EVERY)
        [leader] = await cluster.leaders(bots)
        nginx = cluster.Nginx(tmp_path / "nginx", [web.port for web in webs])
        load = cluster.Load(fake, await nginx.start(), concurrency=len(EMPLOYEES))
        chats = {CHAT + n: cluster.journey(n, TEST_KEY) for n in EMPLOYEES}
        updates = sum(len(steps) for steps in chats.values())
        running = asyncio.ensure_future(load.run(chats))

        await wait_for(lambda: len(load.outcome.acked) >= KILL_AT * updates, 120)
        victims = [webs[1], leader]
        killed_at = time.monotonic()
        for victim in victims:
            victim.kill()
        [survivor] = [w for w in workers if w is not leader]
        await wait_for(lambda: _count_leaders([survivor], 1), 4 * CHECK_EVERY)
        took = time.monotonic() - killed_at
        acked_at_kill = len(load.outcome.acked)

        outcome = await running
        await wait_for(lambda: settled(sessions, len(booked)), SETTLE)
        survivors = [bot for bot in bots if bot not in victims]
        scraped = await scrape(survivors)
        survivors_leading = await cluster.leaders(survivors)
    finally:
        if nginx is not None:
            nginx.stop()
        codes = {bot.name: bot.stop() for bot in bots}
        await fake.close()
    events, replies, reminders = await stored(sessions)
    await engine.dispose()

    # The crash came mid-load and hit a process that was serving.
    assert 0 < acked_at_kill < updates
    assert any(s.via == webs[1].via for s in fake.shown)
    # Nothing lost: every update acknowledged, processed once, and answered.
    assert outcome.lost == []
    assert len(outcome.acked) == updates
    assert set(events) == {str(u) for u in outcome.acked}
    assert [e for e, processed_at in events.items() if processed_at is None] == []
    assert replies == Counter(f"reply:telegram:{u}" for u in outcome.acked)
    # Nothing repeated beyond what Telegram's lack of an idempotency key forces after a crash.
    killed = {victim.via for victim in victims}
    names = {bot.via: bot.name for bot in bots}
    unexplained, explained = duplicates(fake, [*chats, *booked], names, killed)
    assert unexplained == []
    # A chat has one message in flight at a time (the outbox keeps each chat's order).
    assert max(explained.values(), default=0) <= 2, explained  # a reply is at most two parts
    # Another worker leads within the election's bound; only it ran the scheduled jobs.
    assert took <= 2 * CHECK_EVERY
    assert [b.name for b in survivors_leading] == [survivor.name]
    assert scheduler_runs(scraped[survivor.name], "reminders") >= 1
    assert [n for n, text in scraped.items() if n != survivor.name and "runs_total{" in text] == []
    # Each due reminder queued once and delivered once; the earlier one not again.
    assert reminders == {
        f"reminder-24h:{b}": OutboxStatus.SENT for b in [*booked.values(), reminded_before]
    }
    for chat in booked:
        assert len({s.text for s in fake.shown_in(chat)}) == 1, chat
    assert fake.shown_in(CHAT + ALREADY_REMINDED) == []
    # The survivors stop cleanly.
    assert {b.name: codes[b.name] for b in survivors} == {b.name: 0 for b in survivors}
    for bot in survivors:
        assert "Traceback" not in bot.log.read_text(errors="replace"), bot.name


async def _value(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def _count_leaders(bots: list[cluster.BotProcess], expected: int) -> bool:
    return len(await cluster.leaders(bots)) == expected

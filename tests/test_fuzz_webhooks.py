"""Fuzz both webhooks: no 5xx, nothing stored for invalid bodies, the bot still answers after.

The product runs in-process with both channels against the fake Telegram and LINE APIs. The
bodies come from tests/fuzz_bodies.py; EAP_FUZZ_BODIES sets how many per endpoint (the long
run is `python -m bench.fuzz`, 100,000 bodies). Every stored event must end processed (one
that cannot be read is finished unanswered, not retried by every recovery round for ever),
and nothing may be logged at ERROR.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.line import LineChannel
from bot.channels.telegram import SECRET_HEADER, SendLimiter, TelegramChannel
from bot.clock import utcnow
from bot.dispatch import Dispatcher
from bot.flood import FloodGuard
from bot.i18n import render
from bot.runtime import Runtime
from bot.server import Server
from bot.settings import Settings
from storage.db import unit_of_work
from storage.models import Member, OutboxMessage, ProcessedEvent
from tests.fake_line import ACCESS_TOKEN, CHANNEL_SECRET, FakeLine, Webhooks, user_id
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.fuzz_bodies import ENDPOINTS, INVALID, PHASES, TELEGRAM, WEIRD, Body, Generator
from tests.test_telegram import SECRET, WEBHOOK_URL, until

DEFAULT_BODIES = 600  # per endpoint; about half invalid, half authentic but weird
CONCURRENCY = 16
CHUNK = 64 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=20)
DROPPED, TIMED_OUT = 0, -1  # pseudo statuses: the connection broke, no answer in time
TABLES: dict[str, Any] = {
    "processed_event": ProcessedEvent,
    "member": Member,
    "outbox_message": OutboxMessage,
}
NORMAL_UPDATE_ID = 1_999_999_999  # outside the fuzz range, so never a duplicate


@dataclass
class Tally:
    """What one endpoint answered: statuses by body kind, and the bodies answered wrongly."""

    sent: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    wrong: list[tuple[str, int, bytes]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        """Responses of 500 or above, dropped connections and requests left unanswered."""
        return sum(n for (_, status), n in self.statuses.items() if not 0 < status < 500)

    def by_status(self) -> Counter[int]:
        """Response counts by status code."""
        counts: Counter[int] = Counter()
        for (_, status), n in self.statuses.items():
            counts[status] += n
        return counts


class FuzzProduct:
    """The bot in-process with the Telegram and LINE channels, on the fakes, flood guard off."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        telegram_fake: FakeTelegram,
        line_fake: FakeLine,
    ) -> None:
        """Point both channels at their fakes (Telegram by webhook, sends unthrottled)."""
        self.sessions = sessions
        self.telegram_fake = telegram_fake
        self.line_fake = line_fake
        self.settings = dataclasses.replace(
            settings,
            telegram_token=TOKEN,
            telegram_api_base=telegram_fake.url,
            telegram_webhook_secret=SECRET,
            telegram_webhook_url=WEBHOOK_URL,
            line_channel_secret=CHANNEL_SECRET,
            line_access_token=ACCESS_TOKEN,
            line_api_base=line_fake.url,
        )
        dispatcher = Dispatcher(sessions, self.settings)
        dispatcher.flood = FloodGuard(limit=1_000_000)  # a fuzzer types faster than anyone
        runtime = Runtime(self.settings, sessions.kw["bind"], sessions, dispatcher)
        unthrottled = SendLimiter(overall_per_second=None, per_chat_per_second=None)
        self.telegram = TelegramChannel(self.settings, limiter=unthrottled)
        self.line = LineChannel(self.settings)
        self.server = Server(runtime, [self.telegram, self.line])  # type: ignore[list-item]
        self.base_url = ""

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        await self.server.start("127.0.0.1", 0)
        host, port = self.server.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    def generator(self, endpoint: str, *, seed: int = 0) -> Generator:
        """A body generator holding this product's secret for the endpoint."""
        secret = SECRET if endpoint == TELEGRAM else CHANNEL_SECRET
        now_ms = int(utcnow().timestamp() * 1000)  # the product runs on the real clock
        return Generator(endpoint, secret=secret, seed=seed, now_ms=now_ms)

    async def settle(self) -> None:
        """Wait until every accepted event has been processed."""
        await self.line.settle()
        await self.server.inbox.drain()

    async def unfinished(self) -> int:
        """Stored events not processed: each would be retried by every recovery round."""
        async with unit_of_work(self.sessions) as session:
            query = select(func.count()).where(ProcessedEvent.processed_at.is_(None))
            return int(await session.scalar(query) or 0)

    async def counts(self, channel: str | None = None) -> dict[str, int]:
        """Rows in the tables webhooks may write, optionally of one channel."""
        found = {}
        async with unit_of_work(self.sessions) as session:
            for name, model in TABLES.items():
                where = [] if channel is None else [model.channel == channel]
                query = select(func.count()).select_from(model).where(*where)
                found[name] = int(await session.scalar(query) or 0)
        return found


@asynccontextmanager
async def fuzz_product(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FuzzProduct]:
    """Start the fakes and the product; stop all of it at the end."""
    telegram_fake, line_fake = FakeTelegram(), FakeLine()
    await telegram_fake.start()
    await line_fake.start()
    product = FuzzProduct(settings, sessions, telegram_fake, line_fake)
    await product.start()
    try:
        yield product
    finally:
        await product.server.stop()
        await line_fake.close()
        await telegram_fake.close()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


async def post(http: aiohttp.ClientSession, url: str, body: Body) -> int:
    """POST one body; its status, or a pseudo status when none came."""
    data: Any = _chunks(body.data) if body.chunked else body.data
    try:
        async with http.post(url, data=data, headers=body.headers, timeout=TIMEOUT) as response:
            await response.read()
            return response.status
    except aiohttp.ClientError:
        return DROPPED
    except TimeoutError:
        return TIMED_OUT


async def fire(
    base_url: str, bodies: Iterable[Body], *, concurrency: int = CONCURRENCY
) -> dict[str, Tally]:
    """Post every body to its endpoint, `concurrency` at a time; tally per endpoint."""
    tallies = {endpoint: Tally() for endpoint in ENDPOINTS}
    queue: Iterator[Body] = iter(bodies)
    started = time.monotonic()

    async def worker(http: aiohttp.ClientSession) -> None:
        for body in queue:  # workers share one iterator: bodies are made as they are sent
            if any(s == TIMED_OUT for t in tallies.values() for _, s in t.statuses):
                return  # the server stopped answering: report that rather than wait it out
            status = await post(http, f"{base_url}/webhooks/{body.endpoint}", body)
            tally = tallies[body.endpoint]
            tally.sent += 1
            tally.statuses[(body.kind, status)] += 1
            if status not in body.allowed:
                tally.wrong.append((body.kind, status, body.data[:200]))

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    for tally in tallies.values():
        tally.seconds = time.monotonic() - started
    return tallies


def interleave(
    product: FuzzProduct, phase: str, per_endpoint: int, *, seed: int
) -> Iterator[Body]:
    """A phase's bodies for both endpoints, alternating."""
    streams = [product.generator(e, seed=seed).bodies(phase, per_endpoint) for e in ENDPOINTS]
    for pair in zip(*streams, strict=True):
        yield from pair


async def storm(
    product: FuzzProduct, phase: str, per_endpoint: int, *, seed: int = 0
) -> dict[str, Tally]:
    """Fire one phase at both endpoints and wait until what was accepted is processed."""
    tallies = await fire(product.base_url, interleave(product, phase, per_endpoint, seed=seed))
    await product.settle()
    return tallies


async def get_status(url: str) -> int:
    """GET a URL; its status."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


async def test_fuzzed_webhooks_never_fail_store_nothing_invalid_and_still_answer(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    per_endpoint = int(os.environ.get("EAP_FUZZ_BODIES", DEFAULT_BODIES))
    invalid_count = per_endpoint // 2
    caplog.set_level(logging.WARNING)
    async with fuzz_product(settings, sessions) as product:
        empty = await product.counts()
        invalid = await storm(product, INVALID, invalid_count)
        assert await product.counts() == empty == {name: 0 for name in TABLES}
        weird = await storm(product, WEIRD, per_endpoint - invalid_count, seed=1)

        for tally in (*invalid.values(), *weird.values()):
            assert tally.server_errors == 0, tally.statuses
            assert tally.wrong == []
        assert sum(t.sent for t in (*invalid.values(), *weird.values())) == 2 * per_endpoint
        assert await product.unfinished() == 0
        assert errors_logged(caplog.records) == {}
        assert await get_status(f"{product.base_url}/healthz") == 200
        assert await get_status(f"{product.base_url}/readyz") == 200
        await normal_turns_still_answered(product)


def errors_logged(records: Iterable[logging.LogRecord]) -> dict[str, int]:
    """Log records at ERROR or above, counted by logger, message and exception type."""
    seen: Counter[str] = Counter()
    for record in records:
        if record.levelno >= logging.ERROR:
            kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "-"
            seen[f"{record.name}: {record.getMessage()[:60]} ({kind})"] += 1
    return dict(seen)


async def normal_turns_still_answered(product: FuzzProduct) -> None:
    """After the storm, a new Telegram user and a new LINE friend get the privacy notice."""
    update = product.telegram_fake.text(9_000_001, "/start")
    update["update_id"] = NORMAL_UPDATE_ID
    webhooks = Webhooks(product.base_url, product.line_fake, product.line.clock)
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
            async with http.post(
                f"{product.base_url}/webhooks/telegram", json=update, headers=headers
            ) as response:
                assert response.status == 200
        zoe = user_id("zoe")
        assert await webhooks.post(webhooks.follow(zoe)) == 200
        await until(lambda: product.telegram_fake.shown_in(9_000_001), what="telegram reply")
        await product.line_fake.wait_for(lambda: bool(product.line_fake.accepted(to=zoe)))
    finally:
        await webhooks.close()
    shown = [s.text for s in product.telegram_fake.shown_in(9_000_001)]
    assert shown == [render("zh-TW", "privacy-notice")]
    line_messages = [m for c in product.line_fake.accepted(to=zoe) for m in c.body["messages"]]
    assert [m["text"] for m in line_messages] == [render("zh-TW", "privacy-notice")]


def test_bodies_are_reproducible_and_cover_every_kind() -> None:
    for endpoint in ENDPOINTS:
        for phase in PHASES:
            first = list(Generator(endpoint, secret="s", seed=7).bodies(phase, 60))
            again = list(Generator(endpoint, secret="s", seed=7).bodies(phase, 60))
            assert [b.data for b in first] == [b.data for b in again]
            kinds = set(Generator(endpoint, secret="s").kinds(phase))
            assert {b.kind for b in first} == kinds
            assert all(b.may_store == (phase == WEIRD) for b in first)

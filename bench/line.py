"""LINE end to end: events/s and latency of the product next to a plain SDK echo bot.

Each event is a signed webhook POST to the bot; it counts as done when the fake LINE API (this
process, 127.0.0.1) receives the bot's reply to that user. Each bot runs in its own process so
it has a core to itself; the load generator and the fake share this one.

    (a) product: Server + LineChannel on SQLite; 200 employees each follow, consent, link
        (org code, employee number, enrolment code), open the menu, check hours, two booking steps
    (b) echo:    line-bot-sdk's own async pattern: WebhookParser + AsyncMessagingApi.reply_message
    (c) bare:    an aiohttp handler that only parses the JSON (no reply: POST -> 200)

Run: python -m bench.line [--users 200] [--concurrency 40] [--profile FILE] [--postgres URL]
    [--json FILE]
Bounded: a fixed number of events per run, loopback only, a few tens of seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import Figure, cpu_seconds, write_figures

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-access-token"
KEY = "bench-pseudonym-key-0123456789"
BOT_ID = "U" + "0" * 32
EVENT_TIMEOUT = 15.0
ROOT = str(Path(__file__).resolve().parent.parent)
SERIAL = itertools.count(1)  # webhookEventIds unique across runs, or the product drops repeats


# The bots under test (each runs in a subprocess: python -m bench.line --serve NAME)


async def serve_product(port: int, api: str, database: str) -> Callable[[], Awaitable[None]]:
    """The product: migrate and seed the database, then the real Server with the LINE channel."""
    from bot.channels.line import LineChannel
    from bot.clock import utcnow
    from bot.runtime import Runtime, setup_logging
    from bot.server import Server
    from bot.settings import Settings
    from storage.db import create_engine, session_factory, unit_of_work
    from storage.demo import seed
    from storage.schema import migrate

    settings = Settings(
        database_url=database,
        pseudonym_key=KEY,
        line_channel_secret=SECRET,
        line_access_token=TOKEN,
        line_api_base=api,
    )
    setup_logging("INFO")  # as `serve` runs: one line per event and turn
    await migrate(database)
    engine = create_engine(database)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        await seed(session, key=KEY.encode(), now=utcnow())
    from bot.dispatch import Dispatcher

    runtime = Runtime(settings, engine, sessions, Dispatcher(sessions, settings))
    server = Server(runtime, [LineChannel(settings)])  # type: ignore[list-item]
    await server.start("127.0.0.1", port)

    async def stop() -> None:
        await server.stop()
        await engine.dispose()

    return stop


async def serve_echo(port: int, api: str, database: str) -> Callable[[], Awaitable[None]]:
    """A plain line-bot-sdk async echo bot, as in the SDK's aiohttp example."""
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        Configuration,
        ReplyMessageRequest,
        TextMessage,
    )
    from linebot.v3.webhook import WebhookParser
    from linebot.v3.webhooks import MessageEvent, PostbackEvent, TextMessageContent

    parser = WebhookParser(SECRET)
    client = AsyncApiClient(Configuration(access_token=TOKEN, host=api))
    messaging = AsyncMessagingApi(client)

    async def callback(request: web.Request) -> web.Response:
        body = await request.text()
        events = parser.parse(body, request.headers["X-Line-Signature"])
        for event in events:
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                text = event.message.text
            elif isinstance(event, PostbackEvent):
                text = event.postback.data
            elif getattr(event, "reply_token", None):
                text = "hello"
            else:
                continue
            await messaging.reply_message(
                ReplyMessageRequest(
                    reply_token=event.reply_token, messages=[TextMessage(text=text)]
                )
            )
        return web.Response(text="OK")

    return await _serve_app(port, callback, client.close)


async def serve_bare(port: int, api: str, database: str) -> Callable[[], Awaitable[None]]:
    """An aiohttp handler that only parses the JSON body."""

    async def callback(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.Response(text="OK")

    async def nothing() -> None:
        return None

    return await _serve_app(port, callback, nothing)


async def _serve_app(
    port: int,
    handler: Callable[[web.Request], Awaitable[web.Response]],
    close: Callable[[], Awaitable[None]],
) -> Callable[[], Awaitable[None]]:
    app = web.Application()
    app.router.add_post("/webhooks/line", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    async def stop() -> None:
        await close()
        await runner.cleanup()

    return stop


BOTS = {"product": serve_product, "echo": serve_echo, "bare": serve_bare}


async def serve(name: str, port: int, api: str, database: str, profile: str | None) -> None:
    """Run one bot until SIGTERM; print 'ready' once it listens."""
    profiler = None
    if profile:
        from pyinstrument import Profiler  # profiling only: pip install pyinstrument

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    stop = await BOTS[name](port, api, database)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    print("ready", flush=True)
    await done.wait()
    await stop()
    if profiler is not None:
        profiler.stop()
        report = profiler.output_text(unicode=True, show_all=False)
        await asyncio.to_thread(Path(profile or "").write_text, report)


# The load: users each sending a script of events, waiting for each answer


def script(number: int) -> list[tuple[str, str]]:
    """One employee's events: follow, consent, link, menu, hours, two booking steps."""
    from storage.demo import demo_enrolment_code

    return [
        ("follow", ""),
        ("postback", "consent:yes:zh-TW"),
        ("text", "DEMO"),
        ("text", f"E{number:04d}"),
        ("text", demo_enrolment_code(KEY.encode(), f"E{number:04d}")),
        ("postback", "m"),
        ("postback", "hrs"),
        ("postback", "bk"),
        ("postback", "bk:d:psychology"),
    ]


def user_id(number: int) -> str:
    return f"U{number:032x}"


def event(kind: str, value: str, user: str, reply_token: str, serial: int) -> dict[str, Any]:
    """A webhook event as LINE sends it."""
    base: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"01BENCH{serial:019d}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
    }
    if kind == "text":
        base["type"] = "message"
        base["message"] = {"id": str(serial), "type": "text", "text": value, "quoteToken": "q"}
    elif kind == "postback":
        base["postback"] = {"data": value}
    elif kind == "follow":
        base["follow"] = {"isUnblocked": False}
    return base


@dataclass
class Result:
    """What one run measured."""

    name: str
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    lost: int = 0
    cpu_seconds: float = 0.0  # the bot process's CPU time (user + system) over the run

    @property
    def rate(self) -> float:
        """Events per second, end to end."""
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The bot's CPU milliseconds per event: 1000 over it is what one core could do."""
        return self.cpu_seconds * 1000 / self.events if self.events else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    if not values:
        return 0.0
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000
        if len(values) > 1
        else values[0] * 1000
    )


async def drive(
    url: str, fake: Any, users: range, concurrency: int, wait_reply: bool, name: str
) -> Result:
    """Send every user's script, users in parallel up to `concurrency`, events in order."""
    from tests.fake_line import sign

    waiting: dict[str, asyncio.Future[float]] = {}

    def on_accepted(call: Any) -> None:
        future = waiting.pop(call.to or "", None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    fake.on_accepted = on_accepted
    result = Result(name)
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_user(number: int) -> None:
            user = user_id(number)
            async with gate:
                for kind, value in script(number):
                    body = json.dumps(
                        {
                            "destination": BOT_ID,
                            "events": [
                                event(
                                    kind, value, user, fake.issue_reply_token(user), next(SERIAL)
                                )
                            ],
                        }
                    ).encode()
                    headers = {"X-Line-Signature": sign(SECRET, body)}
                    future = asyncio.get_running_loop().create_future()
                    waiting[user] = future
                    started = time.perf_counter()
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        assert response.status == 200, response.status
                    acked = time.perf_counter()
                    result.acks.append(acked - started)
                    done = acked
                    if wait_reply:
                        try:
                            done = await asyncio.wait_for(future, EVENT_TIMEOUT)
                        except TimeoutError:
                            result.lost += 1
                            continue
                    waiting.pop(user, None)
                    result.latencies.append(done - started)
                    result.events += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_user(n) for n in users))
        result.seconds = time.perf_counter() - began
    return result


async def run_bot(
    name: str,
    fake: Any,
    users: range,
    concurrency: int,
    profile: str | None,
    database: str | None = None,
) -> Result:
    """Start a bot in its own process, warm it up, measure it, stop it."""
    from tests.fake_line import free_port

    port = free_port()
    folder = tempfile.mkdtemp(prefix="eap-bench-")
    database = database or f"sqlite+aiosqlite:///{folder}/bench.db"
    command = [sys.executable, "-m", "bench.line", "--serve", name, "--port", str(port)]
    command += ["--api", fake.url, "--database", database]
    if profile and name == "product":
        command += ["--profile", profile]
    log = open(f"{folder}/bot.log", "wb")  # noqa: ASYNC230 - a local file, once per run
    env = {**os.environ, "PYTHONPATH": ROOT}
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=log, env=env
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
        assert line.strip() == b"ready", f"{name} did not start; see {folder}/bot.log"
        url = f"http://127.0.0.1:{port}/webhooks/line"
        warm = range(users.stop + 1000, users.stop + 1000 + concurrency)
        await drive(url, fake, warm, concurrency, name != "bare", name)
        before = cpu_seconds(process.pid) or 0.0
        result = await drive(url, fake, users, concurrency, name != "bare", name)
        result.cpu_seconds = (cpu_seconds(process.pid) or 0.0) - before
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=60)
        log.close()
    shutil.rmtree(folder)  # kept when the run failed, for its bot.log
    return result


def table(results: list[Result]) -> str:
    """The results side by side, with ratios to the echo bot."""
    echo = next((r for r in results if r.name == "echo"), None)
    lines = [
        f"{'bot':<10}{'events':>8}{'lost':>6}{'events/s':>10}{'vs echo':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'ack p50':>9}{'ack p99':>9}{'CPU ms/ev':>10}"
    ]
    for r in results:
        ratio = f"{r.rate / echo.rate:.2f}x" if echo and echo.rate else "-"
        lines.append(
            f"{r.name:<10}{r.events:>8}{r.lost:>6}{r.rate:>10.1f}{ratio:>9}"
            f"{percentile(r.latencies, 50):>9.1f}{percentile(r.latencies, 99):>9.1f}"
            f"{percentile(r.acks, 50):>9.1f}{percentile(r.acks, 99):>9.1f}{r.cpu_ms:>10.2f}"
        )
    return "\n".join(lines)


async def postgres_database(base: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A fresh PostgreSQL database next to `base` (dropped by the returned function)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import create_engine

    name = f"eap_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(sql))
        await engine.dispose()

    await admin(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    return url, lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def figures(results: list[Result]) -> list[Figure]:
    """The figures `python -m bench` collects: rate, latencies, lost events, ratios."""
    out = []
    for r in results:
        out += [
            Figure(f"{r.name}: events/s", r.rate, "/s"),
            Figure(f"{r.name}: p50", percentile(r.latencies, 50), "ms"),
            Figure(f"{r.name}: p99", percentile(r.latencies, 99), "ms"),
            Figure(f"{r.name}: CPU per event", r.cpu_ms, "ms"),
            Figure(f"{r.name}: lost", r.lost, "", must_be_zero=True),
        ]
    by_name = {r.name: r for r in results}
    product = by_name.get("product")
    for other in ("echo", "bare"):
        if product and other in by_name and by_name[other].rate:
            out.append(Figure(f"ratio product/{other}", product.rate / by_name[other].rate, "x"))
    return out


async def main(
    users: int,
    concurrency: int,
    profile: str | None,
    postgres: str | None,
    json_path: str | None = None,
) -> None:
    """Measure the bots against one fake LINE API and print the table."""
    from tests.fake_line import FakeLine

    fake = FakeLine(access_token=TOKEN, validate=False)  # measure the bots, not the checks
    await fake.start()
    people = range(1, users + 1)
    fake.profiles = {user_id(n): "zh-TW" for n in range(1, users + 2000)}
    results = []
    try:
        for name in ("product", "echo", "bare"):
            results.append(await run_bot(name, fake, people, concurrency, profile))
            fake.calls.clear()
        if postgres:
            database, drop = await postgres_database(postgres)
            try:
                result = await run_bot("product", fake, people, concurrency, None, database)
            finally:
                await drop()
            result.name = "product-pg"
            results.insert(1, result)
    finally:
        await fake.close()
    print(f"{users} users x {len(script(1))} events, {concurrency} users at a time")
    print(table(results))
    print("e2e: signed POST until the fake LINE API has the reply (bare: until the 200);")
    print("ack: signed POST until the bot's 200.")
    write_figures(json_path, figures(results), users=users, concurrency=concurrency)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.line", description=__doc__)
    parser.add_argument("--users", type=int, default=200, help="employees (at most 200)")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--profile", help="write a pyinstrument profile of the product here")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the product on PostgreSQL (a fresh database is made next to URL)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 users")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    parser.add_argument("--serve", choices=sorted(BOTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.serve:
        asyncio.run(serve(args.serve, args.port, args.api, args.database, args.profile))
    else:
        users = 20 if args.quick else min(args.users, 200)
        asyncio.run(main(users, args.concurrency, args.profile, args.postgres, args.json))

"""Telegram end to end: updates/s and latency of the product next to plain PTB echo bots.

Each update is a webhook POST to the bot; it counts as done when the fake Bot API (this process,
127.0.0.1) receives the bot's message to that chat (a send or an edit). Each bot runs in its own
process so it has a core to itself; the load generator and the fake share this one.

    (a) product: Server + TelegramChannel on SQLite; 150 employees each /start, consent, link
        (org code, employee number, enrolment code), /menu, check hours, two booking steps
    (b) echo:    a plain python-telegram-bot echo bot (Application without Updater, fed from an
        aiohttp route as in PTB's customwebhookbot example), default HTTPXRequest transport
    (c) echo:    the same bot on bot.channels.telegram_request.AiohttpRequest
    (b2), (c2):  (b) and (c) with concurrent_updates(True), so 40 replies are in flight at once
    (d) bare:    an aiohttp handler that only parses the JSON (no reply: POST -> 200)
    (e) raw:     the least a replying bot can do: parse, answer 200, then POST sendMessage with
                 a shared aiohttp session, no SDK and no storage; the most this harness
                 (load, fake API and bot on 2 cores) can show for any bot that replies

Run: python -m bench.telegram [--users 150] [--concurrency 40] [--profile FILE] [--json FILE]
Bounded: a fixed number of updates per run, loopback only, well under three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import Figure, cpu_seconds, peak_rss_kb, write_figures

KEY = "bench-pseudonym-key-0123456789"
SECRET = "bench-webhook-secret"
PATH = "/webhooks/telegram"
UPDATE_TIMEOUT = 15.0
ROOT = str(Path(__file__).resolve().parent.parent)
BOTS = (
    "product",
    "echo-httpx",
    "echo-aiohttp",
    "echo-httpx-concurrent",
    "echo-aiohttp-concurrent",
    "bare",
    "raw",
)
LABELS = {
    "product": "(a) product",
    "echo-httpx": "(b) echo httpx",
    "echo-aiohttp": "(c) echo aiohttp",
    "echo-httpx-concurrent": "(b2) echo httpx *",
    "echo-aiohttp-concurrent": "(c2) echo aiohttp *",
    "bare": "(d) bare",
    "raw": "(e) raw reply",
}


# The bots under test (each runs in a subprocess: python -m bench.telegram --serve NAME)

Stop = Callable[[], Awaitable[None]]


async def serve_product(api: str, database: str) -> tuple[int, Stop]:
    """The product: migrate and seed SQLite, then the real Server with the Telegram channel."""
    from bot.channels.telegram import SendLimiter, TelegramChannel
    from bot.clock import utcnow
    from bot.dispatch import Dispatcher
    from bot.runtime import Runtime, setup_logging
    from bot.server import Server
    from bot.settings import Settings
    from storage.db import create_engine, session_factory, unit_of_work
    from storage.demo import seed
    from storage.schema import migrate
    from tests.fake_telegram import TOKEN

    settings = Settings(
        database_url=database,
        pseudonym_key=KEY,
        telegram_token=TOKEN,
        telegram_api_base=api,
        telegram_webhook_url="https://bench.invalid/webhooks/telegram",
        telegram_webhook_secret=SECRET,
    )
    setup_logging("INFO")  # as `serve` runs: one line per event and turn
    await migrate(database)
    engine = create_engine(database)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        await seed(session, key=KEY.encode(), now=utcnow())
    runtime = Runtime(settings, engine, sessions, Dispatcher(sessions, settings))
    # Telegram's own limits (30 messages/s, 1/s per chat) would cap any bot far below what is
    # measured here; the echo bots have none, so the product runs without them too.
    unlimited = SendLimiter(overall_per_second=None, per_chat_per_second=None)
    server = Server(runtime, [TelegramChannel(settings, limiter=unlimited)])
    await server.start("127.0.0.1", 0)

    async def stop() -> None:
        await server.stop()
        await engine.dispose()

    return server.runner.addresses[0][1], stop


async def serve_echo(api: str, transport: str, concurrent: bool) -> tuple[int, Stop]:
    """A plain PTB echo bot: Application without Updater, fed from our own aiohttp route."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    from bot.channels.telegram_request import AiohttpRequest
    from tests.fake_telegram import TOKEN

    builder = Application.builder().token(TOKEN).base_url(f"{api}/bot").updater(None)
    if concurrent:  # PTB handles one update at a time unless told otherwise
        builder = builder.concurrent_updates(True)
    if transport == "aiohttp":
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest())
    application = builder.build()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application.add_handler(MessageHandler(filters.TEXT, echo))

    async def webhook(request: web.Request) -> web.Response:
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return web.Response()

    await application.initialize()
    await application.start()

    async def close() -> None:
        await application.stop()
        await application.shutdown()

    return await _serve_app(webhook, close)


async def serve_bare(api: str, database: str) -> tuple[int, Stop]:
    """An aiohttp handler that only parses the JSON body."""

    async def webhook(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.Response()

    async def nothing() -> None:
        return None

    return await _serve_app(webhook, nothing)


async def serve_raw(api: str) -> tuple[int, Stop]:
    """Parse, answer 200, then send the echo with plain aiohttp (the harness's ceiling)."""
    from tests.fake_telegram import TOKEN

    client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    url = f"{api}/bot{TOKEN}/sendMessage"
    tasks: set[asyncio.Task[None]] = set()

    async def reply(update: dict[str, Any]) -> None:
        message = update["message"]
        body = {"chat_id": message["chat"]["id"], "text": message["text"]}
        async with client.post(url, json=body) as response:
            await response.read()

    async def webhook(request: web.Request) -> web.Response:
        task = asyncio.create_task(reply(json.loads(await request.read())))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response()

    async def close() -> None:
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()

    return await _serve_app(webhook, close)


async def _serve_app(
    handler: Callable[[web.Request], Awaitable[web.Response]], close: Stop
) -> tuple[int, Stop]:
    app = web.Application()
    app.router.add_post(PATH, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()

    async def stop() -> None:
        await close()
        await runner.cleanup()

    return runner.addresses[0][1], stop


async def start_bot(name: str, api: str, database: str) -> tuple[int, Stop]:
    """Start one of the bots; return its port and how to stop it."""
    if name == "product":
        return await serve_product(api, database)
    if name.startswith("echo-"):
        transport = name.split("-")[1]
        return await serve_echo(api, transport, concurrent=name.endswith("-concurrent"))
    if name == "raw":
        return await serve_raw(api)
    return await serve_bare(api, database)


async def serve(name: str, api: str, database: str, profile: str | None) -> None:
    """Run one bot until SIGTERM; print 'ready PORT' once it listens."""
    profiler = None
    if profile:
        from pyinstrument import Profiler  # profiling only: pip install pyinstrument

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    port, stop = await start_bot(name, api, database)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    print(f"ready {port}", flush=True)
    await done.wait()
    await stop()
    if profiler is not None:
        profiler.stop()
        text = profiler.output_text(unicode=True, show_all=False)
        await asyncio.to_thread(Path(profile or "").write_text, text)


# The load: users each sending a script of updates, waiting for each answer


def script(number: int, product: bool) -> list[tuple[str, str]]:
    """One employee's updates: /start, consent, link, menu, hours, two booking steps."""
    if not product:  # the echo bots answer text only
        return [("text", f"ping {number} {step}") for step in range(8)]
    from storage.demo import demo_enrolment_code

    return [
        ("text", "/start"),
        ("press", "consent:yes:zh-TW"),
        ("text", "DEMO"),
        ("text", f"E{number:04d}"),
        ("text", demo_enrolment_code(KEY.encode(), f"E{number:04d}")),
        ("text", "/menu"),
        ("press", "hrs"),
        ("press", "bk"),
        ("press", "bk:d:psychology"),
    ]


@dataclass
class Result:
    """What one run measured."""

    name: str
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    lost: int = 0
    peak_rss_kb: int = 0
    cpu_seconds: float = 0.0  # the bot process's CPU time (user + system) over the run

    @property
    def rate(self) -> float:
        """Updates per second, end to end."""
        return self.updates / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The bot's CPU milliseconds per update: 1000 over it is what one core could do."""
        return self.cpu_seconds * 1000 / self.updates if self.updates else 0.0


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def drive(url: str, fake: Any, users: range, concurrency: int, name: str) -> Result:
    """Send every user's script, users in parallel up to `concurrency`, updates in order."""
    waiting: dict[int, asyncio.Future[float]] = {}

    def on_shown(shown: Any) -> None:
        future = waiting.pop(shown.chat_id, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    fake.on_shown = on_shown
    result = Result(name)
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    wait_reply = name != "bare"

    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_user(number: int) -> None:
            fake.user(number)
            async with gate:
                for kind, value in script(number, name == "product"):
                    update = (
                        fake.text(number, value) if kind == "text" else fake.press(number, value)
                    )
                    future = asyncio.get_running_loop().create_future()
                    waiting[number] = future
                    started = time.perf_counter()
                    async with session.post(url, data=json.dumps(update), headers=headers) as r:
                        await r.read()
                        assert r.status == 200, r.status
                    acked = time.perf_counter()
                    result.acks.append(acked - started)
                    done = acked
                    if wait_reply:
                        try:
                            done = await asyncio.wait_for(future, UPDATE_TIMEOUT)
                        except TimeoutError:
                            result.lost += 1
                            break  # the rest of this user's script depends on the answer
                    waiting.pop(number, None)
                    result.latencies.append(done - started)
                    result.updates += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_user(n) for n in users))
        result.seconds = time.perf_counter() - began
    return result


@dataclass
class Launched:
    """A bot running in its own process."""

    url: str
    pid: int


@asynccontextmanager
async def launch(
    name: str, api: str, database: str | None = None, profile: str | None = None
) -> AsyncIterator[Launched]:
    """Start a bot in its own process (a fresh SQLite file unless `database`); stop it after."""
    folder = tempfile.mkdtemp(prefix="eap-bench-telegram-")
    database = database or f"sqlite+aiosqlite:///{folder}/bench.db"
    command = [sys.executable, "-m", "bench.telegram", "--serve", name]
    command += ["--api", api, "--database", database]
    if profile and name == "product":
        command += ["--profile", profile]
    log = open(os.path.join(folder, "bot.log"), "wb")  # noqa: ASYNC230 - closed below
    env = {**os.environ, "PYTHONPATH": ROOT}
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=log, env=env
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=120)).split()
        assert line[:1] == [b"ready"], f"{name} did not start; see {folder}/bot.log"
        yield Launched(f"http://127.0.0.1:{int(line[1])}{PATH}", process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=60)
        log.close()
        if process.returncode == 0:  # keep the folder (and bot.log) only when something broke
            shutil.rmtree(folder, ignore_errors=True)


async def run_bot(
    name: str,
    fake: Any,
    users: range,
    concurrency: int,
    profile: str | None,
    product_database: str | None,
) -> Result:
    """Start a bot in its own process, warm it up, measure it, stop it."""
    async with launch(name, fake.url, product_database, profile) as bot:
        # Warm up on employees outside the measured range (E0002-E0041; measured: E0051 on).
        warm = range(2, 42) if name == "product" else range(10**6, 10**6 + 40)
        await drive(bot.url, fake, warm, 40, name)
        before = cpu_seconds(bot.pid) or 0.0
        result = await drive(bot.url, fake, users, concurrency, name)
        result.cpu_seconds = (cpu_seconds(bot.pid) or 0.0) - before
        result.peak_rss_kb = peak_rss_kb(bot.pid) or 0
        return result


def ratios(results: list[Result]) -> dict[str, float]:
    """The product's updates/s over the echo bot's and the bare handler's, and transport gains."""
    by_name = {r.name: r for r in results}
    found = {}
    product = by_name.get("product")
    for other in ("echo-httpx", "bare"):
        if product and other in by_name and by_name[other].rate:
            found[f"(a)/{LABELS[other].split()[0]}"] = product.rate / by_name[other].rate
    for httpx_bot, aiohttp_bot in (BOTS[1:3], BOTS[3:5]):
        if httpx_bot in by_name and aiohttp_bot in by_name and by_name[httpx_bot].rate:
            pair = f"{LABELS[aiohttp_bot].split()[0]}/{LABELS[httpx_bot].split()[0]}"
            found[pair] = by_name[aiohttp_bot].rate / by_name[httpx_bot].rate
    raw, echo = by_name.get("raw"), by_name.get("echo-httpx")
    if raw and echo and echo.rate:  # the highest (a)/(b) this machine could show at all
        found["(e)/(b)"] = raw.rate / echo.rate
    return found


def table(results: list[Result]) -> str:
    """The results side by side, with the product's ratios to the echo bot and to bare."""
    lines = [
        f"{'bot':<21}{'updates':>8}{'lost':>6}{'updates/s':>11}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'ack p50':>9}{'ack p99':>9}{'CPU ms/upd':>11}"
        f"{'peak RSS MB':>12}"
    ]
    for r in results:
        lines.append(
            f"{LABELS[r.name]:<21}{r.updates:>8}{r.lost:>6}{r.rate:>11.1f}"
            f"{percentile(r.latencies, 50):>9.1f}{percentile(r.latencies, 99):>9.1f}"
            f"{percentile(r.acks, 50):>9.1f}{percentile(r.acks, 99):>9.1f}"
            f"{r.cpu_ms:>11.2f}{r.peak_rss_kb / 1024:>12.1f}"
        )
    for pair, ratio in ratios(results).items():
        label = "updates/s" if pair.startswith("(a)") else "aiohttp transport gain"
        if pair == "(e)/(b)":
            label = "harness ceiling (the most any replying bot shows over (b))"
        lines.append(f"{pair} {label}: {ratio:.2f}")
    return "\n".join(lines)


def figures(results: list[Result]) -> list[Figure]:
    """The figures `python -m bench` collects: rate, latencies, lost updates, ratios."""
    out = []
    for r in results:
        label = LABELS[r.name]
        out += [
            Figure(f"{label}: updates/s", r.rate, "/s"),
            Figure(f"{label}: p50", percentile(r.latencies, 50), "ms"),
            Figure(f"{label}: p99", percentile(r.latencies, 99), "ms"),
            Figure(f"{label}: CPU per update", r.cpu_ms, "ms"),
            Figure(f"{label}: lost", r.lost, "", must_be_zero=True),
        ]
    out += [Figure(f"ratio {pair}", ratio, "x") for pair, ratio in ratios(results).items()]
    return out


async def main(
    users: int,
    concurrency: int,
    profile: str | None,
    bots: list[str],
    product_database: str | None,
    json_path: str | None = None,
) -> None:
    """Measure the bots against one fake Bot API and print the table."""
    from tests.fake_telegram import BUILTIN, TOKEN, Contract, FakeTelegram

    fake = FakeTelegram(TOKEN, contract=Contract(BUILTIN, from_file=False))  # light checks
    await fake.start()
    people = range(51, 51 + users)  # the demo roster: E0001-E0200
    results = []
    try:
        for name in bots:
            result = await run_bot(name, fake, people, concurrency, profile, product_database)
            results.append(result)
            fake.calls.clear()
            fake.shown.clear()
    finally:
        await fake.close()
    steps = len(script(1, product=True))
    print(f"{users} users x {steps} updates, {concurrency} users at a time; {os.cpu_count()} CPUs")
    print(table(results))
    print("e2e: webhook POST until the fake Bot API has the bot's message (bare: until the 200);")
    print("ack: webhook POST until the bot's 200. * concurrent_updates(True).")
    print("The product's send limiter is off: Telegram's 30/s would cap every bot (see code).")
    write_figures(json_path, figures(results), users=users, concurrency=concurrency)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram", description=__doc__)
    parser.add_argument("--users", type=int, default=150, help="employees (at most 150)")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--profile", help="write a pyinstrument profile of the product here")
    parser.add_argument("--bots", default=",".join(BOTS), help="which bots, comma-separated")
    parser.add_argument(
        "--product-database",
        help="an empty database for the product, e.g. postgresql+asyncpg://... (default: a "
        "fresh SQLite file); it is migrated and seeded",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 users")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    parser.add_argument("--serve", choices=BOTS, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    args = _arguments()
    if args.serve:
        asyncio.run(serve(args.serve, args.api, args.database, args.profile))
    else:
        chosen = [b for b in args.bots.split(",") if b in BOTS]
        users = 20 if args.quick else min(args.users, 150)
        asyncio.run(
            main(users, args.concurrency, args.profile, chosen, args.product_database, args.json)
        )

"""Scale-out: the deploy/ setup (nginx, web processes, workers, PostgreSQL) with 1 and 2 of each.

    web:      updates/s end to end and acknowledgement latency through nginx (TLS, the recipe
              in deploy/nginx.conf) with 1 and with 2 web processes, one worker delivering;
              employees each /start, consent, link, /menu, check hours and take two booking
              steps (as bench.telegram), 40 at a time; end to end = webhook POST until the fake
              Bot API shows the bot's answer, ack = until nginx answers 200
    delivery: messages/s the outbox is delivered at with 1 and with 2 workers: N messages to
              many chats are queued at once (a few per chat, in order), then timed until the
              fake Bot API has them all; also counts repeats and messages out of their order

Every process runs as `serve --role` does, but without Telegram's send limits (30/s a process),
which would cap every figure (as in bench.telegram). Needs PostgreSQL (--postgres, or
EAP_BENCH_POSTGRES_URL / EAP_TEST_POSTGRES_URL) and nginx; each run uses a fresh database,
analysed before measuring. Workers look for due messages every second, so the delivery time
includes up to one second before the first round.

Run: python -m bench.scaleout [--users 100] [--messages 3000]; from code: run(...) -> dict.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PG_URL, Figure, write_figures
from tests import nginx_cluster as cluster

KEY = "bench-pseudonym-key-0123456789"
CHAT = 8_000_000  # chat id of employee n (web) or recipient n (delivery): CHAT + n
WARM_UP = range(21, 51)  # employees E0021-E0050 warm each setup up; measured: E0051 on
POSTGRES_ENV = ("EAP_BENCH_POSTGRES_URL", "EAP_TEST_POSTGRES_URL")
NUMBERED = re.compile(r"#(\d+)$")


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def serve_command(role: str) -> list[str]:
    """This module in `--serve ROLE` mode: the product's Server without send limits."""
    return [sys.executable, "-m", "bench.scaleout", "--serve", role]


async def serve(role: str) -> None:
    """Run one web or worker process until SIGTERM, as `serve --role` does, limits off."""
    from bot.channels.telegram import SendLimiter, TelegramChannel
    from bot.runtime import open_runtime, setup_logging
    from bot.server import Server
    from bot.settings import load_settings

    settings = load_settings()
    setup_logging(settings.log_level, settings.log_format)
    done = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, done.set)
    async with open_runtime(settings) as runtime:
        unlimited = SendLimiter(overall_per_second=None, per_chat_per_second=None)
        server = Server(runtime, [TelegramChannel(settings, limiter=unlimited)], role)
        await server.start(settings.host, settings.port)
        await done.wait()
        await server.stop()


async def _prepared_database(base: str, *, demo: bool) -> str:
    """A fresh database, migrated, with the demo organisation when asked."""
    from bot.clock import utcnow
    from storage.db import create_engine, session_factory, unit_of_work
    from storage.demo import seed
    from storage.schema import migrate

    url = await cluster.create_database(base, "eap_bench_scaleout")
    await migrate(url)
    if demo:
        engine = create_engine(url)
        async with unit_of_work(session_factory(engine)) as session:
            await seed(session, key=KEY.encode(), now=utcnow())
        await engine.dispose()
    return url


async def _analyze(url: str) -> None:
    """Refresh the planner's statistics, as autovacuum does within a minute of a bulk change.

    A fresh database has none: the outbox claim then plans for an empty table and takes
    seconds a round with thousands of rows waiting; a live database is analysed already.
    """
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
    await engine.dispose()


def _light_fake() -> Any:
    """The fake Bot API with its built-in contract (light checks, as bench.telegram)."""
    from tests.fake_telegram import BUILTIN, TOKEN, Contract, FakeTelegram

    return FakeTelegram(TOKEN, contract=Contract(BUILTIN, from_file=False))


async def _start(
    fake: Any, url: str, folder: Path, roles: list[tuple[str, str]]
) -> list[cluster.BotProcess]:
    bots = [
        await cluster.start_bot(
            name,
            role,
            fake=fake,
            database_url=url,
            key=KEY,
            folder=folder,
            command=serve_command(role),
        )
        for name, role in roles
    ]
    await cluster.wait_healthy(bots)
    return bots


async def web_throughput(
    base: str, webs: int, *, users: int, concurrency: int, folder: Path
) -> dict[str, Any]:
    """Updates/s and latencies of the employees' journeys through nginx to `webs` processes."""
    url = await _prepared_database(base, demo=True)
    fake = _light_fake()
    await fake.start()
    bots: list[cluster.BotProcess] = []
    nginx: cluster.Nginx | None = None
    try:
        roles = [("worker1", "worker")] + [(f"web{i}", "web") for i in range(1, webs + 1)]
        bots = await _start(fake, url, folder, roles)
        nginx = cluster.Nginx(folder / "nginx", [b.port for b in bots if b.role == "web"])
        public = await nginx.start()
        warm = {CHAT + n: cluster.journey(n, KEY) for n in WARM_UP}
        await cluster.Load(fake, public, concurrency=concurrency).run(warm)
        await _analyze(url)
        measured = {CHAT + n: cluster.journey(n, KEY) for n in range(51, 51 + users)}
        outcome = await cluster.Load(fake, public, concurrency=concurrency).run(measured)
    finally:
        if nginx is not None:
            nginx.stop()
        for bot in bots:
            bot.stop()
        await fake.close()
        await cluster.drop_database(base, url)
    return {
        "web_processes": webs,
        "workers": 1,
        "updates": len(outcome.latencies),
        "lost": len(outcome.lost),
        "resent": outcome.refused,
        "updates_per_s": round(outcome.rate, 1),
        "p50_ms": round(percentile(outcome.latencies, 50), 1),
        "p99_ms": round(percentile(outcome.latencies, 99), 1),
        "ack_p50_ms": round(percentile(outcome.acks, 50), 1),
        "ack_p99_ms": round(percentile(outcome.acks, 99), 1),
    }


async def _fill_outbox(url: str, messages: int, recipients: int) -> None:
    """Queue `messages` numbered messages, round robin over the recipients, in one commit."""
    from bot.clock import utcnow
    from handlers.types import Reply, to_payload
    from storage import outbox
    from storage.db import create_engine, session_factory, unit_of_work

    engine = create_engine(url)
    now = utcnow()
    async with unit_of_work(session_factory(engine)) as session:
        for number in range(messages):
            await outbox.enqueue(
                session,
                channel="telegram",
                recipient=str(CHAT + number % recipients),
                locale="en",
                payload=to_payload([Reply("about-org-line", phone=f"#{number}")]),
                key=f"bench:{number}",
                now=now,
            )
    await engine.dispose()


def _out_of_order(fake: Any, recipients: int) -> int:
    """Messages shown in a chat after a later-queued one (each chat's order must hold)."""
    late = 0
    for chat in range(CHAT, CHAT + recipients):
        numbers = [int(m.group(1)) for s in fake.shown_in(chat) if (m := NUMBERED.search(s.text))]
        late += sum(1 for a, b in itertools.pairwise(numbers) if b < a)
    return late


async def delivery_rate(
    base: str, workers: int, *, messages: int, recipients: int, folder: Path
) -> dict[str, Any]:
    """Messages/s `workers` deliver a full outbox at, timed from the commit to the last one."""
    url = await _prepared_database(base, demo=False)
    fake = _light_fake()
    await fake.start()
    for chat in range(CHAT, CHAT + recipients):
        fake.user(chat)
    arrived = asyncio.Event()
    fake.on_shown = lambda _: arrived.set() if len(fake.shown) >= messages else None
    bots: list[cluster.BotProcess] = []
    try:
        roles = [(f"worker{i}", "worker") for i in range(1, workers + 1)]
        bots = await _start(fake, url, folder, roles)
        await _fill_outbox(url, messages, recipients)
        await _analyze(url)
        started = time.perf_counter()
        await asyncio.wait_for(arrived.wait(), timeout=600)
        seconds = time.perf_counter() - started
    finally:
        for bot in bots:
            bot.stop()
        await fake.close()
        await cluster.drop_database(base, url)
    return {
        "workers": workers,
        "messages": messages,
        "recipients": recipients,
        "seconds": round(seconds, 2),
        "messages_per_s": round(messages / seconds, 1),
        "repeated": len(fake.shown) - messages,
        "out_of_order": _out_of_order(fake, recipients),
    }


async def measure(
    *,
    users: int = 100,
    concurrency: int = 40,
    messages: int = 3000,
    recipients: int = 600,
    postgres: str | None = None,
) -> dict[str, Any]:
    """Both measurements with 1 and 2 processes; {"skipped": why} without PostgreSQL or nginx."""
    base = postgres or next((os.environ[e] for e in POSTGRES_ENV if os.environ.get(e)), PG_URL)
    if not base:
        return {"bench": "scaleout", "skipped": f"needs PostgreSQL: set {POSTGRES_ENV[0]}"}
    if cluster.nginx_binary() is None:
        return {"bench": "scaleout", "skipped": "needs nginx (apt-get install nginx)"}
    users = min(users, 150)  # the demo roster: E0051-E0200
    results: dict[str, Any] = {"bench": "scaleout", "cpus": os.cpu_count(), "web": []}
    results["delivery"] = []
    with tempfile.TemporaryDirectory(prefix="eap-bench-scaleout-") as temp:
        folder = Path(temp)
        for count in (1, 2):
            step = folder / f"web{count}"
            step.mkdir()
            results["web"].append(
                await web_throughput(
                    base, count, users=users, concurrency=concurrency, folder=step
                )
            )
        for count in (1, 2):
            step = folder / f"delivery{count}"
            step.mkdir()
            results["delivery"].append(
                await delivery_rate(
                    base, count, messages=messages, recipients=recipients, folder=step
                )
            )
    return results


def run(
    *,
    users: int = 100,
    concurrency: int = 40,
    messages: int = 3000,
    recipients: int = 600,
    postgres: str | None = None,
) -> dict[str, Any]:
    """Run the scale-out bench in a new event loop and return its figures (see measure())."""
    return asyncio.run(
        measure(
            users=users,
            concurrency=concurrency,
            messages=messages,
            recipients=recipients,
            postgres=postgres,
        )
    )


def table(results: dict[str, Any]) -> str:
    """The figures as two small tables."""
    if "skipped" in results:
        return f"scaleout skipped: {results['skipped']}"
    lines = [
        f"{'web processes':<15}{'updates':>8}{'lost':>6}{'updates/s':>11}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'ack p50':>9}{'ack p99':>9}"
    ]
    for r in results["web"]:
        lines.append(
            f"{r['web_processes']:<15}{r['updates']:>8}{r['lost']:>6}{r['updates_per_s']:>11}"
            f"{r['p50_ms']:>9}{r['p99_ms']:>9}{r['ack_p50_ms']:>9}{r['ack_p99_ms']:>9}"
        )
    lines.append("")
    lines.append(
        f"{'workers':<15}{'messages':>9}{'chats':>7}{'seconds':>9}{'msgs/s':>9}"
        f"{'repeated':>10}{'out of order':>14}"
    )
    for r in results["delivery"]:
        lines.append(
            f"{r['workers']:<15}{r['messages']:>9}{r['recipients']:>7}{r['seconds']:>9}"
            f"{r['messages_per_s']:>9}{r['repeated']:>10}{r['out_of_order']:>14}"
        )
    return "\n".join(lines)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--users", type=int, default=100, help="employees (at most 150)")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--messages", type=int, default=3000, help="messages in the outbox")
    parser.add_argument("--recipients", type=int, default=600, help="chats they go to")
    parser.add_argument("--postgres", help="a PostgreSQL URL to create databases next to")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 users, 600 msgs")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    parser.add_argument("--serve", choices=("web", "worker"), help=argparse.SUPPRESS)
    return parser.parse_args()


def figures(results: dict[str, Any]) -> list[Figure]:
    """The results as figures for `python -m bench`."""
    out: list[Figure] = []
    for r in results.get("web", []):
        where = f"{r['web_processes']} web behind nginx"
        out += [
            Figure(f"{where}: updates/s", r["updates_per_s"], "/s"),
            Figure(f"{where}: e2e p99", r["p99_ms"], "ms"),
            Figure(f"{where}: ack p99", r["ack_p99_ms"], "ms"),
            Figure(f"{where}: lost", r["lost"], "", must_be_zero=True),
        ]
    for r in results.get("delivery", []):
        where = f"{r['workers']} worker(s) delivering"
        out += [
            Figure(f"{where}: messages/s", r["messages_per_s"], "/s"),
            Figure(f"{where}: repeated", r["repeated"], "", must_be_zero=True),
            Figure(f"{where}: out of order", r["out_of_order"], "", must_be_zero=True),
        ]
    return out


if __name__ == "__main__":
    args = _arguments()
    if args.serve:
        asyncio.run(serve(args.serve))
    else:
        quick = args.quick
        results = run(
            users=20 if quick else args.users,
            concurrency=args.concurrency,
            messages=600 if quick else args.messages,
            recipients=120 if quick else args.recipients,
            postgres=args.postgres,
        )
        print(f"{os.cpu_count()} CPUs; PostgreSQL; nginx (TLS) in front of the web processes")
        print(table(results))
        write_figures(args.json, figures(results), scaleout=results)

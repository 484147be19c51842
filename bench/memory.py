"""Memory: peak RSS of the product's server process after 10,000 Telegram updates.

The product (Server + TelegramChannel on SQLite, in its own process, as bench.telegram runs
it) links 150 demo employees with the bench.telegram script (1,350 updates), then the same
employees, 40 at a time, send /menu and /hours, each waiting for its answer, until the server
has handled --updates in all (spread over enough chats to stay under the flood guard's 20 per
10 s). Read from /proc: VmRSS once the server listens and after linking, VmRSS and VmHWM (the
peak) at the end; growth after linking shows whether memory keeps climbing with traffic.

Run: python -m bench.memory [--updates 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.common import Figure, peak_rss_kb, rss_kb, write_figures
from bench.telegram import SECRET, UPDATE_TIMEOUT, drive, launch

USERS = range(51, 201)  # the demo roster's E0051-E0200
COMMANDS = ("/menu", "/hours")


@dataclass
class Memory:
    """What the server process held."""

    updates: int
    linked_updates: int
    seconds: float
    start_rss_kb: int
    linked_rss_kb: int
    final_rss_kb: int
    peak_rss_kb: int
    lost: int


async def chat(url: str, fake: Any, users: range, updates: int, concurrency: int) -> int:
    """Closed loop: users send commands in turn, each waiting for its answer; return lost."""
    waiting: dict[int, asyncio.Future[None]] = {}

    def on_shown(shown: Any) -> None:
        future = waiting.pop(shown.chat_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    fake.on_shown = on_shown
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    turns = iter(range(updates))
    lost = 0
    async with aiohttp.ClientSession() as session:

        async def one_sender(mine: list[int]) -> None:
            nonlocal lost
            # The next turn goes to whichever sender is free; each sender takes its own users
            # in turn, so no chat outpaces the flood guard.
            for turn, user in zip(turns, itertools.cycle(mine), strict=False):
                future = asyncio.get_running_loop().create_future()
                waiting[user] = future
                body = json.dumps(fake.text(user, COMMANDS[turn % len(COMMANDS)]))
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                try:
                    await asyncio.wait_for(future, UPDATE_TIMEOUT)
                except TimeoutError:
                    waiting.pop(user, None)
                    lost += 1

        senders = min(concurrency, len(users))  # each sender has its own users
        await asyncio.gather(*(one_sender(list(users[w::senders])) for w in range(senders)))
    fake.on_shown = None
    return lost


async def measure(updates: int, users: int = len(USERS), concurrency: int = 40) -> Memory:
    """Link the employees, chat until `updates` in all, read the server's memory."""
    from tests.fake_telegram import BUILTIN, TOKEN, Contract, FakeTelegram

    fake = FakeTelegram(TOKEN, contract=Contract(BUILTIN, from_file=False))  # light checks
    await fake.start()
    try:
        async with launch("product", fake.url) as bot:
            started, start_rss = time.perf_counter(), rss_kb(bot.pid) or 0
            people = USERS[:users]
            linked = await drive(bot.url, fake, people, concurrency, "product")
            linked_rss = rss_kb(bot.pid) or 0
            rest = max(0, updates - linked.updates)
            lost = linked.lost + await chat(bot.url, fake, people, rest, concurrency)
            fake.shown.clear()  # the fake's own memory is not the bot's; keep this process lean
            return Memory(
                updates=linked.updates + rest,
                linked_updates=linked.updates,
                seconds=time.perf_counter() - started,
                start_rss_kb=start_rss,
                linked_rss_kb=linked_rss,
                final_rss_kb=rss_kb(bot.pid) or 0,
                peak_rss_kb=peak_rss_kb(bot.pid) or 0,
                lost=lost,
            )
    finally:
        await fake.close()


def figures(m: Memory) -> list[Figure]:
    """The figures `python -m bench` collects."""
    return [
        Figure(f"peak RSS after {m.updates} updates", m.peak_rss_kb / 1024, "MB"),
        Figure("RSS once listening", m.start_rss_kb / 1024, "MB"),
        Figure(f"RSS after linking ({m.linked_updates} updates)", m.linked_rss_kb / 1024, "MB"),
        Figure(f"RSS after {m.updates} updates", m.final_rss_kb / 1024, "MB"),
        Figure("updates unanswered", m.lost, "", must_be_zero=True),
    ]


def cli() -> None:
    """Parse the command line, run, print the figures, write them."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 60 users, 700 updates")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    users, updates = (60, 700) if args.quick else (len(USERS), args.updates)
    m = asyncio.run(measure(updates, users))
    print(
        f"server process after {m.updates} updates in {m.seconds:.0f} s: RSS once listening "
        f"{m.start_rss_kb / 1024:.1f} MB, after linking "
        f"{m.linked_rss_kb / 1024:.1f} MB, at the end {m.final_rss_kb / 1024:.1f} MB, "
        f"peak (VmHWM) {m.peak_rss_kb / 1024:.1f} MB; unanswered {m.lost}"
    )
    write_figures(args.json, figures(m))


if __name__ == "__main__":
    cli()

"""Webhook acknowledgement under a fixed offered load (open loop), since platforms re-send
slow webhooks.

The product (Server + TelegramChannel on SQLite, in its own process, as bench.telegram runs
it) first links 150 demo employees (the bench.telegram script, closed loop). Then, for each
rate, updates arrive on a fixed schedule, i/rate seconds after the start, whether or not earlier
ones were answered: linked employees in turn send /menu or /hours. Latencies count from the
scheduled time, so a slow bot cannot slow the load down (no coordinated omission).

    ack: scheduled time until the bot's HTTP 200 (what Telegram and LINE wait for)
    e2e: scheduled time until the fake Bot API has the bot's answer

Run: python -m bench.ackload [--rates 25 50 75] [--seconds 15] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import Figure, percentile_ms, write_figures
from bench.telegram import SECRET, drive, launch

USERS = range(51, 201)  # the demo roster's E0051-E0200, linked before the load
COMMANDS = ("/menu", "/hours")
REPLY_TIMEOUT = 30.0


@dataclass
class Load:
    """What one offered rate produced."""

    rate: float
    sent: int = 0
    seconds: float = 0.0
    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    refused: int = 0
    unanswered: int = 0
    unexpected: int = 0
    late_start: float = 0.0

    @property
    def achieved(self) -> float:
        """The rate the load generator actually offered."""
        return self.sent / self.seconds if self.seconds else 0.0

    def over(self, seconds: float) -> int:
        """How many acknowledgements took longer than `seconds`."""
        return sum(1 for a in self.acks if a > seconds)


class Answers:
    """Matches the fake's messages to the updates they answer: one each, in order per chat."""

    def __init__(self, load: Load) -> None:
        """Track the answers of one load."""
        self.load = load
        self.waiting: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self.all_in = asyncio.Event()

    def expect(self, user: int, due: float) -> None:
        """An update from `user`, scheduled at `due`, awaits its answer."""
        self.waiting[user].append(due)

    def refused(self, user: int, due: float) -> None:
        """The bot did not accept the update: no answer is coming."""
        self.load.refused += 1
        self.waiting[user].remove(due)
        self.check()

    def shown(self, shown: Any) -> None:
        """The fake Bot API received a message (its on_shown hook)."""
        queue = self.waiting.get(shown.chat_id)
        if not queue:
            self.load.unexpected += 1
            return
        self.load.answers.append(time.perf_counter() - queue.popleft())
        self.check()

    def check(self) -> None:
        """Note when every update sent has its answer (or was refused)."""
        if self.load.sent and not any(self.waiting.values()):
            self.all_in.set()


async def _send_all(
    url: str, fake: Any, load: Load, answers: Answers, seconds: float, people: range
) -> None:
    """Post each update at its scheduled time, without waiting for earlier ones."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def post(user: int, body: str, due: float) -> None:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    answers.refused(user, due)
            load.acks.append(time.perf_counter() - due)

        tasks = []
        start = time.perf_counter() + 0.05
        for i in range(round(load.rate * seconds)):
            due = start + i / load.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            load.late_start = max(load.late_start, -delay)
            user = people[i % len(people)]
            answers.expect(user, due)
            body = json.dumps(fake.text(user, COMMANDS[(i // len(people)) % len(COMMANDS)]))
            tasks.append(asyncio.create_task(post(user, body, due)))
        load.sent, load.seconds = len(tasks), time.perf_counter() - start
        await asyncio.gather(*tasks)


async def offer(url: str, fake: Any, rate: float, seconds: float, people: range) -> Load:
    """Send updates at `rate` per second for `seconds`, open loop; wait for every answer."""
    load = Load(rate)
    answers = Answers(load)
    fake.on_shown = answers.shown
    try:
        await _send_all(url, fake, load, answers, seconds, people)
        answers.check()
        await asyncio.wait_for(answers.all_in.wait(), REPLY_TIMEOUT)
    except TimeoutError:
        pass
    finally:
        fake.on_shown = None
    load.unanswered = sum(len(queue) for queue in answers.waiting.values())
    return load


async def measure(rates: list[float], seconds: float, users: int = len(USERS)) -> list[Load]:
    """Link the employees, then offer each rate in turn to one product process."""
    from tests.fake_telegram import BUILTIN, TOKEN, Contract, FakeTelegram

    fake = FakeTelegram(TOKEN, contract=Contract(BUILTIN, from_file=False))  # light checks
    await fake.start()
    try:
        async with launch("product", fake.url) as bot:
            linked = await drive(bot.url, fake, USERS[:users], 40, "product")
            assert linked.lost == 0, f"{linked.lost} updates unanswered while linking"
            return [await offer(bot.url, fake, rate, seconds, USERS[:users]) for rate in rates]
    finally:
        await fake.close()


def figures(loads: list[Load]) -> list[Figure]:
    """The figures `python -m bench` collects, per offered rate."""
    out = []
    for load in loads:
        where = f"{load.rate:g}/s offered"
        out += [
            Figure(f"{where}: ack p50", percentile_ms(load.acks, 50), "ms"),
            Figure(f"{where}: ack p99", percentile_ms(load.acks, 99), "ms"),
            Figure(f"{where}: ack max", max(load.acks, default=0.0) * 1000, "ms"),
            Figure(f"{where}: acks over 1 s", load.over(1.0), ""),
            Figure(f"{where}: answer p99", percentile_ms(load.answers, 99), "ms"),
            Figure(f"{where}: not 200", load.refused, "", must_be_zero=True),
            Figure(f"{where}: unanswered", load.unanswered, "", must_be_zero=True),
            Figure(f"{where}: answers to no update", load.unexpected, "", must_be_zero=True),
        ]
    return out


def table(loads: list[Load]) -> str:
    """One line per offered rate."""
    lines = [
        f"{'offered/s':>9}{'achieved':>9}{'updates':>8}{'ack p50':>9}{'ack p99':>9}"
        f"{'ack max':>9}{'>1 s':>6}{'ans p50':>9}{'ans p99':>9}{'not 200':>8}{'unanswered':>11}"
    ]
    for x in loads:
        lines.append(
            f"{x.rate:>9g}{x.achieved:>9.1f}{x.sent:>8}{percentile_ms(x.acks, 50):>9.0f}"
            f"{percentile_ms(x.acks, 99):>9.0f}{max(x.acks, default=0) * 1000:>9.0f}"
            f"{x.over(1.0):>6}{percentile_ms(x.answers, 50):>9.0f}"
            f"{percentile_ms(x.answers, 99):>9.0f}{x.refused:>8}{x.unanswered:>11}"
        )
    return "\n".join(lines)


def cli() -> None:
    """Parse the command line, run, print the table, write the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.ackload", description=__doc__)
    parser.add_argument("--rates", type=float, nargs="+", default=[25.0, 50.0, 75.0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per rate")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20/s for 3 s")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    rates, seconds, users = ([20.0], 3.0, 20) if args.quick else (args.rates, args.seconds, 150)
    loads = asyncio.run(measure(rates, seconds, users))
    print(f"{users} linked employees sending /menu and /hours; open loop, {seconds:g} s per rate")
    print(table(loads))
    print("ack: scheduled send until the 200; ans: until the fake Bot API has the answer (ms)")
    write_figures(args.json, figures(loads))


if __name__ == "__main__":
    cli()

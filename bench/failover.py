"""Scheduler failover: how long the workers are without a leader after the leader is SIGKILLed.

Two `bot.py serve --role worker` processes on a fresh PostgreSQL database; once one of them
says on /metrics that it is the scheduler leader, it is SIGKILLed and the survivor's /metrics
is polled every 50 ms until it says it leads. Workers try for the lock every
bot.leader.CHECK_EVERY seconds, so expect up to about that. Repeated --kills times, each with
two new processes. Needs PostgreSQL (--postgres, or EAP_BENCH_POSTGRES_URL); without it the
bench says so and reports nothing.

Run: python -m bench.failover [--kills 5] [--quick] [--postgres URL] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import PG_URL, Figure, postgres_available, scratch_postgres, write_figures

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-pseudonym-key-0123456789"
POLL = 0.05  # seconds between two looks at the survivor's /metrics
GIVE_UP = 30.0  # seconds without a leader that count as a failed takeover


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_worker(url: str, port: int) -> subprocess.Popen[bytes]:
    """`bot.py serve --role worker` on `url`, its /metrics on `port`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(EAP_DATABASE_URL=url, EAP_PSEUDONYM_KEY=KEY, EAP_PORT=str(port))
    return subprocess.Popen(
        [sys.executable, "bot.py", "serve", "--role", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def leads(port: int) -> bool:
    """Whether the process on `port` says it is the scheduler leader (False if not up yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return "eap_scheduler_leader 1.0" in response.read().decode()
    except OSError:
        return False


async def wait_for_leader(ports: list[int], seconds: float) -> int | None:
    """The port of the first process found leading within `seconds`, or None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for port in ports:
            if await asyncio.to_thread(leads, port):
                return port
        await asyncio.sleep(POLL)
    return None


async def one_takeover(url: str) -> float | None:
    """Seconds from the leader's SIGKILL until the other worker leads; None if it never did."""
    ports = [free_port(), free_port()]
    workers = {port: start_worker(url, port) for port in ports}
    try:
        leader = await wait_for_leader(ports, 120)  # includes both processes starting up
        if leader is None:
            raise RuntimeError("no worker became leader; is the database reachable?")
        workers[leader].send_signal(signal.SIGKILL)
        workers[leader].wait(timeout=10)
        killed = time.monotonic()
        [survivor] = [p for p in ports if p != leader]
        if await wait_for_leader([survivor], GIVE_UP) is None:
            return None
        return time.monotonic() - killed
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers.values():
            worker.wait(timeout=30)


async def measure(kills: int, base: str) -> list[float | None]:
    """Takeover times of `kills` failovers, each on two new workers over one fresh database."""
    from storage.schema import migrate

    async with scratch_postgres(base) as url:
        await migrate(url)
        return [await one_takeover(url) for _ in range(kills)]


def figures(takeovers: list[float | None]) -> list[Figure]:
    """The figures `python -m bench` collects: takeover times and takeovers that failed."""
    times = [t for t in takeovers if t is not None]
    out = [Figure("no leader within 30 s", len(takeovers) - len(times), "", must_be_zero=True)]
    if times:
        out[:0] = [
            Figure("takeover after SIGKILL", statistics.median(times), "s", samples=tuple(times)),
            Figure("takeover after SIGKILL: max", max(times), "s"),
        ]
    return out


def cli() -> None:
    """Parse the command line, measure, print the figures, write them."""
    parser = argparse.ArgumentParser(prog="python -m bench.failover", description=__doc__)
    parser.add_argument("--kills", type=int, default=5, help="failovers to time")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 failover")
    parser.add_argument("--postgres", default=PG_URL, help="a PostgreSQL URL to work next to")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    if not asyncio.run(postgres_available(args.postgres)):
        print("failover skipped: needs PostgreSQL (--postgres or EAP_BENCH_POSTGRES_URL)")
        write_figures(args.json, [], skipped="needs PostgreSQL")
        return
    takeovers = asyncio.run(measure(1 if args.quick else args.kills, args.postgres))
    shown = ", ".join("never" if t is None else f"{t:.2f} s" for t in takeovers)
    print(f"leader SIGKILLed {len(takeovers)} time(s); the other worker led after: {shown}")
    write_figures(args.json, figures(takeovers), takeovers=takeovers)


if __name__ == "__main__":
    cli()

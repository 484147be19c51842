"""Exactly one scheduler leader among workers on PostgreSQL, with failover."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot.leader import LeaderElection
from storage.db import create_engine

pytestmark = pytest.mark.skipif(
    not os.environ.get("EAP_TEST_POSTGRES_URL"), reason="needs PostgreSQL"
)


async def wait_for(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_one_leader_and_failover_when_it_dies(postgres_url: str) -> None:
    events: list[str] = []
    engines = [create_engine(postgres_url) for _ in range(3)]

    def election(name: str, engine) -> LeaderElection:
        async def elected() -> None:
            events.append(f"{name} elected")

        async def deposed() -> None:
            events.append(f"{name} deposed")

        return LeaderElection(engine, on_elected=elected, on_deposed=deposed, interval=0.1)

    workers = [election(f"w{i}", e) for i, e in enumerate(engines)]
    for worker in workers:
        worker.start()
    await wait_for(lambda: sum(w.is_leader for w in workers) == 1)
    await asyncio.sleep(0.5)
    assert sum(w.is_leader for w in workers) == 1
    leader = next(w for w in workers if w.is_leader)
    await leader.stop()
    await wait_for(lambda: sum(w.is_leader for w in workers if w is not leader) == 1, 3)
    assert len([e for e in events if e.endswith("elected")]) == 2
    for worker in workers:
        await worker.stop()
    for engine in engines:
        await engine.dispose()

"""Exactly one scheduler leader among workers on PostgreSQL, with failover."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot.clock import utcnow
from bot.leader import LeaderElection
from storage import events
from storage.db import create_engine, unit_of_work

needs_postgres = pytest.mark.skipif(
    not os.environ.get("EAP_TEST_POSTGRES_URL"), reason="needs PostgreSQL"
)


async def wait_for(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


@needs_postgres
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


async def test_keeping_the_lead_leaves_no_transaction_open(db_url: str, sessions) -> None:
    """Left open, SQLite's write lock was held for good and PostgreSQL idled in transaction."""

    async def nothing() -> None:
        pass

    engine = create_engine(db_url)
    election = LeaderElection(engine, on_elected=nothing, on_deposed=nothing)
    await election._check()  # elected
    await election._check()  # still holding it: the keep-alive
    assert election.is_leader
    assert election._connection is not None and not election._connection.in_transaction()
    async with unit_of_work(sessions) as session:  # waited 30 s, then failed, on SQLite
        await events.record(session, channel="telegram", event_id="1", payload={}, now=utcnow())
    await election.stop()
    await engine.dispose()

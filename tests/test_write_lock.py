"""SQLite's in-process write lock: first come, first served, urgent work ahead of the queue."""

from __future__ import annotations

import asyncio
import sqlite3

from sqlalchemy import text

from storage.db import WriteLock, create_engine, session_factory, unit_of_work


async def _job(lock: WriteLock, order: list[str], name: str, urgent: bool = False) -> None:
    async with lock.hold(urgent=urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_waiters_go_first_then_arrival_order() -> None:
    lock, order = WriteLock(), []
    holder = asyncio.Event()

    async def first() -> None:
        async with lock.hold():
            order.append("first")
            await holder.wait()

    tasks = [asyncio.create_task(first())]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(_job(lock, order, name)) for name in ("b", "c")]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(_job(lock, order, "urgent", urgent=True)))
    await asyncio.sleep(0)
    holder.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "urgent", "b", "c"]


async def test_a_cancelled_waiter_neither_runs_nor_blocks_the_rest() -> None:
    lock, order = WriteLock(), []
    holder = asyncio.Event()

    async def first() -> None:
        async with lock.hold():
            await holder.wait()

    head = asyncio.create_task(first())
    await asyncio.sleep(0)
    gone = asyncio.create_task(_job(lock, order, "gone"))
    after = asyncio.create_task(_job(lock, order, "after"))
    await asyncio.sleep(0)
    gone.cancel()
    holder.set()
    await asyncio.gather(head, after)
    assert gone.cancelled() and order == ["after"]
    async with lock.hold():  # free again
        order.append("again")
    assert order == ["after", "again"]


async def test_a_write_lock_held_by_another_process_is_waited_for_off_the_loop(tmp_path) -> None:
    """SQLite runs in the loop's thread: the wait must yield, or the holder (here released by
    a task on the same loop) could never let go and the unit of work would fail."""
    path = tmp_path / "eap.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE t (x INTEGER)")
    other.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = session_factory(engine)

    async def let_go() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    releasing = asyncio.create_task(let_go())
    async with unit_of_work(sessions) as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
    await releasing
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
    await engine.dispose()
    other.close()

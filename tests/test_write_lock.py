"""SQLite's in-process write lock: first come, first served, urgent work ahead of the queue."""

from __future__ import annotations

import asyncio

from storage.db import WriteLock


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

"""Workers claiming the outbox at once keep each chat's order (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import utcnow
from bot.delivery import claim
from handlers.types import Reply, to_payload
from storage import outbox
from storage.db import unit_of_work


# SQLite runs one writer at a time: no claim runs beside another, so PostgreSQL only.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_message_waits_while_another_worker_claims_the_older_one(
    db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        for number in (1, 2):
            await outbox.enqueue(
                session,
                channel="telegram",
                recipient="42",
                locale="en",
                payload=to_payload([Reply("error-generic")]),
                key=f"message-{number}",
                now=now,
            )
    async with sessions() as other_worker:  # mid-claim: the older message locked, not leased
        [older] = await outbox.due(other_worker, now=now, limit=1)
        older_id = older.id
        while_locked = await claim(sessions, ["telegram"], now=now)
        await other_worker.rollback()
    after = await claim(sessions, ["telegram"], now=now)

    assert while_locked == []
    assert [c.id for c in after] == [older_id]

"""Database locks that hold across processes (PostgreSQL advisory locks)."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SCHEDULER_LEADER = 0x4541505F5343  # "EAP_SC": one scheduler leader among the workers


def _key(*parts: str) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_chat(session: AsyncSession, channel: str, user_id: str) -> None:
    """Serialise one chat's turns across processes until the transaction ends.

    On SQLite every write transaction is already serialised (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key("chat", channel, user_id)}
        )


async def try_leader(connection: AsyncConnection) -> bool:
    """Try to become the scheduler leader; held until this connection closes."""
    if connection.dialect.name != "postgresql":
        return True
    result = await connection.execute(
        text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LEADER}
    )
    return bool(result.scalar())

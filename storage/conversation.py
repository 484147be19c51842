"""Conversation state behind a tiny interface keyed by (channel, external id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationState


async def load(session: AsyncSession, channel: str, external_id: str) -> tuple[str, str, dict]:
    """Return (flow, step, data) for a chat; empty when it has none."""
    row = await session.get(ConversationState, (channel, external_id))
    if row is None:
        return "", "", {}
    return row.flow, row.step, dict(row.data or {})


async def save(
    session: AsyncSession,
    channel: str,
    external_id: str,
    *,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    existed: bool = True,
) -> None:
    """Store the chat's state; an empty flow deletes the row (no lookup when none existed)."""
    if not existed and not flow:
        return
    row = await session.get(ConversationState, (channel, external_id)) if existed else None
    if not flow:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = ConversationState(channel=channel, external_id=external_id)
        session.add(row)
    row.flow, row.step, row.data, row.updated_at = flow, step, dict(data), now


async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """Delete states untouched since the cutoff; returns how many."""
    result = await session.execute(
        delete(ConversationState).where(ConversationState.updated_at < cutoff)
    )
    return int(result.rowcount or 0)

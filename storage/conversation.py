"""Conversation state behind a tiny interface keyed by (channel, external id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConversationState

_STATE = ConversationState.__table__
_KEY = (
    _STATE.c.channel == bindparam("b_channel"),
    _STATE.c.external_id == bindparam("b_external_id"),
)
# Every turn loads and saves its chat's state: Core statements built once (see storage.events).
_LOAD = select(_STATE.c.flow, _STATE.c.step, _STATE.c.data).where(*_KEY)
_UPDATE = (
    update(_STATE)
    .where(*_KEY)
    .values(
        flow=bindparam("b_flow", type_=_STATE.c.flow.type),
        step=bindparam("b_step", type_=_STATE.c.step.type),
        data=bindparam("b_data", type_=_STATE.c.data.type),
        updated_at=bindparam("b_now", type_=_STATE.c.updated_at.type),
    )
)
_INSERT = insert(_STATE)
_DELETE = delete(_STATE).where(*_KEY)


async def load(session: AsyncSession, channel: str, external_id: str) -> tuple[str, str, dict]:
    """Return (flow, step, data) for a chat; empty when it has none."""
    key = {"b_channel": channel, "b_external_id": external_id}
    row = (await session.execute(_LOAD, key)).first()
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
    """Store the chat's state; an empty flow deletes the row (no statement when none existed)."""
    key = {"b_channel": channel, "b_external_id": external_id}
    if not flow:
        if existed:
            await session.execute(_DELETE, key)
        return
    if existed:
        values = {**key, "b_flow": flow, "b_step": step, "b_data": dict(data), "b_now": now}
        if (await session.execute(_UPDATE, values)).rowcount:
            return
    await session.execute(
        _INSERT,
        {
            "channel": channel,
            "external_id": external_id,
            "flow": flow,
            "step": step,
            "data": dict(data),
            "updated_at": now,
        },
    )


async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """Delete states untouched since the cutoff; returns how many."""
    result = await session.execute(
        delete(ConversationState).where(ConversationState.updated_at < cutoff)
    )
    return int(result.rowcount or 0)

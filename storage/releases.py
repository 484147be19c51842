"""Released KPI figures: each closed period's protected figures are stored once, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignore
from storage.models import KpiRelease

MONTH = "month"
PLAN_YEAR = "plan_year"


@dataclass(frozen=True)
class Release:
    """One stored release: its kind, its period [start, end) and its figures."""

    kind: str
    start: date
    end: date
    figures: dict[str, Any]
    released_at: datetime


def _release(row: KpiRelease) -> Release:
    return Release(row.kind, row.start, row.end, row.figures, row.released_at)


async def exists(
    session: AsyncSession, organisation_id: int, kind: str, start: date, end: date
) -> bool:
    """Whether this period was released already."""
    found = await session.scalar(
        select(KpiRelease.id).where(
            KpiRelease.organisation_id == organisation_id,
            KpiRelease.kind == kind,
            KpiRelease.start == start,
            KpiRelease.end == end,
        )
    )
    return found is not None


async def store(
    session: AsyncSession,
    *,
    organisation_id: int,
    kind: str,
    start: date,
    end: date,
    figures: dict[str, Any],
    now: datetime,
) -> bool:
    """Store a release unless the period has one (the first stays); True when stored."""
    values = {
        "organisation_id": organisation_id,
        "kind": kind,
        "start": start,
        "end": end,
        "figures": figures,
        "released_at": now,
    }
    result = await session.execute(insert_ignore(session, KpiRelease, values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def latest(
    session: AsyncSession, organisation_id: int, kind: str, *, ending_by: date | None = None
) -> Release | None:
    """The release of this kind with the latest end (on or before `ending_by` when given)."""
    query = select(KpiRelease).where(
        KpiRelease.organisation_id == organisation_id, KpiRelease.kind == kind
    )
    if ending_by is not None:
        query = query.where(KpiRelease.end <= ending_by)
    row = await session.scalar(query.order_by(KpiRelease.end.desc()).limit(1))
    return _release(row) if row is not None else None


async def ending(
    session: AsyncSession, organisation_id: int, kind: str, end: date
) -> Release | None:
    """The release of this kind whose period ends on `end`, if any."""
    row = await session.scalar(
        select(KpiRelease).where(
            KpiRelease.organisation_id == organisation_id,
            KpiRelease.kind == kind,
            KpiRelease.end == end,
        )
    )
    return _release(row) if row is not None else None


async def between(
    session: AsyncSession, organisation_id: int, kind: str, *, start: date, end: date
) -> list[Release]:
    """Releases of this kind whose periods lie within [start, end), oldest first."""
    rows = await session.scalars(
        select(KpiRelease)
        .where(
            KpiRelease.organisation_id == organisation_id,
            KpiRelease.kind == kind,
            KpiRelease.start >= start,
            KpiRelease.end <= end,
        )
        .order_by(KpiRelease.start)
    )
    return [_release(row) for row in rows]

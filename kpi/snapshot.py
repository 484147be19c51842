"""Daily KPI snapshots: one row per organisation and local day, written idempotently.

The snapshot of day D records what HR could read on D: the published figures of the latest
released month (with its change against the month before) and of the plan year to that
month's end, both copied from the stored releases (kpi.released), never computed from live
counts. Every snapshot between two releases therefore holds the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kpi import released
from storage import orgs
from storage.db import unit_of_work
from storage.models import KpiSnapshot, Organisation

SNAPSHOT_VERSION = 2


@dataclass(frozen=True)
class Snapshot:
    """One stored day of an organisation's published KPIs."""

    day: date
    metrics: dict[str, Any]


def snapshot_day(org: Organisation, now: datetime) -> date:
    """The local day a snapshot taken at `now` is filed under."""
    return orgs.local_date(org, now)


async def compute(session: AsyncSession, org: Organisation, day: date) -> dict[str, Any]:
    """The released figures HR could read on `day` (None for both before the first release)."""
    found = await released.latest(session, org, ending_by=day)
    return {
        "version": SNAPSHOT_VERSION,
        "month": found.month.published if found else None,
        "plan_year": found.plan_year.published if found else None,
    }


def _upsert(
    session: AsyncSession, org: Organisation, day: date, body: dict[str, Any], now: datetime
) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(KpiSnapshot).values(
        organisation_id=org.id, day=day, metrics=body, computed_at=now
    )
    return insert.on_conflict_do_update(
        index_elements=[KpiSnapshot.organisation_id, KpiSnapshot.day],
        set_={"metrics": insert.excluded.metrics, "computed_at": insert.excluded.computed_at},
        where=cast(KpiSnapshot.metrics, Text) != cast(insert.excluded.metrics, Text),
    )


async def snapshot_org(session: AsyncSession, org: Organisation, now: datetime) -> int:
    """Upsert the organisation's snapshot for its local day; 1 if a row was written or changed."""
    day = snapshot_day(org, now)
    body = await compute(session, org, day)
    result = await session.execute(_upsert(session, org, day, body, now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def snapshot_all(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Snapshot every organisation, one unit of work each; returns rows written or changed."""
    async with unit_of_work(sessions) as session:
        organisations = list(await session.scalars(select(Organisation).order_by(Organisation.id)))
    written = 0
    for org in organisations:
        async with unit_of_work(sessions) as session:
            written += await snapshot_org(session, org, now)
    return written


async def read(
    session: AsyncSession, organisation_id: int, *, start: date, end: date
) -> list[Snapshot]:
    """The organisation's snapshots for days in [start, end), oldest first."""
    rows = await session.execute(
        select(KpiSnapshot.day, KpiSnapshot.metrics)
        .where(
            KpiSnapshot.organisation_id == organisation_id,
            KpiSnapshot.day >= start,
            KpiSnapshot.day < end,
        )
        .order_by(KpiSnapshot.day)
    )
    return [Snapshot(day, body) for day, body in rows]


async def latest(session: AsyncSession, organisation_id: int, *, on: date) -> Snapshot | None:
    """The newest snapshot filed on or before `on`, if any."""
    row = (
        await session.execute(
            select(KpiSnapshot.day, KpiSnapshot.metrics)
            .where(KpiSnapshot.organisation_id == organisation_id, KpiSnapshot.day <= on)
            .order_by(KpiSnapshot.day.desc())
            .limit(1)
        )
    ).first()
    return Snapshot(row[0], row[1]) if row else None

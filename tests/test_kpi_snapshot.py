"""Daily snapshots: one row per organisation and day, idempotent, released figures only."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kpi import snapshot
from storage.db import unit_of_work
from storage.models import KpiSnapshot, RosterEntry
from tests.conftest import BASE_NOW
from tests.helpers import Clock, release_figures
from tests.test_kpi_metrics import seed
from tests.test_kpi_release import SETTLED


@pytest.fixture
def clock() -> Clock:
    """The seeded KPI world is fixed in November 2026, so this module's clock is too."""
    return Clock(BASE_NOW)


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[KpiSnapshot]:
    async with unit_of_work(sessions) as session:
        result = await session.scalars(
            select(KpiSnapshot).order_by(KpiSnapshot.organisation_id, KpiSnapshot.day)
        )
        return list(result)


async def test_a_rerun_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await seed(sessions)
    assert await snapshot.snapshot_all(sessions, clock.now) == 2
    first = await _rows(sessions)
    clock.advance(hours=3)
    assert await snapshot.snapshot_all(sessions, clock.now) == 0
    again = await _rows(sessions)
    assert [(r.organisation_id, r.day, r.metrics, r.computed_at) for r in again] == [
        (r.organisation_id, r.day, r.metrics, r.computed_at) for r in first
    ]
    assert {r.day for r in again} == {date(2026, 11, 24)}


async def test_two_workers_at_once_write_one_row_each(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await seed(sessions)
    written = await asyncio.gather(
        snapshot.snapshot_all(sessions, clock.now), snapshot.snapshot_all(sessions, clock.now)
    )
    assert sum(written) == 2
    assert len(await _rows(sessions)) == 2


async def test_live_data_never_moves_a_snapshot_only_a_release_does(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    world = await seed(sessions)
    await snapshot.snapshot_all(sessions, clock.now)
    async with unit_of_work(sessions) as session:
        for number in range(10):
            session.add(
                RosterEntry(
                    organisation_id=world.org.id,
                    employee_hash=f"new-{number}",
                    updated_at=clock.now,
                )
            )
    assert await snapshot.snapshot_all(sessions, clock.now) == 0
    await release_figures(sessions, clock.now)  # no noise: this checks the plumbing
    assert await snapshot.snapshot_all(sessions, clock.now) == 2
    acme = next(r for r in await _rows(sessions) if r.organisation_id == world.org.id)
    assert acme.metrics["month"]["headcount"] == 12 + 10  # the roster when October was released


async def test_snapshot_contents(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    world = await seed(sessions)
    await release_figures(sessions, SETTLED)  # no noise: this checks the plumbing
    await snapshot.snapshot_all(sessions, SETTLED)
    async with unit_of_work(sessions) as session:
        found = await snapshot.latest(session, world.org.id, on=date(2026, 12, 31))
    assert found is not None
    assert found.day == date(2026, 12, 15)
    body = found.metrics
    assert body["version"] == snapshot.SNAPSHOT_VERSION
    assert body["month"]["period"] == {"start": "2026-11-01", "end": "2026-12-01"}
    assert body["month"]["previous_period"] == {"start": "2026-10-01", "end": "2026-11-01"}
    assert body["month"]["error"]["people"] == 26
    assert body["plan_year"]["period"] == {"start": "2026-01-01", "end": "2026-12-01"}
    assert body["plan_year"]["headcount"] == 12


async def test_no_identifier_pseudonym_note_or_comment_in_any_snapshot(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    world = await seed(sessions)
    await release_figures(sessions, SETTLED)  # no noise: the exact counts are the hardest case
    await snapshot.snapshot_all(sessions, SETTLED)
    text = json.dumps([r.metrics for r in await _rows(sessions)], ensure_ascii=False)
    assert len(world.secrets) > 30
    leaked = [secret for secret in world.secrets if secret in text]
    assert leaked == []
    assert "PSEUDO" not in text
    assert "ext-" not in text


async def test_read_a_date_range(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    world = await seed(sessions)
    for _ in range(3):
        await snapshot.snapshot_all(sessions, clock.now)
        clock.advance(days=1)
    async with unit_of_work(sessions) as session:
        days = [
            s.day
            for s in await snapshot.read(
                session, world.org.id, start=date(2026, 11, 25), end=date(2026, 11, 27)
            )
        ]
        count = await session.scalar(select(func.count()).select_from(KpiSnapshot))
        earliest = await snapshot.latest(session, world.org.id, on=date(2026, 11, 23))
    assert days == [date(2026, 11, 25), date(2026, 11, 26)]
    assert count == 2 * 3
    assert earliest is None

"""Released KPI figures: bounded contributions, noise from OpenDP, stored once, never moved."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kpi import metrics, protect, release
from kpi.anonymise import SUPPRESSED, Thresholds
from kpi.metrics import Period
from storage import releases
from storage.db import unit_of_work
from storage.models import Booking, RosterEntry
from tests.test_kpi_metrics import WEEK, World, counts_of, d, local, seed

NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1))
YEAR = Period(date(2026, 1, 1), NOVEMBER.end)
SETTLED = local(date(2026, 12, 15), 3)  # November ended on 1 December; 14 days later


def no_noise(scale: float) -> int:
    """Noise switched off, to see the plumbing carry the bounded counts."""
    return 0


async def released(
    sessions: async_sessionmaker[AsyncSession], world: World, kind: str, period: Period
) -> dict:
    """The published figures of one stored release."""
    async with sessions() as session:
        found = await releases.ending(session, world.org.id, kind, period.end)
    assert found is not None and found.start == period.start
    return found.figures["published"]


async def test_each_person_counts_at_most_cap_rows(sessions) -> None:
    world = await seed(sessions)
    async with unit_of_work(sessions) as session:
        capped = await metrics.period_counts(session, world.org, WEEK, cap=1)
    full = await counts_of(sessions, world.org, WEEK)
    # m1 had two held psychology sessions, two used entries and two prompts in the week.
    assert full.sessions["psychology"] == 3 and capped.sessions["psychology"] == 2
    assert full.used_entries["psychology"] == 3 and capped.used_entries["psychology"] == 2
    assert (full.feedback.prompts, capped.feedback.prompts) == (6, 5)
    # Forgotten people's rows can no longer be told apart: each counts on its own.
    assert capped.sessions["nutrition"] == full.sessions["nutrition"] == 2
    assert capped.crisis_events == full.crisis_events == 2
    assert capped.users == full.users  # distinct people need no bound


async def test_a_settled_month_is_released_once_and_never_moves(sessions) -> None:
    world = await seed(sessions)
    before = SETTLED - timedelta(days=1)
    assert await release.release_all(sessions, before, protect.seeded_noise(1)) > 0
    async with sessions() as session:
        assert await releases.ending(session, world.org.id, releases.MONTH, NOVEMBER.end) is None
    # November for both organisations: the month and the plan year up to its end.
    assert await release.release_all(sessions, SETTLED, protect.seeded_noise(1)) == 4
    month = await released(sessions, world, releases.MONTH, NOVEMBER)
    year = await released(sessions, world, releases.PLAN_YEAR, YEAR)

    # A session confirmed late, a leaver marked, a crisis: the released figures stay.
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Booking).where(Booking.status == "booked").values(status="held")
        )
        entry = await session.scalar(select(RosterEntry).where(RosterEntry.status == "active"))
        entry.status = "left"
    assert await release.release_all(sessions, SETTLED + timedelta(days=3), no_noise) == 0
    assert await released(sessions, world, releases.MONTH, NOVEMBER) == month
    assert await released(sessions, world, releases.PLAN_YEAR, YEAR) == year


async def test_without_noise_the_release_carries_the_bounded_counts_and_errors(sessions) -> None:
    world = await seed(sessions)
    async with unit_of_work(sessions) as session:
        raw = await metrics.period_counts(session, world.org, NOVEMBER, cap=protect.CAP_MONTH)
    body = release.published(protect.protect(raw, no_noise), Thresholds(people=1, usage=1))
    full = await counts_of(sessions, world.org, NOVEMBER)
    assert body["headcount"] == full.headcount == 12
    assert body["sessions"]["by_domain"]["psychology"]["sessions"] == 5  # m1 x3, m6, m3
    assert body["crisis_referrals"] == full.crisis_events == 3
    assert body["error"]["people"] == protect.error(protect.SCALE) == 26
    assert body["protection"]["unit"] == protect.PRIVACY_UNIT
    # 4 users of 12 is shown at k = 1; at the organisation's own k it is hidden (below).
    assert body["utilization"] == {"count": 4, "rate": round(4 / 12, 4)}


async def test_almost_all_and_almost_none_are_hidden(sessions) -> None:
    world = await seed(sessions)
    await release.release_all(sessions, SETTLED, no_noise)
    month = await released(sessions, world, releases.MONTH, NOVEMBER)
    # 4 users of 12 is neither suppressed by size alone nor safe beside its complement of 8.
    assert month["utilization"] == {"count": SUPPRESSED, "rate": SUPPRESSED}


def test_figures_survive_the_round_trip_through_json() -> None:
    counts = protect.protect(
        release.counts_from_json(
            {
                "period": {"start": "2026-11-01", "end": "2026-12-01"},
                "minutes_per_year": 480,
                "departments": {"Sales": {"headcount": 40, "participants": 20, "users": 9}},
                "repeat_users": 3,
                "sessions": {"psychology": 12},
                "statuses": {"held": 12},
                "used_minutes": {"psychology": 700},
                "used_entries": {"psychology": 12},
                "feedback": {"prompts": 10, "answered": 8},
                "crisis_events": 1,
            }
        ),
        protect.seeded_noise(3),
    )
    assert release.counts_from_json(release.counts_to_json(counts)) == counts


def test_the_seeded_noise_has_opendp_s_distribution_and_the_stated_error() -> None:
    keep = math.exp(-1 / protect.SCALE)
    variance = 2 * keep / (1 - keep) ** 2  # the discrete Laplace distribution's
    seeded = protect.seeded_noise(7)
    ours = [seeded(protect.SCALE) for _ in range(20_000)]
    theirs = [protect.opendp_noise(protect.SCALE) for _ in range(4_000)]
    assert statistics.pvariance(ours) == pytest.approx(variance, rel=0.06)
    assert statistics.pvariance(theirs) == pytest.approx(variance, rel=0.15)
    bound = protect.error(protect.SCALE)
    for sample in (ours, theirs):
        inside = sum(abs(x) <= bound for x in sample) / len(sample)
        assert 0.935 <= inside <= 0.97


def test_the_release_calendar() -> None:
    from storage.models import Organisation

    org = Organisation(timezone="Asia/Taipei", plan_year_start_month=1, plan_year_start_day=1)
    due = release.due(org, date(2026, 12, 15))
    assert due[-2:] == [
        (releases.MONTH, NOVEMBER),
        (releases.PLAN_YEAR, Period(date(2026, 1, 1), date(2026, 12, 1))),
    ]
    assert (releases.MONTH, NOVEMBER) not in release.due(org, date(2026, 12, 14))
    assert release.due(org, date(2026, 12, 15))[0][1].start == date(2025, 1, 1)
    assert d(1) == NOVEMBER.start

"""HR reads released figures only: what happens between two presses never moves them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from storage import staff
from storage.db import unit_of_work
from storage.models import Booking, Channel, CrisisEvent, RosterEntry
from tests.helpers import Chat, Clock, release_figures
from tests.test_kpi_metrics import local, seed
from tests.test_kpi_release import SETTLED


@pytest.fixture
def clock() -> Clock:
    """The seeded KPI world is November 2026; HR looks the day after November is released."""
    return Clock(SETTLED + timedelta(days=1))


async def _presses(hr: Chat) -> list[dict]:
    seen = []
    for span in ("month", "year"):
        await hr.tap(f"hr:k:{span}")
        assert hr.keys == ["hr-kpi"]
        seen.append(dict(hr.replies[0].params))
    await hr.tap("hrx")
    assert hr.keys == ["hr-export-ready"]
    seen.append({"csv": hr.replies[0].attachment.content})
    return seen


async def test_a_held_session_a_crisis_and_a_leaver_leave_every_figure_identical(
    dispatcher, sessions, clock
) -> None:
    world = await seed(sessions)
    await release_figures(sessions, SETTLED)  # no noise: any live change would show exactly
    async with unit_of_work(sessions) as session:
        person = await staff.create_hr_user(session, org=world.org, name="ACME HR")
        code = await staff.issue_invite(session, org=world.org, now=clock(), hr_user=person)
    hr = Chat(dispatcher, "hr-acme")
    await hr.say(code)
    before = await _presses(hr)
    assert before[0]["first_day"] == date(2026, 11, 1)

    # Between two presses: a November session is marked held, a November crisis episode is
    # recorded, and the roster marks one employee as a leaver.
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Booking).where(Booking.status == "booked").values(status="held")
        )
        session.add(
            CrisisEvent(
                organisation_id=world.org.id,
                channel=Channel.TELEGRAM,
                locale="zh-TW",
                occurred_at=local(date(2026, 11, 20), 10),
                episode_start=True,
            )
        )
        entry = await session.scalar(select(RosterEntry).where(RosterEntry.status == "active"))
        entry.status = "left"
    assert await _presses(hr) == before

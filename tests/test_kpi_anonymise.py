"""Every suppression rule on crafted counts, including subtraction and week-over-week cases."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kpi import anonymise
from kpi.anonymise import SUPPRESSED as S
from kpi.anonymise import Thresholds, publish, publish_months, thresholds
from kpi.metrics import DepartmentCounts, FeedbackCounts, Period, PeriodCounts
from storage.models import Organisation
from tests.test_kpi_metrics import WEEK, counts_of, seed

T = Thresholds(people=5, usage=10)


def counts(
    departments: dict[str, tuple[int, int, int]] | None = None,
    *,
    period: Period = WEEK,
    **fields: Any,
) -> PeriodCounts:
    """PeriodCounts from (headcount, participants, users) per department and other fields."""
    depts = {
        name: DepartmentCounts(*values)
        for name, values in (departments or {"All": (100, 50, 20)}).items()
    }
    return PeriodCounts(period=period, minutes_per_year=480, departments=depts, **fields)


def test_thresholds_are_never_below_five() -> None:
    assert thresholds(Organisation(min_group_size=5, min_group_size_usage=10)) == T
    assert thresholds(Organisation(min_group_size=2, min_group_size_usage=3)) == Thresholds(5, 5)
    assert thresholds(Organisation(min_group_size=8, min_group_size_usage=12)) == Thresholds(8, 12)


def test_primary_suppression_hides_one_to_k_minus_one_and_shows_zero() -> None:
    assert [anonymise.primary(n, 5) for n in (0, 1, 4, 5, 6)] == [0, S, S, 5, 6]


def test_one_hidden_cell_takes_the_next_smallest_with_it() -> None:
    # psychology 30, legal 3, finance 12, nutrition 0: total 45 is published.
    cells = {"psychology": 30, "legal": 3, "finance": 12, "nutrition": 0}
    published = anonymise.suppress_group(cells, 10)
    assert published == {"psychology": 30, "legal": S, "finance": S, "nutrition": 0}
    # What subtracting the shown cells from the total recovers: legal and finance together.
    shown = sum(value for value in published.values() if isinstance(value, int))
    hidden = {name for name, value in published.items() if value == S}
    assert (45 - shown, hidden) == (15, {"legal", "finance"})


def test_hidden_cells_that_add_up_to_a_small_group_take_more_cells() -> None:
    # Two hidden 1s add up to 2: knowing both are >= 1 would pin them, so 50 goes too.
    published = anonymise.suppress_group({"a": 1, "b": 1, "c": 50, "d": 60}, 10)
    assert published == {"a": S, "b": S, "c": S, "d": 60}


def test_no_hidden_cells_leaves_the_group_alone() -> None:
    cells = {"a": 0, "b": 10, "c": 11}
    assert anonymise.suppress_group(cells, 10) == cells


@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 40), max_size=8),
    st.integers(5, 15),
)
def test_no_hidden_cell_can_be_recovered_by_subtraction(cells: dict[str, int], k: int) -> None:
    hidden = anonymise.hidden_cells(cells, k)
    assert {n for n, v in cells.items() if 0 < v < k} <= hidden
    assert all(cells[n] > 0 for n in hidden)
    if hidden and len(hidden) < len([v for v in cells.values() if v > 0]):
        assert len(hidden) >= 2
        assert sum(cells[n] for n in hidden) >= k


def test_a_rate_hides_when_its_complement_is_small() -> None:
    # 37 of 40 took part: 40 - 37 = 3 people did not, a group under 5, so 37 is hidden too.
    assert anonymise.publish_rate(37, 40, 5) == {"count": S, "rate": S}
    assert anonymise.publish_rate(3, 40, 5) == {"count": S, "rate": S}
    assert anonymise.publish_rate(0, 40, 5) == {"count": 0, "rate": 0.0}
    assert anonymise.publish_rate(35, 40, 5) == {"count": 35, "rate": 35 / 40}
    assert anonymise.publish_rate(0, 0, 5) == {"count": 0, "rate": None}


def test_ratios_of_a_suppressed_denominator_are_suppressed() -> None:
    # 4 users (under 10) with 0 repeaters: the rate would describe a hidden group.
    assert anonymise.publish_rate(0, 4, 10) == {"count": S, "rate": S}
    assert anonymise.publish_mean(27, 6, 10) == S
    assert anonymise.publish_mean(45, 10, 10) == 4.5
    assert anonymise.publish_mean(0, 0, 10) is None


def test_a_published_period_by_hand() -> None:
    c = counts(
        {"Sales": (60, 30, 15), "Ops": (40, 10, 5)},
        repeat_users=8,
        sessions={"psychology": 30, "legal": 3, "finance": 12, "nutrition": 0},
        statuses={"held": 45, "no_show": 5, "late_cancelled": 10, "cancelled": 40},
        used_minutes={"psychology": 1800, "legal": 180, "finance": 720, "nutrition": 0},
        used_entries={"psychology": 30, "legal": 3, "finance": 12, "nutrition": 0},
        feedback=FeedbackCounts(40, 30, 30, 24, 120, 30, 20, 30, 29),
        crisis_events=3,
    )
    p = publish(c, T)
    assert p["headcount"] == 60 + 40
    assert p["participation"] == {"count": 40, "rate": 40 / 100}
    assert p["utilization"] == {"count": 20, "rate": 20 / 100}
    assert p["repeat_use"] == {"count": S, "rate": S}  # 20 - 8 = 12 fine, but 8 < 10
    assert p["sessions"]["total"] == 45
    assert p["sessions"]["by_domain"]["psychology"] == {
        "sessions": 30,
        "minutes": 1800,
        "share": round(30 / 45, 4),
    }
    assert p["sessions"]["by_domain"]["legal"] == {"sessions": S, "minutes": S, "share": S}
    assert p["sessions"]["by_domain"]["finance"] == {"sessions": S, "minutes": S, "share": S}
    assert p["sessions"]["by_domain"]["nutrition"] == {"sessions": 0, "minutes": 0, "share": 0.0}
    # 45 used entries, 2700 minutes of an allotment of 100 x 480.
    assert p["hours"] == {
        "used_minutes": 2700,
        "allotted_minutes": 48000,
        "rate": round(2700 / 48000, 4),
    }
    assert p["no_show"] == {"count": S, "rate": S}  # 5 < 10
    # late cancels 10 of 45 + 5 + 10 + 40 = 100.
    assert p["late_cancel"] == {"count": 10, "rate": 0.1}
    assert p["feedback"] == {
        "prompts": 40,
        "answered": 30,
        "rate": 0.75,
        "satisfied_share": S,  # 24 of 30: the other 6 are a group under 10
        "satisfaction_mean": 4.0,  # 120 / 30
        "resolved_share": 0.6667,  # 20 of 30, 10 not
        "again_share": S,  # 29 of 30: 1 would not
    }
    assert p["crisis_referrals"] == S


def test_department_breakdown_only_when_every_department_meets_the_minimum() -> None:
    shown = publish(counts({"Sales": (60, 30, 15), "Ops": (40, 10, 10)}), T)["departments"]
    assert shown["headcount"] == [
        {"department": "Ops", "count": 40},
        {"department": "Sales", "count": 60},
    ]
    assert shown["participation"] == [
        {"department": "Ops", "count": 10, "rate": 0.25},
        {"department": "Sales", "count": 30, "rate": 0.5},
    ]
    assert shown["utilization"] == [
        {"department": "Ops", "count": 10, "rate": 0.25},
        {"department": "Sales", "count": 15, "rate": 0.25},
    ]
    # Legal has 4 people: no department breakdown at all.
    small = publish(counts({"Sales": (60, 30, 15), "Legal": (4, 0, 0)}), T)["departments"]
    assert small == {"headcount": None, "participation": None, "utilization": None}
    # Ops users 9 < 10: utilization by department is omitted, participation still shown.
    mixed = publish(counts({"Sales": (60, 30, 15), "Ops": (40, 10, 9)}), T)["departments"]
    assert mixed["utilization"] is None
    assert mixed["participation"] is not None
    # Ops: 38 of 40 took part, so 2 did not: a group under 5, omitted.
    rest = publish(counts({"Sales": (60, 30, 15), "Ops": (40, 38, 10)}), T)["departments"]
    assert rest["participation"] is None


def test_week_over_week_change_by_hand() -> None:
    now = counts({"All": (100, 30, 20)}, sessions={"psychology": 40})
    before = counts({"All": (100, 10, 10)}, sessions={"psychology": 10})
    change = publish(now, T, previous=before)["change"]
    assert change["participants"] == {"difference": 30 - 10, "multiple": 3.0}
    assert change["participation"] == {"difference": round(0.3 - 0.1, 4), "multiple": 3.0}
    assert change["users"] == {"difference": 20 - 10, "multiple": 2.0}
    assert change["sessions"] == {"difference": 40 - 10, "multiple": 4.0}
    assert change["feedback_rate"] == S  # no prompts in either week: groups of 0


def test_week_over_week_change_is_suppressed_when_either_week_is_small() -> None:
    now = counts({"All": (100, 30, 20)}, sessions={"psychology": 40})
    small_before = counts({"All": (100, 4, 9)}, sessions={"psychology": 9})
    change = publish(now, T, previous=small_before)["change"]
    assert change == {
        "participants": S,
        "participation": S,
        "users": S,
        "utilization": S,
        "sessions": S,
        "feedback_rate": S,
    }
    empty_before = counts({"All": (100, 0, 0)})
    assert publish(now, T, previous=empty_before)["change"]["participants"] == S
    # This week small, last week large: suppressed as well.
    assert publish(small_before, T, previous=now)["change"]["users"] == S


def test_months_get_complementary_suppression_across_the_year() -> None:
    months = [
        counts(period=Period(date(2026, m, 1), date(2026, m + 1, 1)), sessions={"legal": n})
        for m, n in ((1, 20), (2, 3), (3, 15), (4, 0))
    ]
    rows = publish_months(months, T)
    assert [r["sessions"] for r in rows] == [20, S, S, 0]


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    if isinstance(tree, list):
        return [leaf for value in tree for leaf in _leaves(value)]
    return [tree]


async def test_seeded_week_is_all_small_and_all_hidden(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await seed(sessions)
    week = await counts_of(sessions, world.org, WEEK)
    p = publish(week, thresholds(world.org))
    assert p["headcount"] == 12
    assert p["participation"] == {"count": S, "rate": S}  # 3 < 5
    assert p["utilization"] == {"count": S, "rate": S}  # 3 < 10
    assert p["sessions"]["total"] == S  # 7 < 10
    assert p["hours"] == {"used_minutes": S, "allotted_minutes": 12 * 480, "rate": S}
    assert p["feedback"]["prompts"] == S
    assert p["departments"]["headcount"] == [
        {"department": "Ops", "count": 5},
        {"department": "Sales", "count": 7},
    ]
    assert p["departments"]["participation"] is None
    strings = {leaf for leaf in _leaves(p) if isinstance(leaf, str)}
    assert strings <= {S, "Ops", "Sales", WEEK.start.isoformat(), WEEK.end.isoformat()}

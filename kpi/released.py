"""What HR may read: stored releases of closed months, with each figure's 95 % error.

Every HR reader (chat views, digest, exports, reports, `kpi show`) comes through here; none of
them computes live counts. A figure's error is the stored 95 % half-width of its noisy count,
in the figure's own unit; a rate's error is that count error divided by the rate's
denominator (itself a protected count), in percentage points. The error of a change against
the month before combines both months' errors (independent noise: root of the sum of squares).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kpi import metrics
from kpi.metrics import Period, PeriodCounts
from kpi.release import SETTLE_DAYS, counts_from_json
from storage import orgs, releases
from storage.models import Organisation
from storage.releases import Release

Errors = dict[str, float | None]


@dataclass(frozen=True)
class Figures:
    """One release as HR reads it: its period, published figures and their errors."""

    period: Period
    published: dict[str, Any]
    errors: Errors
    released_on: date


@dataclass(frozen=True)
class Latest:
    """The latest released month, the plan year to its end, and the changes' errors."""

    month: Figures
    plan_year: Figures
    change_errors: Errors
    trend: list[Figures]


def _ratio(error: int, denominator: float) -> float | None:
    """A count's error over a denominator, in percentage points (None without a denominator)."""
    return round(error / denominator * 100, 1) if denominator > 0 else None


def figure_errors(counts: PeriodCounts, error: dict[str, int]) -> Errors:
    """The 95 % error of every figure of a release, in the figure's display unit."""
    people, feedback, f = error["people"], error["feedback"], counts.feedback
    return {
        "headcount": 0,  # the roster headcount is exact
        "participants": people,
        "participation": _ratio(people, counts.headcount),
        "users": people,
        "utilization": _ratio(people, counts.headcount),
        "repeat_use": _ratio(people, counts.users),
        "sessions": error["sessions"],
        "used_hours": round(error["minutes"] / 60, 1),
        "allotted_hours": 0,
        "hours_share": _ratio(error["minutes"], counts.allotted_minutes),
        "no_show": _ratio(error["bookings"], counts.attended_or_missed),
        "late_cancel": _ratio(error["bookings"], counts.concluded),
        "prompts": feedback,
        "answered": feedback,
        "feedback_rate": _ratio(feedback, f.prompts),
        "satisfied_share": _ratio(feedback, f.satisfaction_answers),
        "satisfaction_mean": (
            round(error["satisfaction_sum"] / f.satisfaction_answers, 2)
            if f.satisfaction_answers > 0
            else None
        ),
        "resolved_share": _ratio(feedback, f.resolved_answers),
        "again_share": _ratio(feedback, f.again_answers),
        "crisis": error["crisis_episodes"],
        # One domain's cell: a single noisy count; its minutes at most the total's error.
        "domain_sessions": error["bookings"],
        "domain_hours": round(error["minutes"] / 60, 1),
        "domain_share": _ratio(error["bookings"], counts.sessions_held),
    }


def _combined(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return round(math.hypot(a, b), 1)


CHANGED = ("participants", "participation", "users", "utilization", "sessions", "feedback_rate")


def change_errors(current: Errors, previous: Errors) -> Errors:
    """The errors of the changes against the month before (both months' noise)."""
    return {name: _combined(current[name], previous[name]) for name in CHANGED}


def figures_of(org: Organisation, release: Release) -> Figures:
    """A stored release as HR reads it."""
    counts = counts_from_json(release.figures["counts"])
    published = release.figures["published"]
    return Figures(
        period=Period(release.start, release.end),
        published=published,
        errors=figure_errors(counts, published["error"]),
        released_on=orgs.local_date(org, release.released_at),
    )


def next_release(org: Organisation, today: date) -> date:
    """The day the next month is released (SETTLE_DAYS after it ends)."""
    months = metrics.plan_year_months(org, today)
    before = metrics.plan_year_months(org, months[0].start - timedelta(days=1))
    after = metrics.plan_year_months(org, months[-1].end)
    for month in [*before, *months, *after]:
        day = month.end + timedelta(days=SETTLE_DAYS)
        if day > today:
            return day
    raise AssertionError("a plan year always has a month ahead")  # pragma: no cover


async def latest(
    session: AsyncSession, org: Organisation, *, ending_by: date | None = None, trend: int = 0
) -> Latest | None:
    """The latest released month (ending by `ending_by`), its plan year and `trend` months."""
    month = await releases.latest(session, org.id, releases.MONTH, ending_by=ending_by)
    if month is None:
        return None
    year = await releases.ending(session, org.id, releases.PLAN_YEAR, month.end)
    if year is None:  # both are stored in one unit of work; only a half-migrated table lacks it
        return None
    current = figures_of(org, month)
    before = await releases.ending(session, org.id, releases.MONTH, month.start)
    changes = (
        change_errors(current.errors, figures_of(org, before).errors)
        if before is not None
        else dict.fromkeys(CHANGED)
    )
    months: list[Figures] = []
    if trend:
        start = metrics.add_months(month.start, -(trend - 1))
        found = await releases.between(session, org.id, releases.MONTH, start=start, end=month.end)
        months = [figures_of(org, r) for r in found]
    return Latest(current, figures_of(org, year), changes, months)


async def plan_year_months(
    session: AsyncSession, org: Organisation, *, on: date
) -> tuple[Figures, list[Figures]] | None:
    """The plan year containing `on`: its release to the last released month, and each month."""
    start, end = orgs.plan_year_start(org, on), orgs.plan_year_end(org, on)
    until = min(end, on + timedelta(days=1))
    found = await releases.between(session, org.id, releases.MONTH, start=start, end=until)
    if not found:
        return None
    year = await releases.ending(session, org.id, releases.PLAN_YEAR, found[-1].end)
    if year is None or year.start != start:
        return None
    return figures_of(org, year), [figures_of(org, r) for r in found]

"""Releases: the protected figures of closed, settled periods, computed once and stored.

Cadence: every organisation gets one release per plan-year month ("month") and one of the plan
year up to that month's end ("plan_year", the checkpoint for distinct people), each released
SETTLE_DAYS after the month ends, so that sessions are confirmed first and a released figure
never changes. No weekly figures are released: a week's people counts are too small to protect
usefully, and each extra release spends more of a person's privacy budget.

Every HR view, the digest, the exports and the reports read these stored releases only.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kpi import metrics, protect
from kpi.anonymise import SUPPRESSED, Thresholds, publish, thresholds
from kpi.metrics import DepartmentCounts, FeedbackCounts, Period, PeriodCounts
from storage import orgs, releases
from storage.db import unit_of_work
from storage.models import Organisation

SETTLE_DAYS = 14
VERSION = 2


def due(org: Organisation, today: date) -> list[tuple[str, Period]]:
    """The periods of this and the last plan year that are closed and settled by `today`."""
    this_year = orgs.plan_year_start(org, today)
    periods: list[tuple[str, Period]] = []
    for on in (this_year - timedelta(days=1), today):
        months = metrics.plan_year_months(org, on)
        for month in months:
            if month.end + timedelta(days=SETTLE_DAYS) > today:
                break
            periods.append((releases.MONTH, month))
            periods.append((releases.PLAN_YEAR, Period(months[0].start, month.end)))
    return periods


def cap(kind: str) -> int:
    """How many rows of one person count in a release of this kind (the contribution bound)."""
    return protect.CAP_MONTH if kind == releases.MONTH else protect.CAP_PLAN_YEAR


def counts_to_json(counts: PeriodCounts) -> dict[str, Any]:
    """The protected counts as JSON, kept with the release for later comparisons."""
    body = asdict(counts)
    body["period"] = {
        "start": counts.period.start.isoformat(),
        "end": counts.period.end.isoformat(),
    }
    return body


def counts_from_json(body: dict[str, Any]) -> PeriodCounts:
    """The protected counts stored with a release."""
    period = Period(
        date.fromisoformat(body["period"]["start"]), date.fromisoformat(body["period"]["end"])
    )
    totals = body.get("totals")
    return PeriodCounts(
        period=period,
        minutes_per_year=body["minutes_per_year"],
        departments={k: DepartmentCounts(**v) for k, v in body["departments"].items()},
        repeat_users=body["repeat_users"],
        sessions=body["sessions"],
        statuses=body["statuses"],
        used_minutes=body["used_minutes"],
        used_entries=body["used_entries"],
        feedback=FeedbackCounts(**body["feedback"]),
        crisis_events=body["crisis_events"],
        totals=DepartmentCounts(**totals) if totals else None,
    )


def _hide_extremes(rate: dict[str, Any], denominator: int, k: int) -> None:
    """Hide a share that is almost none or almost all (either side under k, 0 included)."""
    count = rate.get("count")
    if not isinstance(count, int) or not denominator:
        return
    if count < k or denominator - count < k:
        rate["count"] = SUPPRESSED
        rate["rate"] = SUPPRESSED


def published(
    counts: PeriodCounts, t: Thresholds, previous: PeriodCounts | None = None
) -> dict[str, Any]:
    """What HR may read of protected counts: suppression floor, extremes hidden, errors shown."""
    body = publish(counts, t, previous=previous)
    _hide_extremes(body["participation"], counts.headcount, t.people)
    _hide_extremes(body["utilization"], counts.headcount, t.usage)
    departments = body["departments"]
    for name, k in (("participation", t.people), ("utilization", t.usage)):
        rows = departments.get(name)
        if rows is None:
            continue
        for row in rows:
            size = counts.departments[row["department"]].headcount
            if row["count"] < k or size - row["count"] < k:
                departments[name] = None
                break
    body["error"] = protect.errors(len(counts.sessions) or 1).as_dict()
    body["protection"] = {
        "unit": protect.PRIVACY_UNIT,
        "confidence": protect.CONFIDENCE,
        "epsilon_per_unit": protect.UNIT_EPSILON,
    }
    return body


def figures(counts: PeriodCounts, t: Thresholds, previous: PeriodCounts | None) -> dict[str, Any]:
    """A release's stored figures: the published view and the protected counts behind it."""
    return {
        "version": VERSION,
        "published": published(counts, t, previous),
        "counts": counts_to_json(counts),
    }


async def release_org(
    session: AsyncSession, org: Organisation, now: datetime, noise: protect.Noise
) -> int:
    """Release every due period of one organisation that has no release yet; how many."""
    today = orgs.local_date(org, now)
    written = 0
    for kind, period in due(org, today):
        if await releases.exists(session, org.id, kind, period.start, period.end):
            continue
        if noise is protect.opendp_noise:
            await asyncio.to_thread(protect.warm_up)  # the library loads once, off the loop
        raw = await metrics.period_counts(session, org, period, cap=cap(kind))
        counts = protect.protect(raw, noise)
        previous = None
        if kind == releases.MONTH:
            before = await releases.ending(session, org.id, kind, period.start)
            previous = counts_from_json(before.figures["counts"]) if before else None
        written += await releases.store(
            session,
            organisation_id=org.id,
            kind=kind,
            start=period.start,
            end=period.end,
            figures=figures(counts, thresholds(org), previous),
            now=now,
        )
    return written


async def release_all(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    noise: protect.Noise = protect.opendp_noise,
) -> int:
    """Release the due periods of every organisation, one unit of work each; how many."""
    async with unit_of_work(sessions) as session:
        ids = list(await session.scalars(select(Organisation.id).order_by(Organisation.id)))
    written = 0
    for organisation_id in ids:
        async with unit_of_work(sessions) as session:
            org = await orgs.by_id(session, organisation_id)
            written += await release_org(session, org, now, noise)
    return written

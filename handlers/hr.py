"""HR in the chat: anonymous KPIs for this week, month or plan year, and a CSV export.

Payloads: hr | hr:k:week | hr:k:month | hr:k:year | hrx
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.types import Attachment, Choice, Lines, Reply, Turn
from kpi import metrics
from kpi.anonymise import publish, thresholds
from kpi.metrics import Period
from kpi.report import WeeklyDigest
from storage import audit, orgs
from storage.models import Organisation

SPANS = ("week", "month", "year")


def menu_choices() -> list[Choice]:
    """The HR menu's buttons."""
    return [
        Choice("hr-kpi-week", "hr:k:week"),
        Choice("hr-kpi-month", "hr:k:month"),
        Choice("hr-kpi-year", "hr:k:year"),
        Choice("hr-export", "hrx"),
        Choice("menu-help", "help"),
    ]


def period_for(org: Organisation, span: str, today: date) -> Period:
    """The last complete week, the last 30 days, or the plan year to date."""
    if span == "week":
        return metrics.last_complete_week(org, today)
    if span == "month":
        return Period(today - timedelta(days=30), today + timedelta(days=1))
    return metrics.plan_year_to_date(org, today + timedelta(days=1))


async def published(session: AsyncSession, org: Organisation, period: Period) -> WeeklyDigest:
    """The anonymised figures of a period, its change, and the plan year to date."""
    t = thresholds(org)
    current = await metrics.period_counts(session, org, period)
    previous = await metrics.period_counts(session, org, period.previous())
    year = await metrics.period_counts(session, org, metrics.plan_year_to_date(org, period.end))
    return WeeklyDigest(
        organisation=org.name,
        week=period,
        figures=publish(current, t, previous=previous),
        plan_year=publish(year, t),
        trend=[],
    )


def summary(digest: WeeklyDigest, key: str = "hr-kpi") -> Reply:
    """All KPI lines of a digest as one message (week-on-week changes only for a week)."""
    weekly = digest.week.days == 7
    lines = [
        (line.key, line.params)
        for line in digest.lines()[1:]
        if weekly or not line.key.startswith("kpi-change-")
    ]
    return Reply(
        key,
        organisation=digest.organisation,
        first_day=digest.week.start,
        last_day=digest.week.end - timedelta(days=1),
        body=Lines(lines),
    )


async def _org(turn: Turn) -> Organisation:
    assert turn.hr_user is not None
    return await orgs.by_id(turn.session, turn.hr_user.organisation_id)


async def show_menu(turn: Turn) -> list[Reply]:
    """The HR menu."""
    assert turn.hr_user is not None
    turn.state.clear()
    return [Reply("hr-menu", name=turn.hr_user.display_name, choices=menu_choices())]


async def show_kpis(turn: Turn) -> list[Reply]:
    """KPIs for the chosen span, only ever of HR's own organisation."""
    if turn.hr_user is None:
        return [Reply("error-not-allowed")]
    if turn.args[:1] != ["k"] or len(turn.args) < 2 or turn.args[1] not in SPANS:
        return await show_menu(turn)
    org = await _org(turn)
    period = period_for(org, turn.args[1], orgs.local_date(org, turn.now))
    digest = await published(turn.session, org, period)
    await audit.record(
        turn.session,
        actor_kind="hr",
        actor_id=turn.hr_user.id,
        action=f"view_kpi_{turn.args[1]}",
        now=turn.now,
        organisation_id=org.id,
    )
    reply = summary(digest)
    reply.choices = menu_choices()
    return [reply]


async def export(turn: Turn) -> list[Reply]:
    """The plan year's published figures as CSV."""
    if turn.hr_user is None:
        return [Reply("error-not-allowed")]
    org = await _org(turn)
    today = orgs.local_date(org, turn.now)
    digest = await published(turn.session, org, period_for(org, "year", today))
    await audit.record(
        turn.session,
        actor_kind="hr",
        actor_id=turn.hr_user.id,
        action="export_csv",
        now=turn.now,
        organisation_id=org.id,
    )
    csv = Attachment(
        f"eap-kpi-{org.code}-{today.isoformat()}.csv", "text/csv", digest.csv(turn.locale)
    )
    return [Reply("hr-export-ready", attachment=csv, choices=menu_choices())]

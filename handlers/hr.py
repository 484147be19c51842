"""HR in the chat: released KPIs of the last released month or of the plan year, a CSV export.

HR only ever reads stored releases of closed months (kpi.released), never live counts.
Payloads: hr | hr:k:month | hr:k:year | hrx (an old hr:k:week button shows the menu)
"""

from __future__ import annotations

from datetime import timedelta

from handlers.types import Attachment, Choice, Lines, Reply, Turn
from kpi import released
from kpi.report import MONTH, YEAR, Digest, plan_year_report, released_digest
from storage import audit, orgs
from storage.models import Organisation

SPANS = (MONTH, YEAR)


def menu_choices() -> list[Choice]:
    """The HR menu's buttons."""
    return [
        Choice("hr-kpi-month", "hr:k:month"),
        Choice("hr-kpi-year", "hr:k:year"),
        Choice("hr-export", "hrx"),
        Choice("menu-help", "help"),
    ]


def not_released(org: Organisation, turn: Turn) -> Reply:
    """The answer before the first release: figures come monthly, 14 days after a month ends."""
    today = orgs.local_date(org, turn.now)
    return Reply(
        "kpi-not-released",
        next_release=released.next_release(org, today),
        choices=menu_choices(),
    )


def summary(digest: Digest, key: str = "hr-kpi") -> Reply:
    """All KPI lines of a digest as one message, each figure with its error."""
    return Reply(
        key,
        organisation=digest.organisation,
        first_day=digest.period.start,
        last_day=digest.period.end - timedelta(days=1),
        body=Lines((line.key, line.params) for line in digest.lines()[1:]),
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
    """The released KPIs of the chosen span, only ever of HR's own organisation."""
    if turn.hr_user is None:
        return [Reply("error-not-allowed")]
    if turn.args[:1] != ["k"] or len(turn.args) < 2 or turn.args[1] not in SPANS:
        return await show_menu(turn)
    org = await _org(turn)
    today = orgs.local_date(org, turn.now)
    digest = await released_digest(turn.session, org, today=today, span=turn.args[1], trend=0)
    await audit.record(
        turn.session,
        actor_kind="hr",
        actor_id=turn.hr_user.id,
        action=f"view_kpi_{turn.args[1]}",
        now=turn.now,
        organisation_id=org.id,
    )
    if digest is None:
        return [not_released(org, turn)]
    reply = summary(digest)
    reply.choices = menu_choices()
    return [reply]


async def export(turn: Turn) -> list[Reply]:
    """The plan year's released figures, month by month, with their errors, as CSV."""
    if turn.hr_user is None:
        return [Reply("error-not-allowed")]
    org = await _org(turn)
    today = orgs.local_date(org, turn.now)
    report = await plan_year_report(turn.session, org, on=today)
    if report is None:  # early in a plan year: the last plan year's report until a release
        last_year = orgs.plan_year_start(org, today) - timedelta(days=1)
        report = await plan_year_report(turn.session, org, on=last_year)
    await audit.record(
        turn.session,
        actor_kind="hr",
        actor_id=turn.hr_user.id,
        action="export_csv",
        now=turn.now,
        organisation_id=org.id,
    )
    if report is None:
        return [not_released(org, turn)]
    csv = Attachment(
        f"eap-kpi-{org.code}-{today.isoformat()}.csv", "text/csv", report.csv(turn.locale)
    )
    return [Reply("hr-export-ready", attachment=csv, choices=menu_choices())]

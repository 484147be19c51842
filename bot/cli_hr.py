"""Operator commands for HR figures: show KPIs, send the digest, export the plan-year report."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.clock import utcnow
from bot.i18n import render
from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.digest import digest_replies, send_for
from handlers.hr import summary
from kpi import metrics, released
from kpi.metrics import Period, plan_year_to_date
from kpi.release import counts_to_json
from kpi.report import YEAR, plan_year_report, released_digest
from storage import audit, orgs
from storage.db import unit_of_work
from storage.errors import UnknownOrganisation


def add_parsers(commands: Any) -> None:
    """Add `kpi`, `digest` and `report` to the CLI."""
    kpi = commands.add_parser(
        "kpi",
        help="show an organisation's anonymous KPIs",
        description="Show released (protected) KPIs: the latest released month and its plan year.",
    )
    kpi_actions = kpi.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = kpi_actions.add_parser(
        "show", help="the latest released month ending by --to, and the plan year to its end"
    )
    show.add_argument("--org", required=True, help="organisation code")
    show.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (included)")
    show.add_argument("--format", choices=("table", "csv", "json"), default="table")
    show.add_argument("--locale", choices=("zh-TW", "en"), default=None)
    show.add_argument(
        "--raw",
        action="store_true",
        help="provider's checks only: live, unprotected counts as JSON (audited; never for HR)",
    )
    show.add_argument(
        "--from", dest="start", type=date.fromisoformat, help="with --raw: first day"
    )

    digest = commands.add_parser("digest", help="send the weekly HR digest now")
    digest_actions = digest.add_subparsers(dest="action", metavar="ACTION", required=True)
    send = digest_actions.add_parser("send", help="queue the digest to the organisation's HR")
    send.add_argument("--org", required=True, help="organisation code")
    send.add_argument("--dry-run", action="store_true", help="print it instead of sending")

    report = commands.add_parser(
        "report",
        help="export the plan-year report (CSV or XLSX)",
        description="The year-end summary tables of a plan year.",
    )
    report.add_argument("--org", required=True, help="organisation code")
    report.add_argument(
        "--on",
        type=date.fromisoformat,
        default=None,
        help="a day in the plan year (default: today)",
    )
    report.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    report.add_argument("--output", type=Path, required=True, help="file to write")
    report.add_argument("--locale", choices=("zh-TW", "en"), default=None)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a `kpi`, `digest` or `report` command."""
    locale = getattr(args, "locale", None) or settings.default_locale
    try:
        async with open_runtime(settings) as runtime, unit_of_work(runtime.sessions) as session:
            org = await orgs.by_code(session, args.org)
            now = utcnow()
            await audit.record(
                session,
                actor_kind="operator",
                action=f"cli_{args.command}",
                now=now,
                organisation_id=org.id,
            )
            if args.command == "kpi":
                return await _show(session, org, args, locale, now)
            if args.command == "digest":
                return await _digest(session, org, args, now)
            return await _report(session, org, args, locale, now)
    except UnknownOrganisation as err:
        print(f"eap-bot: no organisation with code {err.params.get('code')!r}", file=sys.stderr)
        return 2


RAW_WARNING = (
    "UNPROTECTED LIVE FIGURES for the provider's own checks only: do not give them to HR "
    "(HR reads released figures only)."
)


async def _show(session: Any, org: Any, args: argparse.Namespace, locale: str, now: Any) -> int:
    if args.raw:
        return await _show_raw(session, org, args, now)
    if args.start is not None:
        print("eap-bot: --from needs --raw (releases are whole months)", file=sys.stderr)
        return 2
    today = orgs.local_date(org, now)
    ending_by = args.end + timedelta(days=1) if args.end else None
    month = await released_digest(session, org, today=today, ending_by=ending_by)
    year = await released_digest(session, org, today=today, ending_by=ending_by, span=YEAR)
    if month is None or year is None:
        next_release = released.next_release(org, today)
        print(render(locale, "kpi-not-released", {"next_release": next_release}))
        return 0
    if args.format == "json":
        body = {
            "month": {"figures": month.figures, "errors": month.errors},
            "plan_year": {"figures": year.figures, "errors": year.errors},
        }
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
    elif args.format == "csv":
        sys.stdout.write(month.csv(locale).decode("utf-8-sig"))
    else:
        for digest in (month, year):
            reply = summary(digest)
            print(render(locale, reply.key, reply.params))
    return 0


async def _show_raw(session: Any, org: Any, args: argparse.Namespace, now: Any) -> int:
    """Live counts for the provider's own checks: warned, audited, never for HR."""
    today = orgs.local_date(org, now)
    end = (args.end or today) + timedelta(days=1)
    start = args.start or plan_year_to_date(org, end).start
    if start >= end:
        print("eap-bot: --from must be on or before --to", file=sys.stderr)
        return 2
    period = Period(start, end)
    await audit.record(
        session,
        actor_kind="operator",
        action="kpi-raw",
        now=now,
        organisation_id=org.id,
        detail={"start": start.isoformat(), "end": end.isoformat()},
    )
    counts = await metrics.period_counts(session, org, period)
    print(RAW_WARNING)
    print(json.dumps(counts_to_json(counts), ensure_ascii=False, indent=2, default=str))
    return 0


async def _digest(session: Any, org: Any, args: argparse.Namespace, now: Any) -> int:
    if args.dry_run:
        replies, _ = await digest_replies(session, org, now, "zh-TW", telegram=True)
        for reply in replies:
            print(render("zh-TW", reply.key, reply.params))
            if reply.attachment:
                print(f"  [{reply.attachment.filename}, {len(reply.attachment.content)} bytes]")
        return 0
    sent = await send_for(session, org, now)
    print(f"digest queued for {sent} HR users (already-sent weeks are not sent twice)")
    return 0


async def _report(session: Any, org: Any, args: argparse.Namespace, locale: str, now: Any) -> int:
    today = orgs.local_date(org, now)
    report = await plan_year_report(session, org, on=args.on or today)
    if report is None:
        next_release = released.next_release(org, today)
        print(render(locale, "kpi-not-released", {"next_release": next_release}), file=sys.stderr)
        return 1
    content = report.xlsx(locale) if args.format == "xlsx" else report.csv(locale)
    args.output.write_bytes(content)
    print(f"wrote {args.output} ({len(content)} bytes, plan year from {report.period.start})")
    return 0

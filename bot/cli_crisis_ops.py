"""Operator commands for crisis care: the monthly report and the on-call counselor."""

from __future__ import annotations

import argparse
import re
from datetime import date
from typing import Any

from bot.clock import utcnow
from bot.i18n import render
from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.crisis_report import report_replies
from storage import audit, crisis, crisis_alerts, orgs
from storage.db import unit_of_work
from storage.errors import NotFound, UnknownOrganisation
from storage.models import Counselor


def month(text: str) -> date:
    """The first day of a month written YYYY-MM."""
    try:
        year, number = (int(part) for part in text.split("-"))
        return date(year, number, 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"month must look like 2026-11, not {text!r}") from None


def phone(text: str) -> str:
    """A phone number as people write it: digits, spaces, dashes and a leading +."""
    number = " ".join(text.split())
    digits = sum(char.isdigit() for char in number)
    if not re.fullmatch(r"\+?[0-9][0-9 -]*[0-9]", number) or not 3 <= digits <= 20:
        raise argparse.ArgumentTypeError(
            f"a phone number is 3 to 20 digits with spaces or dashes, not {text!r}"
        )
    return number


def add_actions(actions: Any) -> None:
    """Add `crisis report` and `crisis on-call` to the crisis command."""
    report = actions.add_parser(
        "report",
        help="print a month's crisis report (counts only)",
        description="Crisis episodes and on-call hand-offs per organisation in a month, and how "
        "the bot handles a crisis, with the lines it shows. Nothing in it identifies anyone.",
    )
    report.add_argument("--month", type=month, help="YYYY-MM (default: last month)")
    report.add_argument("--locale", choices=("zh-TW", "en"), default=None)
    on_call = actions.add_parser(
        "on-call",
        help="show or set an organisation's on-call counselor",
        description="The counselor alerted when an employee says they are in danger and agrees "
        "to it. With neither --id nor --off, show who it is.",
    )
    on_call.add_argument("--org", required=True, help="organisation code")
    who = on_call.add_mutually_exclusive_group()
    who.add_argument("--id", type=int, help="counselor id (see: counselors list)")
    who.add_argument("--off", action="store_true", help="nobody: the hand-off is not offered")
    line = actions.add_parser(
        "org-line",
        help="show or set an organisation's own 24-hour EAP line",
        description="The organisation's own 24-hour line, shown with the public crisis lines. "
        "With neither --number nor --off, show it.",
    )
    line.add_argument("--org", required=True, help="organisation code")
    number = line.add_mutually_exclusive_group()
    number.add_argument("--number", type=phone, help="e.g. 0800-123-456 or +886 2 1234 5678")
    number.add_argument("--off", action="store_true", help="no line of its own")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `crisis report` or `crisis on-call`."""
    try:
        async with open_runtime(settings) as runtime, unit_of_work(runtime.sessions) as session:
            if args.crisis_command == "report":
                return await _report(session, args, settings)
            if args.crisis_command == "org-line":
                return await _org_line(session, args)
            return await _on_call(session, args)
    except UnknownOrganisation as err:
        print(f"eap-bot: no organisation with code {err.params.get('code')!r}")
        return 2


async def _report(session: Any, args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    first = args.month
    if first is None:
        today = now.astimezone(settings.tz).date()
        first = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    await audit.record(session, actor_kind="operator", action="crisis_report", now=now)
    report = await crisis.monthly_report(session, month=first)
    locale = args.locale or settings.default_locale
    print("\n\n".join(render(locale, r.key, r.params) for r in report_replies(report, locale)))
    return 0


async def _on_call(session: Any, args: argparse.Namespace) -> int:
    org = await orgs.by_code(session, args.org)
    if args.id is None and not args.off:
        current = await session.get(Counselor, org.on_call_counselor_id or 0)
        print(
            f"{org.code}: on-call counselor {current.id} {current.display_name}"
            if current
            else f"{org.code}: no on-call counselor (the hand-off is not offered)"
        )
        return 0
    if args.id is not None:
        counselor = await session.get(Counselor, args.id)
        if (
            counselor is not None
            and counselor.organisation_id == org.id
            and not counselor.external_id
        ):
            print(f"eap-bot: counselor {args.id} has not linked a chat yet; send the invite first")
            return 2
    try:
        chosen = await crisis_alerts.set_on_call(session, org, None if args.off else args.id)
    except NotFound:
        print(f"eap-bot: {org.code} has no counselor with id {args.id} (see: counselors list)")
        return 2
    await audit.record(
        session,
        actor_kind="operator",
        action="crisis_on_call",
        now=utcnow(),
        organisation_id=org.id,
        detail={"counselor_id": chosen.id if chosen else None},
    )
    print(
        f"{org.code}: on-call counselor is now {chosen.id} {chosen.display_name}"
        if chosen
        else f"{org.code}: no on-call counselor; the hand-off is not offered"
    )
    return 0


async def _org_line(session: Any, args: argparse.Namespace) -> int:
    org = await orgs.by_code(session, args.org)
    if args.number is None and not args.off:
        shown = org.crisis_line or "none (only the public lines are shown)"
        print(f"{org.code}: own 24-hour line {shown}")
        return 0
    org.crisis_line = None if args.off else args.number
    await audit.record(
        session,
        actor_kind="operator",
        action="crisis_org_line",
        now=utcnow(),
        organisation_id=org.id,
    )
    print(f"{org.code}: own 24-hour line {org.crisis_line or 'removed'}")
    return 0

"""Operator commands for staff: invite counselors and HR users, list and schedule counselors."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.clock import utcnow
from bot.runtime import open_runtime
from bot.settings import Settings
from storage import audit, counselors, orgs, roster, staff
from storage.db import unit_of_work
from storage.errors import UnknownOrganisation
from storage.models import Counselor


class CommandError(Exception):
    """A bad argument; the message says which and why."""


def add_parsers(commands: Any) -> None:
    """Add `invite` and `counselors` to the CLI."""
    invite = commands.add_parser(
        "invite",
        help="create a counselor or HR user and a one-time code to link their chat",
        description="Create a counselor or "
        "HR user and print a one-time code (valid 7 days) they send "
        "to the bot to link their chat.",
    )
    kinds = invite.add_subparsers(dest="kind", metavar="KIND", required=True)
    counselor = kinds.add_parser("counselor", help="invite a counselor")
    counselor.add_argument("--org", required=True, help="organisation code")
    counselor.add_argument("--name", required=True, help="name shown to employees")
    counselor.add_argument(
        "--domains", required=True, help="comma-separated: psychology,legal,finance,nutrition"
    )
    counselor.add_argument("--modes", required=True, help="comma-separated: video,phone,in_person")
    counselor.add_argument("--licence", required=True, help="licence number")
    counselor.add_argument(
        "--licence-expires",
        required=True,
        type=date.fromisoformat,
        help="licence expiry date, YYYY-MM-DD",
    )
    counselor.add_argument("--languages", default="zh-TW", help="e.g. zh-TW,en (default zh-TW)")
    hr = kinds.add_parser("hr", help="invite an HR user")
    hr.add_argument("--org", required=True, help="organisation code")
    hr.add_argument("--name", default="HR", help="a label for the HR user (default HR)")

    group = commands.add_parser(
        "counselors",
        help="list counselors and set their availability",
        description="List counselors, set weekly hours, import slots.",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list an organisation's counselors")
    listing.add_argument("--org", required=True, help="organisation code")
    hours = actions.add_parser("availability", help="set weekly hours and open slots for 30 days")
    hours.add_argument("--id", type=int, required=True, help="counselor id (see list)")
    hours.add_argument(
        "--weekly", required=True, help='e.g. "mon 09:00-12:00,14:00-17:00; wed 13:00-18:00"'
    )
    hours.add_argument("--session-minutes", type=int, default=60, help="default 60")
    hours.add_argument("--buffer", type=int, default=10, help="minutes between sessions (10)")
    hours.add_argument("--daily-cap", type=int, default=None, help="most sessions a day")
    imports = actions.add_parser("import-slots", help="add slots from a CSV file (date,start)")
    imports.add_argument("--id", type=int, required=True, help="counselor id (see list)")
    imports.add_argument("file", type=Path, help="CSV with header date,start")

    roster = commands.add_parser(
        "roster",
        help="import an organisation's roster",
        description="Manage the roster employees link against.",
    )
    roster_actions = roster.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = roster_actions.add_parser(
        "import",
        help="add or update employees from a CSV file",
        description="Import employee_number,department,status (active or left), with an "
        "optional fourth column enrolment_code (a code you hand out yourself). Employee numbers "
        "and codes are stored only as keyed hashes. Safe to rerun with the same file.",
    )
    load.add_argument(
        "file", type=Path, help="CSV: employee_number,department,status[,enrolment_code]"
    )
    load.add_argument("--org", required=True, help="organisation code")
    load.add_argument(
        "--generate-codes",
        type=Path,
        metavar="FILE",
        help="give active employees without an enrolment code a random single-use one and "
        "write employee_number,enrolment_code to FILE (a new file, readable by you only) "
        "for handing out; the codes are not stored anywhere else",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run an `invite` or `counselors` command."""
    try:
        async with open_runtime(settings) as runtime, unit_of_work(runtime.sessions) as session:
            if args.command == "invite":
                return await _invite(session, args)
            if args.command == "roster":
                return await _roster(session, args, settings)
            if args.action == "list":
                return await _list(session, args.org)
            counselor = await session.get(Counselor, args.id)
            if counselor is None:
                raise CommandError(f"no counselor with id {args.id}")
            org = await orgs.by_id(session, counselor.organisation_id)
            await audit.record(
                session,
                actor_kind="operator",
                action=f"counselors_{args.action.replace('-', '_')}",
                now=utcnow(),
                organisation_id=org.id,
                detail={"counselor_id": counselor.id},
            )
            if args.action == "availability":
                return await _availability(session, counselor, org, args)
            text = args.file.read_text(encoding="utf-8-sig")
            report = await counselors.import_slots(session, counselor, org, text, now=utcnow())
            print(f"added {report.added} slots, skipped {report.skipped} (overlapping or past)")
            for error in report.errors:
                print(f"  {error}")
            return 1 if report.errors else 0
    except UnknownOrganisation as err:
        print(f"eap-bot: no organisation with code {err.params.get('code')!r}")
        return 2
    except (CommandError, staff.BadStaffInput, ValueError, OSError) as err:
        print(f"eap-bot: {err}")
        return 2


async def _invite(session: Any, args: argparse.Namespace) -> int:
    org = await orgs.by_code(session, args.org)
    now = utcnow()
    if args.kind == "counselor":
        person = await staff.create_counselor(
            session,
            org=org,
            name=args.name,
            domains=args.domains,
            modes=args.modes,
            licence_number=args.licence,
            licence_expires_on=args.licence_expires,
            languages=args.languages,
        )
        code = await staff.issue_invite(session, org=org, now=now, counselor=person)
    else:
        hr_user = await staff.create_hr_user(session, org=org, name=args.name)
        code = await staff.issue_invite(session, org=org, now=now, hr_user=hr_user)
    await audit.record(
        session,
        actor_kind="operator",
        action=f"invite_{args.kind}",
        now=now,
        organisation_id=org.id,
    )
    print(f"one-time {args.kind} code for {org.code} (valid {staff.INVITE_DAYS} days): {code}")
    print("send it to the bot in LINE, Telegram or the console to link that chat")
    return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done >= total else ""
    print(f"\rimporting [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def _open_codes_file(path: Path | None) -> int | None:
    """Create the codes file now (before anything is imported): new, and for its owner only."""
    if path is None:
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists; refusing to overwrite it") from None


def _write_codes(handle: int, codes: list[tuple[str, str]]) -> None:
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["employee_number", "enrolment_code"])
        writer.writerows(codes)


async def _roster(session: Any, args: argparse.Namespace, settings: Settings) -> int:
    org = await orgs.by_code(session, args.org)
    text = args.file.read_text(encoding="utf-8-sig")
    now = utcnow()
    handle = _open_codes_file(args.generate_codes)
    try:
        report = await roster.import_csv(
            session,
            org,
            text,
            key=settings.require_pseudonym_key(),
            now=now,
            progress=_progress,
            generate_codes=handle is not None,
        )
        if handle is not None:
            _write_codes(handle, report.codes)
    except BaseException:
        if handle is not None:
            args.generate_codes.unlink(missing_ok=True)
        raise
    await audit.record(
        session,
        actor_kind="operator",
        action="roster_import",
        now=now,
        organisation_id=org.id,
        detail={
            "added": report.added,
            "updated": report.updated,
            "left": report.left,
            "errors": len(report.errors),
            "codes_generated": len(report.codes),
        },
    )
    print(
        f"roster {org.code}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.left} marked as left"
    )
    if args.generate_codes is not None:
        print(f"{len(report.codes)} new enrolment codes written to {args.generate_codes}")
    for error in report.errors:
        print(f"  {error}")
    return 1 if report.errors else 0


async def _list(session: Any, code: str) -> int:
    org = await orgs.by_code(session, code)
    now = utcnow()
    await audit.record(
        session, actor_kind="operator", action="counselors_list", now=now, organisation_id=org.id
    )
    today = orgs.local_date(org, now)
    rows = await staff.counselors_of(session, org)
    print(
        f"{'id':>4}  {'name':<12} {'domains':<22} {'modes':<20} {'licence':<12} "
        f"{'expires':<10} linked"
    )
    for c in rows:
        expired = " EXPIRED" if c.licence_expires_on < today else ""
        print(
            f"{c.id:>4}  {c.display_name:<12} {c.domains:<22} {c.modes:<20} "
            f"{c.licence_number:<12} {c.licence_expires_on}{expired} "
            f"{'yes' if c.external_id else 'no'}"
        )
    return 0


async def _availability(
    session: Any, counselor: Counselor, org: Any, args: argparse.Namespace
) -> int:
    if args.session_minutes < 15 or args.buffer < 0:
        raise CommandError("--session-minutes must be at least 15 and --buffer at least 0")
    weekly = counselors.parse_weekly(args.weekly)
    await counselors.set_availability(
        session,
        counselor,
        weekly=weekly,
        session_minutes=args.session_minutes,
        buffer_minutes=args.buffer,
        daily_cap=args.daily_cap,
    )
    added = await counselors.generate_slots(
        session, counselor, org, start=orgs.local_date(org, utcnow()), days=30
    )
    print(f"weekly hours saved; {added} new slots over the next 30 days (booked slots untouched)")
    return 0

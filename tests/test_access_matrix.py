"""Every payload and command of every role, tried by every other role: refused, nothing changed.

The payload list is read from the handlers' docstrings ("Payloads: ..."), the commands from
handlers.router.COMMANDS and the operator commands from the CLI's own parsers, so a new button
or command cannot be left out of this matrix. Intruders are an employee and an HR user of the
victim's organisation, another counselor, an employee and an HR user of another organisation,
and a stranger; forged payloads carry the victim's booking, feedback, series and waitlist ids.
Stale and replayed buttons change nothing the second time. HR and operator actions are
written to the audit log, without personal data; refused attempts write nothing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import re
import shlex
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import handlers
from bot import cli_hr, cli_staff
from bot.clock import utcnow
from bot.flood import FloodGuard
from bot.settings import Settings
from handlers.jobs import send_feedback_prompts
from handlers.router import COMMANDS, ROUTES, STAFF_ROUTES
from storage import bookings, orgs, staff
from storage.db import unit_of_work
from storage.models import (
    AuditLog,
    Booking,
    BookingSeries,
    Counselor,
    Feedback,
    HoursEntry,
    HrUser,
    Invite,
    Member,
    Organisation,
    OutboxMessage,
    RosterEntry,
    Slot,
    WaitlistEntry,
    WeeklyHours,
)
from storage.pseudonyms import employee_hash, enrolment_hash
from tests.conftest import TEST_KEY
from tests.helpers import Chat, release_figures
from tests.test_counselors import linked_counselor
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import link, seed_demo

PAYLOADS = re.compile(r"Payloads:(.*?)(?:\n\n|$)", re.S)
ID_PLACEHOLDERS = ("ID", "BOOKING", "SLOT")
# What a refused attempt may answer: not yours, not allowed, not (or no longer) possible.
REFUSALS = {
    "error-not-allowed",
    "error-not-found",
    "privacy-notice",
    "book-slot-taken",
    "book-slot-unavailable",
    "booking-not-active",
    "series-closed",
    "feedback-closed",
}
ROLE_ROUTES = {"co": "counselor", "hr": "hr", "hrx": "hr"}  # routes of one staff role only
STAFF = {  # each intruder's staff role ("" for employees and strangers)
    "employee": "",
    "other-org": "",
    "stranger": "",
    "other-counselor": "counselor",
    "hr": "hr",
    "other-org-hr": "hr",
}
HR_ACTIONS = {"hr:k:month": "view_kpi_month"}
HR_ACTIONS |= {"hr:k:year": "view_kpi_year", "hrx": "export_csv", "/export": "export_csv"}
# Changing one's own language, consent or data comes last, after the intruder's other tries.
SELF_CHANGING = ("lang:", "consent:", "priv:forget")
PERSONAL = ("victim", "mallory", "outsider", "E0002", "E0009", "X1", "王心怡", "林志明")
PERSONAL += ("People Team", "Other HR", "victim's note", "Dr Audit", "Audit HR", "E0500", "L-9")


def documented_payloads() -> list[str]:
    """Every payload pattern in the handler modules' docstrings."""
    found = []
    for module in pkgutil.iter_modules(handlers.__path__):
        doc = importlib.import_module(f"handlers.{module.name}").__doc__ or ""
        for block in PAYLOADS.findall(doc):
            text = re.sub(r"\(.*?\)", "", block.replace("\n", " "))
            found += [p.strip() for p in text.split(" | ") if p.strip()]
    return found


def test_every_route_and_command_is_documented() -> None:
    prefixes = {p.split(":")[0] for p in documented_payloads()}
    assert set(ROUTES) - prefixes - {"start"} == set()
    assert set(COMMANDS.values()) <= set(ROUTES)


def concrete(pattern: str, values: dict[str, str]) -> str:
    """Fill a pattern: optional parts dropped, alternatives the first, ids by prefix first."""
    pattern = re.sub(r"\[.*?\]", "", pattern)
    parts = [part.split("|")[0] for part in pattern.split(":")]
    return ":".join(values.get(f"{parts[0]}:{p}", values.get(p, p)) for p in parts)


def tries() -> list[tuple[str, bool]]:
    """(payload pattern or typed text, is a payload), self-changing ones last."""
    attempts = [(p, True) for p in documented_payloads()] + [(c, False) for c in COMMANDS]
    attempts += [(word, False) for word in operator_words()]
    return sorted(attempts, key=lambda a: a[1] and a[0].startswith(SELF_CHANGING))


def route_of(attempt: str, is_payload: bool) -> str | None:
    """The route a payload or typed text goes to, if any."""
    if is_payload:
        return attempt.split(":")[0]
    return COMMANDS.get(attempt.split()[0].lower())


def may_use(role: str, route: str | None) -> bool:
    """Whether a role may use a route at all (staff have their own menus only)."""
    if route is None or route in ("start", "help", "lang", "call", "cr", "m"):
        return True
    if route in ROLE_ROUTES:
        return ROLE_ROUTES[route] == STAFF[role]
    assert route not in STAFF_ROUTES, route
    return STAFF[role] == ""


@dataclass
class World:
    """The victim's things, their counselor, and the intruders."""

    victim: Chat
    owner: Chat
    booking: Booking
    values: dict[str, str]
    intruders: dict[str, Chat]
    hr_ids: dict[str, tuple[int, int]]  # role -> (HR user id, organisation id)


async def counselor_id(sessions, chat: Chat) -> int:
    """The id of the counselor linked to a chat."""
    async with sessions() as session:
        return int(
            await session.scalar(select(Counselor.id).where(Counselor.external_id == chat.user))
        )


async def other_org_employee(dispatcher, sessions, clock) -> Chat:
    """An employee of a second organisation."""
    async with unit_of_work(sessions) as session:
        org = Organisation(code="OTHER", name="Other Co", created_at=clock())
        session.add(org)
        await session.flush()
        session.add(
            RosterEntry(
                organisation_id=org.id,
                department="X",
                employee_hash=employee_hash(TEST_KEY.encode(), "OTHER", "X1"),
                enrolment_hash=enrolment_hash(TEST_KEY.encode(), "OTHERCODE1"),
                updated_at=clock(),
            )
        )
    chat = Chat(dispatcher, "outsider")
    await chat.say("hi")
    await chat.choose("consent-yes")
    await chat.say("OTHER")
    await chat.say("X1")
    await chat.say("OTHERCODE1")
    assert chat.keys == ["link-done", "menu-main"]
    return chat


async def linked_hr(dispatcher, sessions, clock, user: str, org_code: str, name: str) -> Chat:
    """An HR user of an organisation, linked to a chat with a one-time code."""
    async with unit_of_work(sessions) as session:
        org = await orgs.by_code(session, org_code)
        person = await staff.create_hr_user(session, org=org, name=name)
        code = await staff.issue_invite(session, org=org, now=clock(), hr_user=person)
    chat = Chat(dispatcher, user)
    await chat.say(code)
    assert chat.keys == ["hr-linked", "hr-menu"]
    return chat


async def held_session_with_feedback(victim: Chat, sessions, clock) -> int:
    """Book, hold the session, prompt for feedback; the feedback row's id."""
    params = await book_first(victim)
    async with unit_of_work(sessions) as session:
        booking = await session.scalar(select(Booking).order_by(Booking.id.desc()))
        clock.now = params["start"] + timedelta(hours=1)
        await bookings.complete(session, booking_id=booking.id, held=True, now=clock())
    assert await send_feedback_prompts(sessions, clock()) == 1
    async with sessions() as session:
        return int(await session.scalar(select(Feedback.id)))


async def build_world(dispatcher, sessions, clock) -> World:
    """Seed; give the victim a held session with feedback, a booking, a series and a waitlist."""
    dispatcher.flood = FloodGuard(limit=100_000)
    await seed_demo(sessions, clock)
    counselors = [
        await linked_counselor(dispatcher, sessions, clock),
        await linked_counselor(dispatcher, sessions, clock, "dr-b", "林志明"),
    ]
    victim = Chat(dispatcher, "victim")
    await link(victim)
    feedback_id = await held_session_with_feedback(victim, sessions, clock)
    await book_first(victim, note="victim's note")
    async with sessions() as session:
        booking = await session.scalar(select(Booking).order_by(Booking.id.desc()))
    owner, other = counselors
    if await counselor_id(sessions, owner) != booking.counselor_id:
        owner, other = other, owner
    await owner.tap(f"co:sero:{booking.id}:1:4")
    assert owner.keys == ["series-offered"]
    await victim.tap("wl:j:legal")
    assert victim.keys == ["waitlist-joined"]
    async with sessions() as session:
        series_id = await session.scalar(select(BookingSeries.id))
        waitlist_id = await session.scalar(select(WaitlistEntry.id))
    intruders = {
        "employee": Chat(dispatcher, "mallory"),
        "other-counselor": other,
        "hr": await linked_hr(dispatcher, sessions, clock, "hr-1", "DEMO", "People Team"),
        "other-org": await other_org_employee(dispatcher, sessions, clock),
        "other-org-hr": await linked_hr(dispatcher, sessions, clock, "hr-9", "OTHER", "Other HR"),
        "stranger": Chat(dispatcher, "stranger"),
    }
    await link(intruders["employee"], "E0009")
    values = {
        "ID": str(booking.id),
        "BOOKING": str(booking.id),
        "SLOT": str(booking.slot_id),
        "fb:ID": str(feedback_id),
        "ser:ID": str(series_id),
        "wl:ID": str(waitlist_id),
        "DOMAIN": "psychology",
        "MODE": "video",
        "YYYYMMDD": (clock().date() + timedelta(days=7)).strftime("%Y%m%d"),
        "N": "1",
        "PAGE": "0",
        "WEEKS": "1",
        "COUNT": "4",
        "HHMM": "1000",
        "NUMBER": "1925",
        "LOCALE": "en",
        "ORG": "DEMO",
        "WEEKDAY": "2",
    }
    hr_ids = {}
    async with sessions() as session:
        for role in ("hr", "other-org-hr"):
            hr_user = await session.scalar(
                select(HrUser).where(HrUser.external_id == intruders[role].user)
            )
            hr_ids[role] = (hr_user.id, hr_user.organisation_id)
    return World(victim, owner, booking, values, intruders, hr_ids)


async def fingerprint(sessions, world: World) -> tuple[Any, ...]:
    """What an intruder must not change: the victim's things, the staff, the operator's log."""
    victim_id, counselor = world.booking.member_id, world.booking.counselor_id

    async def rows(model: Any, *where: Any, order: Any = None) -> list[tuple[Any, ...]]:
        found = await session.scalars(select(model).where(*where).order_by(order or model.id))
        return [
            tuple(sorted((k, repr(v)) for k, v in vars(r).items() if k[0] != "_")) for r in found
        ]

    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    async with sessions() as session:
        return (
            await rows(Booking, Booking.member_id == victim_id),
            await rows(HoursEntry, HoursEntry.member_id == victim_id),
            await rows(Feedback),
            await rows(BookingSeries),
            await rows(WaitlistEntry, WaitlistEntry.member_id == victim_id),
            await rows(Member, Member.id == victim_id),
            await rows(Slot, Slot.counselor_id == counselor),
            await rows(WeeklyHours),
            await count(Counselor),
            await count(HrUser),
            await count(Invite),
            await count(OutboxMessage, OutboxMessage.recipient.in_(["victim", world.owner.user])),
            await count(AuditLog, AuditLog.actor_kind != "hr"),
        )


async def audit_rows(sessions) -> list[AuditLog]:
    """The audit log, oldest first."""
    async with sessions() as session:
        return list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))


def assert_no_personal_data(row: AuditLog) -> None:
    """Counts and internal ids only in the detail: no names, numbers, chat ids or notes."""
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in row.detail.values())
    text = json.dumps([row.action, row.actor_kind, row.detail], ensure_ascii=False)
    assert not [p for p in PERSONAL if p in text], (row.action, text)


async def test_no_role_can_touch_what_it_does_not_own(dispatcher, sessions, clock) -> None:
    world = await build_world(dispatcher, sessions, clock)
    before = await fingerprint(sessions, world)
    hr_actions: list[tuple[str, str]] = []
    attempts = tries()
    for role, chat in world.intruders.items():
        for attempt, is_payload in attempts:
            text = concrete(attempt, world.values) if is_payload else attempt
            audited = len(await audit_rows(sessions))
            replies = await (chat.tap(text) if is_payload else chat.say(text))
            where = (role, text, chat.keys)
            assert replies and "error-generic" not in chat.keys, where
            forged = is_payload and any(p in attempt.split(":") for p in ID_PLACEHOLDERS)
            if forged or not may_use(role, route_of(attempt, is_payload)):
                assert chat.keys[0] in REFUSALS, where
            assert await fingerprint(sessions, world) == before, where
            written = len(await audit_rows(sessions)) - audited
            assert written == (STAFF[role] == "hr" and text in HR_ACTIONS), where
            if written:
                hr_actions.append((role, HR_ACTIONS[text]))
    assert len(attempts) > 70 and len(hr_actions) == 2 * 4
    rows = await audit_rows(sessions)
    assert [(r.actor_kind, r.actor_id, r.organisation_id, r.action) for r in rows] == [
        ("hr", *world.hr_ids[role], action) for role, action in hr_actions
    ]
    for row in rows:
        assert_no_personal_data(row)
    await world.owner.tap(f"co:b:{world.booking.id}")
    assert world.owner.keys[0] == "counselor-booking"


async def test_hr_sees_only_its_own_organisation(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await other_org_employee(dispatcher, sessions, clock)
    own = await linked_hr(dispatcher, sessions, clock, "hr-1", "DEMO", "People Team")
    other = await linked_hr(dispatcher, sessions, clock, "hr-9", "OTHER", "Other HR")
    await release_figures(sessions, clock())  # no noise: this checks who sees what
    for chat, name in ((own, "示範科技股份有限公司"), (other, "Other Co")):
        for span in ("month", "year"):
            await chat.tap(f"hr:k:{span}")
            assert chat.keys == ["hr-kpi"] and chat.replies[0].params["organisation"] == name
        await chat.say("/export")
        assert chat.keys == ["hr-export-ready"]
        assert ("DEMO" in chat.replies[0].attachment.filename) == (chat is own)


def test_ids_are_filled_in_by_payload_prefix() -> None:
    values = {"ID": "7", "fb:ID": "8", "SLOT": "9"}
    assert concrete("fb:s:ID:N", values) == "fb:s:8:N"
    assert concrete("my:r:ID[:PAGE]", values) == "my:r:7"
    assert concrete("bk:ok:SLOT:DOMAIN:MODE", values) == "bk:ok:9:DOMAIN:MODE"


# Stale and replayed buttons --------------------------------------------------------------------


async def confirm_payload(chat: Chat) -> str:
    """Walk the booking flow to the first free psychology video slot; its confirm payload."""
    await chat.tap("bk")
    await chat.choose("domain-psychology")
    await chat.choose("mode-video")
    await chat.choose("book-day")
    await chat.choose("book-slot")
    assert chat.keys[-1] == "book-confirm"
    return chat.payload_of("book-confirm-yes")


async def state(sessions) -> tuple[Any, ...]:
    """Bookings, the hours ledger, series and waitlist entries, as they stand."""
    async with sessions() as session:
        found = []
        for model in (Booking, HoursEntry, BookingSeries, WaitlistEntry):
            rows = await session.scalars(select(model).order_by(model.id))
            found.append([repr(sorted(vars(r).items(), key=str)[1:]) for r in rows])
    return tuple(found)


async def twice(chat: Chat, payload: str, sessions, first: str) -> str:
    """Tap a button, check the first answer; tap it again: nothing changes. The second key."""
    await chat.tap(payload)
    assert chat.keys[0] == first, (payload, chat.keys)
    after_first = await state(sessions)
    await chat.tap(payload)
    assert await state(sessions) == after_first, payload
    assert chat.keys[0] in REFUSALS, (payload, chat.keys)
    return chat.keys[0]


async def test_stale_and_replayed_buttons_change_nothing_the_second_time(
    dispatcher, sessions, clock
) -> None:
    dispatcher.flood = FloodGuard(limit=100_000)
    await seed_demo(sessions, clock)
    alice, bob = Chat(dispatcher, "alice"), Chat(dispatcher, "bob")
    await link(alice)
    await link(bob, "E0003")
    confirm = await confirm_payload(alice)
    bob_confirm = await confirm_payload(bob)
    assert bob_confirm == confirm  # both saw the same free slot
    assert await twice(alice, confirm, sessions, "book-confirmed") == "book-slot-taken"
    unchanged = await state(sessions)
    await bob.tap(bob_confirm)  # the slot went to alice meanwhile
    assert bob.keys[0] == "book-slot-taken" and await state(sessions) == unchanged
    await bob.tap(confirm.replace("bk:ok", "bk:note"))
    assert bob.keys[0] == "book-slot-unavailable" and await state(sessions) == unchanged

    async with sessions() as session:
        booking = await session.scalar(select(Booking))
    counselor = await linked_counselor(dispatcher, sessions, clock)
    if await counselor_id(sessions, counselor) != booking.counselor_id:
        counselor = await linked_counselor(dispatcher, sessions, clock, "dr-b", "林志明")
    await counselor.tap(f"co:sero:{booking.id}:1:4")
    assert counselor.keys == ["series-offered"]
    async with sessions() as session:
        series_id = await session.scalar(select(BookingSeries.id))
    assert await twice(alice, f"ser:y:{series_id}", sessions, "series-result") == "series-closed"
    await alice.tap(f"ser:n:{series_id}")  # declining what was accepted
    assert alice.keys[0] == "series-closed"

    await alice.tap("wl:j:legal")
    async with sessions() as session:
        entry = await session.scalar(select(WaitlistEntry.id))
    clock.advance(minutes=5)
    assert await twice(alice, f"wl:x:{entry}", sessions, "waitlist-left") == "error-not-found"
    clock.now = booking.starts_at - timedelta(hours=2)  # inside the cancellation cutoff
    assert await twice(alice, f"my:cy:{booking.id}", sessions, "cancel-done-late") in REFUSALS
    cancelled = await state(sessions)
    for stale in (f"my:c:{booking.id}", f"my:r:{booking.id}", f"co:decy:{booking.id}"):
        chat = counselor if stale.startswith("co") else alice
        await chat.tap(stale)
        assert chat.keys[0] in REFUSALS, (stale, chat.keys)
        assert await state(sessions) == cancelled, stale


# Operator commands -----------------------------------------------------------------------------


def operator_parser() -> argparse.ArgumentParser:
    """The operator commands of the CLI, as `bot.cli` registers them."""
    parser = argparse.ArgumentParser(prog="eap-bot")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_staff.add_parsers(commands)
    cli_hr.add_parsers(commands)
    return parser


def operator_commands() -> set[tuple[str, ...]]:
    """Every operator command and sub-command, e.g. ("invite", "hr") or ("report",)."""
    found: set[tuple[str, ...]] = set()
    for action in operator_parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
            found |= {(name, s) for a in nested for s in a.choices} or {(name,)}
    return found


# Each operator command with arguments that succeed, and the audit action it writes.
OPERATOR = {
    ("invite", "counselor"): (
        "invite counselor --org DEMO --name {name} --domains legal --modes video "
        "--licence L-9 --licence-expires 2030-01-31",
        "invite_counselor",
    ),
    ("invite", "hr"): ("invite hr --org DEMO --name {hr_name}", "invite_hr"),
    ("counselors", "list"): ("counselors list --org DEMO", "counselors_list"),
    ("counselors", "availability"): (
        "counselors availability --id {counselor} --weekly 'mon 09:00-12:00'",
        "counselors_availability",
    ),
    ("counselors", "import-slots"): (
        "counselors import-slots --id {counselor} {slots}",
        "counselors_import_slots",
    ),
    ("roster", "import"): ("roster import {roster} --org DEMO", "roster_import"),
    ("kpi", "show"): ("kpi show --org DEMO --format json", "cli_kpi"),
    ("digest", "send"): ("digest send --org DEMO", "cli_digest"),
    ("report",): ("report --org DEMO --format csv --output {report}", "cli_report"),
}
REFUSED = (
    "invite hr --org NOPE",
    "invite counselor --org DEMO --name X --domains magic --modes video --licence L "
    "--licence-expires 2030-01-01",
    "counselors availability --id 999999 --weekly 'mon 09:00-10:00'",
    "counselors import-slots --id 999999 {slots}",
    "roster import {roster} --org NOPE",
    "kpi show --org NOPE",
    "digest send --org NOPE",
    "report --org NOPE --format csv --output {report}",
)


def operator_words() -> list[str]:
    """Operator commands as someone might type them into the chat."""
    words = {f"/{command[0]}" for command in OPERATOR}
    return sorted(words | {argv.split(" {")[0] for argv, _ in OPERATOR.values()})


async def operate(line: str, settings: Settings, files: dict[str, str]) -> int:
    """Run one operator command in this process, as `python bot.py ...` would."""
    argv = shlex.split(line.format(**files))
    args = operator_parser().parse_args(argv)
    module = cli_hr if args.command in ("kpi", "digest", "report") else cli_staff
    return await module.run(args, settings)


async def operator_state(sessions) -> tuple[int, ...]:
    """Row counts an operator command may change."""
    async with sessions() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(model)))
                for model in (AuditLog, HrUser, Counselor, Invite, RosterEntry, Slot, WeeklyHours)
            ]
        )


def test_every_operator_command_is_in_the_table() -> None:
    assert operator_commands() == set(OPERATOR)


async def test_operator_commands_are_audited_and_refusals_change_nothing(
    sessions, settings, clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(sessions, clock)
    async with sessions() as session:
        demo = await session.scalar(select(Organisation).where(Organisation.code == "DEMO"))
        counselor = await session.scalar(select(Counselor.id).order_by(Counselor.id))
    (tmp_path / "slots.csv").write_text("date,start\n2031-03-04,10:00\n")
    (tmp_path / "roster.csv").write_text("employee_number,department,status\nE0500,Ops,active\n")
    files = {
        "name": "'Dr Audit'",
        "hr_name": "'Audit HR'",
        "counselor": str(counselor),
        **{name: shlex.quote(str(tmp_path / f"{name}.csv")) for name in ("slots", "roster")},
        "report": shlex.quote(str(tmp_path / "report.csv")),
    }
    for line in REFUSED:
        before = await operator_state(sessions)
        assert await operate(line, settings, files) == 2, line
        assert await operator_state(sessions) == before, line
    # No noise: the report needs a release to write, of the plan year of the CLI's own clock.
    await release_figures(sessions, utcnow())
    for command, (line, action) in OPERATOR.items():
        audited = len(await audit_rows(sessions))
        assert await operate(line, settings, files) == 0, command
        rows = (await audit_rows(sessions))[audited:]
        assert [(r.actor_kind, r.actor_id, r.organisation_id, r.action) for r in rows] == [
            ("operator", None, demo.id, action)
        ]
        assert_no_personal_data(rows[0])
    capsys.readouterr()

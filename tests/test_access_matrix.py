"""Every payload the handlers document, tried by every role that does not own it: refused
clearly, nothing changed. The payload list is read from the handlers' docstrings, and every
route must be documented there, so a new button cannot be left out of this matrix."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from sqlalchemy import func, select

import handlers
from bot.flood import FloodGuard
from handlers.router import COMMANDS, ROUTES
from storage.db import unit_of_work
from storage.models import (
    Booking,
    BookingSeries,
    Feedback,
    HoursEntry,
    Organisation,
    RosterEntry,
    Slot,
)
from storage.pseudonyms import employee_hash
from tests.conftest import TEST_KEY
from tests.helpers import Chat
from tests.test_counselors import first_booking, linked_counselor
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import link, seed_demo

PAYLOADS = re.compile(r"Payloads:(.*?)(?:\n\n|$)", re.S)
COUNSELOR_ONLY = ("co",)


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
    """Fill a documented pattern with values: optional parts dropped, alternatives the first."""
    pattern = re.sub(r"\[.*?\]", "", pattern)
    parts = [part.split("|")[0] for part in pattern.split(":")]
    return ":".join(values.get(part, part) for part in parts)


async def fingerprint(sessions, booking_id: int, counselor_id: int) -> tuple:
    """What an attacker must not change: the victim's booking, ledger, feedback, slots."""
    async with sessions() as session:
        booking = await session.get(Booking, booking_id)
        ledger = await session.scalar(
            select(func.count())
            .select_from(HoursEntry)
            .where(HoursEntry.member_id == booking.member_id)
        )
        feedback = await session.scalar(select(func.count()).select_from(Feedback))
        blocked = await session.scalar(
            select(func.count())
            .select_from(Slot)
            .where(Slot.counselor_id == counselor_id, Slot.blocked.is_(True))
        )
        added = await session.scalar(
            select(func.count()).select_from(Slot).where(Slot.counselor_id == counselor_id)
        )
        series = await session.scalar(select(func.count()).select_from(BookingSeries))
    return (
        booking.status,
        booking.starts_at,
        booking.note,
        ledger,
        feedback,
        blocked,
        added,
        series,
    )


async def other_org_employee(dispatcher, sessions, clock) -> Chat:
    """An employee of a second organisation."""
    async with unit_of_work(sessions) as session:
        org = Organisation(code="OTHER", name="Other Co")
        session.add(org)
        await session.flush()
        session.add(
            RosterEntry(
                organisation_id=org.id,
                department="X",
                employee_hash=employee_hash(TEST_KEY.encode(), "OTHER", "X1"),
            )
        )
    chat = Chat(dispatcher, "outsider")
    await chat.say("hi")
    await chat.choose("consent-yes")
    await chat.say("OTHER")
    await chat.say("X1")
    assert chat.keys == ["link-done", "menu-main"]
    return chat


@pytest.fixture
def patterns() -> list[str]:
    return documented_payloads()


async def test_no_role_can_touch_what_it_does_not_own(
    dispatcher, sessions, clock, patterns
) -> None:
    dispatcher.flood = FloodGuard(limit=100_000)
    await seed_demo(sessions, clock)
    owner = await linked_counselor(dispatcher, sessions, clock)
    victim = Chat(dispatcher, "victim")
    await link(victim)
    await book_first(victim, note="victim's note")
    booking = await first_booking(sessions)
    intruders = {
        "employee": Chat(dispatcher, "mallory"),
        "other-counselor": await linked_counselor(dispatcher, sessions, clock, "dr-b", "林志明"),
        "other-org": await other_org_employee(dispatcher, sessions, clock),
        "stranger": Chat(dispatcher, "stranger"),
    }
    await link(intruders["employee"], "E0009")
    values = {
        "ID": str(booking.id),
        "BOOKING": str(booking.id),
        "SLOT": str(booking.slot_id),
        "DOMAIN": "psychology",
        "MODE": "video",
        "YYYYMMDD": "20261201",
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
    before = await fingerprint(sessions, booking.id, booking.counselor_id)
    tried = 0
    for role, chat in intruders.items():
        for pattern in patterns:
            payload = concrete(pattern, values)
            replies = await chat.tap(payload)
            assert replies and "error-generic" not in chat.keys, (role, payload, chat.keys)
            if payload.split(":")[0] in COUNSELOR_ONLY and role != "other-counselor":
                refusals = ("error-not-allowed", "privacy-notice", "link-required")
                assert chat.keys[0] in refusals, (role, payload)
            assert await fingerprint(sessions, booking.id, booking.counselor_id) == before, (
                role,
                payload,
            )
            tried += 1
    assert tried == len(intruders) * len(patterns) and len(patterns) > 40
    await owner.tap(f"co:b:{booking.id}")
    assert owner.keys[0] == "counselor-booking"

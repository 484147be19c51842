"""A crisis message in every step of every flow, for every role, gets the crisis replies first;
what was interrupted waits, untouched, until the person goes back to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.dispatch import Dispatcher
from bot.flood import FloodGuard
from handlers.types import from_payload
from storage import conversation
from storage.models import Booking, Counselor
from tests.conftest import BASE_NOW
from tests.crisis_helpers import CRISIS_EN, CRISIS_ZH, calls, payloads
from tests.helpers import Chat, Clock
from tests.test_access_matrix import held_session_with_feedback, linked_hr
from tests.test_counselors import linked_counselor
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import code_of, link, seed_demo

Setup = Callable[[Dispatcher, object, Clock], Awaitable[Chat]]


@pytest.fixture
def clock() -> Clock:
    """One date is enough here: the steps, not the calendar, are under test."""
    return Clock(BASE_NOW)


async def employee(dispatcher, sessions, clock, *taps: str) -> Chat:
    chat = Chat(dispatcher, "alice")
    await link(chat)
    for payload in taps:
        await chat.tap(payload)
    return chat


async def first_contact(dispatcher, sessions, clock) -> Chat:
    chat = Chat(dispatcher, "alice")
    await chat.say("hi")
    return chat


async def org_code(dispatcher, sessions, clock) -> Chat:
    chat = await first_contact(dispatcher, sessions, clock)
    await chat.choose("consent-yes")
    assert chat.keys == ["link-ask-org"]
    return chat


async def employee_number(dispatcher, sessions, clock) -> Chat:
    chat = await org_code(dispatcher, sessions, clock)
    await chat.say("DEMO")
    return chat


async def enrolment_code(dispatcher, sessions, clock) -> Chat:
    chat = await employee_number(dispatcher, sessions, clock)
    await chat.say("E0002")
    return chat


async def booking_step(dispatcher, sessions, clock, labels: tuple[str, ...]) -> Chat:
    chat = await employee(dispatcher, sessions, clock, "bk")
    for label in labels:
        await chat.choose(label)
    return chat


BOOKING = ("domain-psychology", "mode-video", "book-day", "book-slot", "book-add-note")


def booking_at(depth: int) -> Setup:
    async def setup(dispatcher, sessions, clock) -> Chat:
        return await booking_step(dispatcher, sessions, clock, BOOKING[:depth])

    return setup


async def my_bookings(dispatcher, sessions, clock, label: str | None = None) -> Chat:
    chat = await employee(dispatcher, sessions, clock)
    await book_first(chat)
    await chat.tap("my")
    if label:
        await chat.choose(label)
    return chat


async def feedback(dispatcher, sessions, clock, answers: int = 0) -> Chat:
    chat = await employee(dispatcher, sessions, clock)
    feedback_id = await held_session_with_feedback(chat, sessions, clock)
    await chat.tap("fb")
    for payload in (f"fb:s:{feedback_id}:5", f"fb:r:{feedback_id}:yes", f"fb:a:{feedback_id}:yes"):
        if answers == 0:
            break
        await chat.tap(payload)
        answers -= 1
    return chat


async def counselor(dispatcher, sessions, clock, *taps: str) -> Chat:
    chat = await linked_counselor(dispatcher, sessions, clock)
    for payload in taps:
        await chat.tap(payload)
    return chat


async def counselor_declining(dispatcher, sessions, clock) -> Chat:
    await book_first(await employee(dispatcher, sessions, clock))
    async with sessions() as session:
        booking = await session.scalar(select(Booking))
        name = await session.scalar(
            select(Counselor.display_name).where(Counselor.id == booking.counselor_id)
        )
    chat = await linked_counselor(dispatcher, sessions, clock, "dr", name)
    await chat.tap(f"co:dec:{booking.id}")
    return chat


async def hr(dispatcher, sessions, clock, *taps: str) -> Chat:
    chat = await linked_hr(dispatcher, sessions, clock, "hr-1", "DEMO", "People Team")
    for payload in taps:
        await chat.tap(payload)
    return chat


def with_taps(setup: Callable[..., Awaitable[Chat]], *args: object) -> Setup:
    async def run(dispatcher, sessions, clock) -> Chat:
        return await setup(dispatcher, sessions, clock, *args)

    return run


STEPS: dict[str, Setup] = {
    "employee/privacy-notice": first_contact,
    "employee/link-org-code": org_code,
    "employee/link-employee-number": employee_number,
    "employee/link-enrolment-code": enrolment_code,
    "employee/menu": with_taps(employee),
    "employee/about": with_taps(employee, "about"),
    "employee/hours": with_taps(employee, "hrs"),
    "employee/book-domain": booking_at(0),
    "employee/book-mode": booking_at(1),
    "employee/book-day": booking_at(2),
    "employee/book-slot": booking_at(3),
    "employee/book-confirm": booking_at(4),
    "employee/book-note": booking_at(5),
    "employee/my-bookings": my_bookings,
    "employee/cancel-confirm": with_taps(my_bookings, "my-cancel"),
    "employee/reschedule": with_taps(my_bookings, "my-reschedule"),
    "employee/feedback-question": with_taps(feedback, 1),
    "employee/feedback-comment": with_taps(feedback, 3),
    "employee/waitlist": with_taps(employee, "wl:j:legal"),
    "employee/language": with_taps(employee, "lang"),
    "employee/privacy": with_taps(employee, "priv"),
    "employee/forget-me-confirm": with_taps(employee, "priv:forget"),
    "counselor/menu": with_taps(counselor),
    "counselor/agenda": with_taps(counselor, "co:ag"),
    "counselor/upcoming": with_taps(counselor, "co:up"),
    "counselor/add-slot": with_taps(counselor, "co:add"),
    "counselor/block-slot": with_taps(counselor, "co:blk"),
    "counselor/decline-confirm": counselor_declining,
    "hr/menu": with_taps(hr),
    "hr/kpi": with_taps(hr, "hr:k:month"),
}


@pytest.mark.parametrize("step", sorted(STEPS))
async def test_a_crisis_in_any_step_comes_first_and_the_step_waits(
    dispatcher, sessions, clock, step: str
) -> None:
    dispatcher.flood = FloodGuard(limit=100_000)
    await seed_demo(sessions, clock)
    chat = await STEPS[step](dispatcher, sessions, clock)
    async with sessions() as session:
        flow, where, data = await conversation.load(session, "test", chat.user)
    text = CRISIS_EN if step.endswith(("language", "hours")) else CRISIS_ZH
    await chat.say(text)
    assert chat.keys == ["crisis-lines-self", "crisis-ask"], step
    assert calls(chat.replies) == ["1925", "1995", "1980"], step
    await chat.say("好")  # never a note, a code, a comment or an answer of the step
    assert chat.keys == ["crisis-lines-again", "crisis-ask"], step
    if not flow:
        assert "cr:back" not in payloads(chat.replies), step
        await chat.choose("crisis-answer-safe")
        assert chat.keys == ["crisis-safe"] and "m" in payloads(chat.replies), step
        return
    await chat.choose("crisis-back")
    assert chat.keys[0] == "crisis-back-done", step
    saved = from_payload({"replies": [{"key": "", "choices": data.get("_choices", [])}]})
    assert payloads(chat.replies[:1]) == payloads(saved), step
    async with sessions() as session:
        restored = await conversation.load(session, "test", chat.user)
    assert restored == (flow, where, data), step


async def test_back_in_the_linking_step_asks_for_the_enrolment_code_again(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    chat = await enrolment_code(dispatcher, sessions, clock)
    await chat.say(CRISIS_ZH)
    await chat.choose("crisis-back")
    assert chat.keys == ["crisis-back-done", "link-ask-enrolment-code"]
    await chat.say(code_of("E0002"))
    assert chat.keys == ["link-done", "menu-main"]

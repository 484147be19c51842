"""Dialogs: book, cancel, reschedule, reminders, feedback, crisis, and refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.jobs import send_feedback_prompts, send_reminders
from handlers.types import Key, from_payload
from storage import bookings
from storage.db import unit_of_work
from storage.models import Booking, BookingStatus, CrisisEvent, Feedback, OutboxMessage
from tests.helpers import Chat, in_this_plan_year
from tests.test_dialog_onboarding import link, seed_demo


async def book_first(chat: Chat, note: str | None = None) -> dict:
    """Walk the booking flow to the first free psychology video slot; return confirm params."""
    await chat.tap("bk")
    assert chat.keys == ["book-choose-domain"]
    await chat.choose("domain-psychology")
    assert chat.keys == ["book-choose-mode"]
    await chat.choose("mode-video")
    assert chat.keys == ["book-choose-day"]
    await chat.choose("book-day")
    assert chat.keys == ["book-choose-slot"]
    await chat.choose("book-slot")
    if note:
        await chat.choose("book-add-note")
        assert chat.keys == ["book-ask-note"]
        await chat.say(note)
        assert chat.keys == ["book-note-saved", "book-confirm"]
    assert chat.keys[-1] == "book-confirm"
    params = dict(chat.replies[-1].params)
    await chat.choose("book-confirm-yes")
    assert chat.keys == ["book-confirmed"]
    return params


async def outbox_rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_book_with_note_and_see_hours(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    params = await book_first(chat, note="I'd like to talk about stress")
    assert params["domain"] == Key("domain-psychology") and params["mode"] == Key("mode-video")
    assert (params["minutes"], params["hours"], params["cutoff"], params["note"]) == (60, 1, 24, 1)
    start = params["start"]
    assert start.utcoffset() == timedelta(hours=8)
    assert start - clock() >= timedelta(hours=24)
    async with sessions() as session:
        booking = await session.scalar(select(Booking))
    assert booking.note == "I'd like to talk about stress"
    assert booking.starts_at == start
    await chat.tap("hrs")
    reserved = 1 if in_this_plan_year(start, clock()) else 0  # on 31 Dec it is next year's
    assert (chat.replies[0].params["reserved"], chat.replies[0].params["left"]) == (
        reserved,
        8 - reserved,
    )


async def test_days_and_slots_paginate(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.tap("bk:m:psychology:video")
    days = [c for c in chat.replies[0].choices if c.label == "book-day"]
    assert len(days) == 6
    await chat.choose("book-more")
    later = [c for c in chat.replies[0].choices if c.label == "book-day"]
    assert later and set(c.payload for c in later).isdisjoint(c.payload for c in days)


async def test_free_text_where_a_button_was_expected(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await chat.tap("bk")
    await chat.choose("domain-legal")
    shown = [c.payload for c in chat.replies[0].choices]
    await chat.say("tomorrow please")
    assert chat.keys == ["not-understood"]
    assert [c.payload for c in chat.replies[0].choices] == shown


async def test_forged_and_stale_buttons_are_refused_clearly(
    chat, dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await book_first(chat)
    async with sessions() as session:
        booking = await session.scalar(select(Booking))
    bob = Chat(dispatcher, "bob")
    await link(bob, "E0003")
    await bob.tap(f"my:cy:{booking.id}")
    assert bob.keys == ["error-not-found", "menu-main"]
    await bob.tap(f"bk:ok:{booking.slot_id}:psychology:video")
    assert bob.keys[0] == "book-slot-taken"
    await bob.tap("bk:ok:999999:psychology:video")
    assert bob.keys[0] == "book-slot-unavailable"
    await bob.tap("bk:day:psychology:video:notadate")
    assert bob.keys == ["book-choose-domain"]
    async with sessions() as session:
        assert (await session.get(Booking, booking.id)).status == BookingStatus.BOOKED
        assert await session.scalar(select(func.count()).select_from(Booking)) == 1


async def test_cancel_before_cutoff_returns_hours(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await book_first(chat)
    await chat.tap("my")
    assert chat.keys == ["my-booking"]
    await chat.choose("my-cancel")
    assert chat.keys == ["cancel-confirm-free"]
    await chat.choose("cancel-yes")
    assert chat.keys == ["cancel-done-free"]
    await chat.tap("hrs")
    assert chat.replies[0].params["left"] == 8


async def test_cancel_after_cutoff_is_announced_and_forfeits(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    params = await book_first(chat)
    clock.now = params["start"] - timedelta(hours=3)
    await chat.tap("my")
    await chat.choose("my-cancel")
    assert chat.keys == ["cancel-confirm-late"]
    assert chat.replies[0].params["cutoff"] == 24
    await chat.choose("cancel-yes")
    assert chat.keys == ["cancel-done-late"]
    await chat.tap("hrs")
    assert (chat.replies[0].params["used"], chat.replies[0].params["left"]) == (1, 7)


async def test_reschedule_moves_the_booking(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    first = await book_first(chat)
    await chat.tap("my")
    await chat.choose("my-reschedule")
    assert chat.keys == ["reschedule-choose-day"]
    await chat.choose("book-day", 1)
    await chat.choose("book-slot")
    assert chat.keys == ["reschedule-confirm"]
    new_start = chat.replies[0].params["new_start"]
    await chat.choose("reschedule-yes")
    assert chat.keys == ["reschedule-done"]
    assert chat.replies[0].params["start"] == new_start != first["start"]
    async with sessions() as session:
        statuses = sorted(s.value for s in await session.scalars(select(Booking.status)))
    assert statuses == ["booked", "rescheduled"]
    await chat.tap("hrs")
    reserved = 1 if in_this_plan_year(new_start, clock()) else 0  # on 31 Dec it is next year's
    assert (chat.replies[0].params["reserved"], chat.replies[0].params["left"]) == (
        reserved,
        8 - reserved,
    )


async def test_left_employee_loses_booking_rights(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat, "E0030")
    async with unit_of_work(sessions) as session:
        from storage.models import Member, RosterEntry

        member = await session.scalar(select(Member).where(Member.external_id == "alice"))
        (await session.get(RosterEntry, member.roster_entry_id)).status = "left"
    await chat.tap("bk")
    assert chat.keys == ["link-employee-left", "menu-main"]


async def test_reminders_go_to_the_outbox_once(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    params = await book_first(chat)
    clock.now = params["start"] - timedelta(hours=25)
    assert await send_reminders(sessions, clock()) == 0
    clock.now = params["start"] - timedelta(hours=23)
    assert await send_reminders(sessions, clock()) == 1
    assert await send_reminders(sessions, clock()) == 0
    clock.now = params["start"] - timedelta(minutes=50)
    assert await send_reminders(sessions, clock()) == 1
    rows = await outbox_rows(sessions)
    assert [r.idempotency_key.split(":")[0] for r in rows] == ["reminder-24h", "reminder-1h"]
    assert rows[0].recipient == "alice" and rows[0].channel.value == "test"
    reply = from_payload(rows[0].payload)[0]
    assert reply.key == "reminder-24h" and reply.params["start"] == params["start"]


async def test_feedback_prompt_after_a_held_session(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    params = await book_first(chat)
    async with unit_of_work(sessions) as session:
        booking = await session.scalar(select(Booking))
        clock.now = params["start"] + timedelta(hours=1)
        await bookings.complete(session, booking_id=booking.id, held=True, now=clock())
    assert await send_feedback_prompts(sessions, clock()) == 1
    assert await send_feedback_prompts(sessions, clock()) == 0
    prompt = from_payload((await outbox_rows(sessions))[-1].payload)
    assert [r.key for r in prompt] == ["feedback-prompt", "feedback-ask-satisfaction"]
    clock.advance(hours=49)
    assert await send_feedback_prompts(sessions, clock()) == 1
    assert await send_feedback_prompts(sessions, clock()) == 0
    await chat.tap("fb")
    assert chat.keys == ["feedback-ask-satisfaction"]
    await chat.choose("feedback-score-4")
    assert chat.keys == ["feedback-ask-resolved"]
    await chat.choose("feedback-resolved-partly")
    await chat.choose("feedback-again-yes")
    assert chat.keys == ["feedback-ask-comment"]
    await chat.say("Helpful, thank you")
    assert chat.keys == ["feedback-thanks"]
    async with sessions() as session:
        row = await session.scalar(select(Feedback))
    assert (row.satisfaction, row.resolved, row.would_use_again) == (4, "partly", True)
    assert row.comment == "Helpful, thank you" and row.answered_at == clock()
    await chat.tap("fb")
    assert chat.keys == ["feedback-none"]
    await chat.tap(f"fb:s:{row.id}:1")
    assert chat.keys[0] == "feedback-closed"


async def test_feedback_expires_after_14_days(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    params = await book_first(chat)
    async with unit_of_work(sessions) as session:
        booking = await session.scalar(select(Booking))
        clock.now = params["start"] + timedelta(hours=1)
        await bookings.complete(session, booking_id=booking.id, held=True, now=clock())
    await send_feedback_prompts(sessions, clock())
    clock.advance(days=15)
    await chat.tap("fb")
    assert chat.keys == ["feedback-none"]


async def test_crisis_comes_first_keeps_the_flow_and_stores_no_text(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await chat.say("我想死")
    assert chat.keys == ["crisis-lines-self", "crisis-ask"]
    calls = [c.payload for c in chat.replies[0].choices]
    assert calls == ["call:1925", "call:1995", "call:1980"]
    await chat.tap("call:1925")
    assert chat.keys == ["crisis-call"] and chat.replies[0].params == {"number": "1925"}
    await chat.choose("crisis-answer-safe")
    await chat.choose("menu-back")
    assert chat.keys == ["privacy-notice"]
    await link(chat)
    await chat.tap("bk")
    await chat.choose("domain-legal")
    phone = chat.payload_of("mode-phone")
    await chat.say("I want to kill myself")
    assert chat.keys == ["crisis-lines-self", "crisis-ask"]
    assert chat.payload_of("crisis-back") == "cr:back"
    await chat.tap(phone)
    assert chat.keys == ["book-choose-day"]
    async with sessions() as session:
        events = list(await session.scalars(select(CrisisEvent)))
    assert len(events) == 2
    assert {c.name for c in CrisisEvent.__table__.columns}.isdisjoint({"text", "message"})


async def test_forget_me_cancels_upcoming_and_keeps_anonymous_rows(chat, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await link(chat)
    await book_first(chat, note="private note")
    await chat.tap("priv:forget:yes")
    assert chat.keys == ["forget-done"]
    async with sessions() as session:
        booking = await session.scalar(select(Booking))
    assert (booking.member_id, booking.note, booking.status) == (None, None, "cancelled")

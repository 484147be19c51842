"""Log and data hygiene: nothing personal in logs at DEBUG, nothing left after forget me."""

from __future__ import annotations

import logging
from datetime import time, timedelta

import pytest
from sqlalchemy import select, text

from bot.runtime import quiet_libraries
from handlers.jobs import send_feedback_prompts
from storage import bookings
from storage.db import unit_of_work
from storage.models import Base, Booking
from tests.helpers import TAIPEI, Chat
from tests.test_counselors import linked_counselor
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import code_of, seed_demo

CHAT_ID = "chat-id-7731"
NOTE = "private note about my divorce"
COMMENT = "private comment about my boss"
TYPED = "I feel anxious about my manager"


async def full_journey(dispatcher, sessions, clock) -> Chat:
    """Link, type, book with a note, hold the session, answer feedback with a comment."""
    await linked_counselor(dispatcher, sessions, clock)
    chat = Chat(dispatcher, CHAT_ID)
    await chat.say("hello")
    await chat.choose("consent-yes")
    await chat.say("DEMO")
    await chat.say("E0002")
    await chat.say(code_of("E0002"))
    assert chat.keys == ["link-done", "menu-main"]
    await chat.say(TYPED)
    params = await book_first(chat, note=NOTE)
    async with unit_of_work(sessions) as session:
        booking = await session.scalar(select(Booking))
        clock.now = params["start"] + timedelta(hours=1)
        await bookings.complete(session, booking_id=booking.id, held=True, now=clock())
    await send_feedback_prompts(sessions, clock())
    await chat.tap("fb")
    await chat.choose("feedback-score-5")
    await chat.choose("feedback-resolved-yes")
    await chat.choose("feedback-again-yes")
    await chat.say(COMMENT)
    assert chat.keys == ["feedback-thanks"]
    return chat


async def test_debug_logs_hold_no_personal_data(dispatcher, sessions, clock, caplog) -> None:
    await seed_demo(sessions, clock)
    quiet_libraries()
    caplog.set_level(logging.DEBUG)
    await full_journey(dispatcher, sessions, clock)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records, "the journey logs its turns"
    for secret in (CHAT_ID, "E0002", code_of("E0002"), NOTE, COMMENT, TYPED):
        assert secret not in logged, secret


async def dump(sessions) -> str:
    """Every row of every table as text."""
    lines = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            lines += [f"{table.name}: {tuple(row)}" for row in rows]
    return "\n".join(lines)


async def test_forget_me_leaves_no_trace_in_any_table(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    chat = await full_journey(dispatcher, sessions, clock)
    before = await dump(sessions)
    assert CHAT_ID in before and NOTE in before and COMMENT in before
    await chat.tap("priv:forget:yes")
    assert chat.keys == ["forget-done"]
    after = await dump(sessions)
    for secret in (CHAT_ID, NOTE, COMMENT, TYPED, "E0002", code_of("E0002")):
        assert secret not in after, secret
    async with sessions() as session:
        held = await session.scalar(select(Booking).where(Booking.status == "held"))
    assert held is not None and held.member_id is None


@pytest.mark.parametrize("secret", [TYPED, code_of("E0002")])
async def test_typed_text_is_never_stored(dispatcher, sessions, clock, secret) -> None:
    await seed_demo(sessions, clock)
    await full_journey(dispatcher, sessions, clock)
    assert secret not in await dump(sessions)


def test_json_logs_carry_structured_fields() -> None:
    import json

    from bot.runtime import JsonFormatter

    record = logging.LogRecord("bot.dispatch", logging.INFO, "x", 1, "turn handled", None, None)
    record.event_id = "e-1"
    record.handler = "router"
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["event_id"], line["handler"]) == (
        "turn handled",
        "e-1",
        "router",
    )
    assert line["level"] == "INFO" and line["logger"] == "bot.dispatch"


class KeepingSender:
    """A channel sender that keeps what it is handed (the platform side of the outbox)."""

    channel = "telegram"

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.sent: list[str] = []

    async def send(self, delivery) -> None:
        """Accept the message."""
        self.sent += [r.key for r in delivery.replies]


async def test_forget_me_on_the_webhook_path_leaves_no_chat_id_key_or_crisis_time(
    dispatcher, sessions, clock
) -> None:
    from bot.delivery import deliver
    from handlers.types import Inbound
    from storage import events
    from storage.models import CrisisEvent

    await seed_demo(sessions, clock)
    sender, chat_id = KeepingSender(), "912345678"
    steps = [
        ("hello", None),
        (None, "consent:yes"),
        ("DEMO", None),
        ("E0003", None),
        (code_of("E0003"), None),
        ("我不想活了", None),
        (None, "priv:forget:yes"),
    ]
    for number, (typed, payload) in enumerate(steps, start=4711):
        async with unit_of_work(sessions) as session:
            await events.record(
                session, channel="telegram", event_id=str(number), payload={}, now=clock()
            )
        inbound = Inbound("telegram", chat_id, text=typed, payload=payload)
        if typed == "我不想活了":
            crisis_day = clock().astimezone(TAIPEI).date()
        await dispatcher.handle_event("telegram", str(number), inbound, {})
        clock.advance(seconds=31)  # past the lease a direct answer holds
        while await deliver(sessions, {"telegram": sender}, now=clock()):
            pass
    assert "crisis-lines-self" in sender.sent and sender.sent[-1] == "forget-done"
    after = await dump(sessions)
    for trace in (chat_id, "reply:telegram:", "crisis:", "E0003", code_of("E0003")):
        assert trace not in after, trace
    async with sessions() as session:
        [crisis] = list(await session.scalars(select(CrisisEvent)))
    local = crisis.occurred_at.astimezone(TAIPEI)
    assert (crisis.member_id, local.time()) == (None, time(0, 0))
    assert local.date() == crisis_day

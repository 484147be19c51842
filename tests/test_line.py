"""LINE end to end: the real line-bot-sdk against a fake LINE API, the product in-process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.i18n import render
from handlers.jobs import send_feedback_prompts
from storage import bookings
from storage.db import unit_of_work
from storage.models import (
    Booking,
    BookingStatus,
    Feedback,
    Member,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    RosterEntry,
)
from storage.pseudonyms import employee_hash
from tests.conftest import TEST_KEY
from tests.fake_line import CHANNEL_SECRET, Call, LineBot, line_bot, sign, user_id
from tests.test_dialog_onboarding import code_of, seed_demo
from tests.test_locales import catalog


@pytest.fixture
async def bot(settings, dispatcher, clock) -> AsyncIterator[LineBot]:
    """The bot serving LINE webhooks, talking to a fake LINE API."""
    dispatcher.flood.limit = 1000  # a script taps faster than a person; flood has its own tests
    async with line_bot(settings, dispatcher, clock) as running:
        yield running
        assert running.fake.refused() == [], "the bot sent something LINE would refuse"


async def exchange(bot: LineBot, user: str, *events: dict[str, Any]) -> list[dict[str, Any]]:
    """Send events from a user; return the messages LINE delivered to them in answer."""
    before = len(bot.fake.accepted(to=user))
    assert await bot.webhooks.post(*events) == 200
    await bot.fake.wait_for(lambda: len(bot.fake.accepted(to=user)) > before)
    await settle(bot)
    return [m for c in bot.fake.accepted(to=user)[before:] for m in c.body["messages"]]


def actions(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every tappable action: quick reply items and Flex boxes, in order."""
    found = []
    for message in messages:
        stack = [message.get("contents", {})]
        while stack:
            node = stack.pop(0)
            if isinstance(node, dict):
                if "action" in node and node.get("type") in ("box", "button"):
                    found.append(node["action"])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        found += [item["action"] for item in message.get("quickReply", {}).get("items", [])]
    return found


def data_of(messages: list[dict[str, Any]], label: str | None = None, prefix: str = "") -> str:
    """The postback data of the action showing `label` (full text) or starting with prefix."""
    for act in actions(messages):
        if act["type"] == "postback" and act["data"].startswith(prefix):
            if label is None or act.get("displayText") == label:
                return act["data"]
    raise AssertionError(f"no action {label or prefix!r} in {actions(messages)!r}")


def opening(key: str, locale: str = "zh-TW") -> str:
    """A message's fixed text before its first variable."""
    names = catalog(locale)[key]
    return render(locale, key, {name: "\x00" for name in names}).split("\x00")[0]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    """What the user reads: each text message, and each Flex message's alt text."""
    return [m["text"] if m["type"] == "text" else m["altText"] for m in messages]


async def tap(bot: LineBot, user: str, messages: list[dict[str, Any]], key: str, **params: Any):
    """Tap the button labelled with a message key (zh-TW), return the answer."""
    data = data_of(messages, render("zh-TW", key, params))
    return await exchange(bot, user, bot.webhooks.postback(user, data))


def sends(bot: LineBot) -> list[Call]:
    """Reply and push calls the fake received, answered or not."""
    return [c for c in bot.fake.calls if c.operation in ("reply", "push")]


async def settle(bot: LineBot) -> None:
    """Wait until everything received has been processed and answered."""
    await bot.channel.settle()
    await bot.server.inbox.drain()


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def book_first_slot(bot: LineBot, user: str) -> list[dict[str, Any]]:
    """Menu -> book -> psychology -> video -> first day -> first slot -> confirm."""
    shown = await exchange(bot, user, bot.webhooks.postback(user, "m"))
    shown = await tap(bot, user, shown, "menu-book")
    assert texts(shown) == [render("zh-TW", "book-choose-domain")]
    shown = await tap(bot, user, shown, "domain-psychology")
    shown = await tap(bot, user, shown, "mode-video")
    assert texts(shown) == [render("zh-TW", "book-choose-day")]
    shown = await exchange(
        bot, user, bot.webhooks.postback(user, data_of(shown, prefix="bk:day:"))
    )
    assert shown[0]["type"] == "text" and shown[1]["type"] == "flex"
    assert shown[1]["altText"] == shown[0]["text"]  # the slots' alt text says what they are
    slot = data_of(shown, prefix="bk:s:")
    shown = await exchange(bot, user, bot.webhooks.postback(user, slot))
    assert shown[0]["text"].startswith(opening("book-confirm"))
    return await tap(bot, user, shown, "book-confirm-yes")


async def test_employee_journey_over_line(bot: LineBot, dispatcher, clock) -> None:
    sessions = dispatcher.sessions
    await seed_demo(sessions, clock)
    alice = user_id("alice")
    bot.fake.profiles[alice] = "zh-TW"
    hooks = bot.webhooks

    shown = await exchange(bot, alice, hooks.follow(alice))
    assert texts(shown) == [render("zh-TW", "privacy-notice")]
    shown = await tap(bot, alice, shown, "consent-yes")
    assert texts(shown) == [render("zh-TW", "link-ask-org")]
    shown = await exchange(bot, alice, hooks.text(alice, "DEMO"))
    assert texts(shown) == [render("zh-TW", "link-ask-employee-number")]
    shown = await exchange(bot, alice, hooks.text(alice, "E0002"))
    assert texts(shown) == [render("zh-TW", "link-ask-enrolment-code")]
    shown = await exchange(bot, alice, hooks.text(alice, code_of("E0002")))
    assert texts(shown)[0].startswith(opening("link-done"))
    assert texts(shown)[1:] == [render("zh-TW", "menu-main")]
    menu = [item["action"]["displayText"] for item in shown[-1]["quickReply"]["items"]]
    assert menu[:3] == [render("zh-TW", k) for k in ("menu-about", "menu-hours", "menu-book")]

    shown = await tap(bot, alice, shown, "menu-hours")
    assert texts(shown)[0].startswith(opening("hours-summary"))

    shown = await book_first_slot(bot, alice)
    assert texts(shown)[0].startswith(opening("book-confirmed"))
    async with sessions() as session:
        booking = await session.scalar(select(Booking))
    assert booking.status == BookingStatus.BOOKED

    shown = await exchange(bot, alice, hooks.postback(alice, "my"))
    assert texts(shown) == [render("zh-TW", "line-alt-bookings")]
    assert data_of(shown, prefix="my:r:") == f"my:r:{booking.id}"
    shown = await tap(bot, alice, shown, "my-cancel")
    assert shown[0]["text"].startswith(opening("cancel-confirm-free"))
    shown = await tap(bot, alice, shown, "cancel-yes")
    async with sessions() as session:
        assert (await session.get(Booking, booking.id)).status == BookingStatus.CANCELLED

    await book_first_slot(bot, alice)
    async with unit_of_work(sessions) as session:
        held = await session.scalar(select(Booking).where(Booking.status == BookingStatus.BOOKED))
        clock.now = held.ends_at + timedelta(minutes=30)
        await bookings.complete(session, booking_id=held.id, held=True, now=clock())
    pushes = len(bot.fake.accepted("push", to=alice))
    assert await send_feedback_prompts(sessions, clock()) == 1
    bot.server.worker.wake()
    await bot.fake.wait_for(lambda: len(bot.fake.accepted("push", to=alice)) > pushes)
    shown = bot.fake.accepted("push", to=alice)[-1].body["messages"]
    assert texts(shown)[0].startswith(opening("feedback-prompt"))
    shown = await tap(bot, alice, shown, "feedback-score-5")
    shown = await tap(bot, alice, shown, "feedback-resolved-yes")
    shown = await tap(bot, alice, shown, "feedback-again-yes")
    assert texts(shown) == [render("zh-TW", "feedback-ask-comment")]
    shown = await exchange(bot, alice, hooks.text(alice, "很有幫助"))
    assert texts(shown) == [render("zh-TW", "feedback-thanks")]
    async with sessions() as session:
        row = await session.scalar(select(Feedback))
    assert (row.satisfaction, row.resolved, row.would_use_again) == (5, "yes", True)
    assert {c.operation for c in bot.fake.accepted(to=alice)} == {"reply", "push"}
    assert [c.operation for c in bot.fake.accepted("push", to=alice)] == ["push"]


async def refused(bot: LineBot, user: str, org: str, number: str, code: str) -> list[Any]:
    """Type the three details and get refused; return the messages LINE delivered."""
    for typed in (org, number):
        await exchange(bot, user, bot.webhooks.text(user, typed))
    shown = await exchange(bot, user, bot.webhooks.text(user, code))
    assert texts(shown) == [render("zh-TW", "link-refused"), render("zh-TW", "link-ask-org")]
    return shown


async def consented(bot: LineBot, name: str) -> str:
    """A LINE user (zh-TW) who followed the bot and consented."""
    user = user_id(name)
    bot.fake.profiles[user] = "zh-TW"
    shown = await exchange(bot, user, bot.webhooks.follow(user))
    await tap(bot, user, shown, "consent-yes")
    return user


async def test_every_failed_link_reads_the_same_and_forget_me_keeps_the_limit(
    bot: LineBot, dispatcher, clock
) -> None:
    sessions = dispatcher.sessions
    await seed_demo(sessions, clock)
    holder = await consented(bot, "holder")
    for typed in ("DEMO", "E0010", code_of("E0010")):
        shown = await exchange(bot, holder, bot.webhooks.text(holder, typed))
    assert texts(shown)[0].startswith(opening("link-done"))
    async with unit_of_work(sessions) as session:
        digest = employee_hash(TEST_KEY.encode(), "DEMO", "E0020")
        entry = await session.scalar(
            select(RosterEntry).where(RosterEntry.employee_hash == digest)
        )
        entry.status = "left"
    prober = await consented(bot, "prober")
    answers = [
        await refused(bot, prober, "DEMO", "E0010", code_of("E0010")),  # already linked
        await refused(bot, prober, "DEMO", "E0020", code_of("E0020")),  # left
        await refused(bot, prober, "DEMO", "X9999", code_of("E0011")),  # not on the roster
        await refused(bot, prober, "ACME", "E0011", code_of("E0011")),  # unknown organisation
        await refused(bot, prober, "DEMO", "E0011", code_of("E0012")),  # wrong enrolment code
    ]
    assert answers == [answers[0]] * 5  # the same messages, byte for byte
    assert "示範" not in str(answers[0])
    bot.server.worker.wake()
    await bot.fake.wait_for(lambda: bot.fake.accepted("push", to=holder))
    [warning] = bot.fake.accepted("push", to=holder)
    assert texts(warning.body["messages"]) == [render("zh-TW", "link-someone-tried")]

    shown = await exchange(bot, prober, bot.webhooks.postback(prober, "priv"))
    shown = await tap(bot, prober, shown, "privacy-forget")
    shown = await tap(bot, prober, shown, "forget-yes")
    assert texts(shown) == [render("zh-TW", "forget-done")]
    shown = await exchange(bot, prober, bot.webhooks.text(prober, "hi"))
    shown = await tap(bot, prober, shown, "consent-yes")
    shown = await exchange(bot, prober, bot.webhooks.text(prober, "DEMO"))
    assert texts(shown)[0].startswith(opening("link-too-many-attempts"))


async def test_first_locale_follows_the_users_line_language(bot: LineBot, dispatcher) -> None:
    bob = user_id("bob")
    bot.fake.profiles[bob] = "en-US"
    shown = await exchange(bot, bob, bot.webhooks.follow(bob))
    assert texts(shown) == [render("en", "privacy-notice")]
    shown = await exchange(
        bot, bob, bot.webhooks.postback(bob, data_of(shown, render("en", "consent-yes")))
    )
    async with dispatcher.sessions() as session:
        member = await session.scalar(select(Member))
    assert member.locale == "en"
    assert texts(shown) == [render("en", "link-ask-org")]


async def test_bad_or_missing_signature_is_refused_and_nothing_stored(
    bot: LineBot, dispatcher
) -> None:
    carol = user_id("carol")
    body = bot.webhooks.body([bot.webhooks.text(carol, "hello")])
    tampered = body.replace(b"hello", b"HELLO")
    assert await bot.webhooks.post_raw(body, signature="AAAA" + "=" * 40) == 401
    assert await bot.webhooks.post_raw(body, signature="") == 400
    assert await bot.webhooks.post_raw(tampered, signature=sign(CHANNEL_SECRET, body)) == 401
    assert await bot.webhooks.post_raw(body, signature=sign("another secret", body)) == 401
    await settle(bot)
    assert await count(dispatcher.sessions, ProcessedEvent) == 0
    assert bot.fake.calls == []
    assert await bot.webhooks.post_raw(body) == 200
    await bot.fake.wait_for(lambda: len(bot.fake.accepted(to=carol)) == 1)
    assert await count(dispatcher.sessions, ProcessedEvent) == 1


async def test_verify_request_oversize_and_malformed_bodies(bot: LineBot, dispatcher) -> None:
    assert await bot.webhooks.post() == 200  # LINE's "Verify" sends no events
    assert await bot.webhooks.post_raw(b"x" * (1024 * 1024 + 1)) == 413
    assert await bot.webhooks.post_raw(b"not json") == 400
    assert await bot.webhooks.post_raw(b'{"destination": "U1"}') == 400
    assert await count(dispatcher.sessions, ProcessedEvent) == 0
    assert bot.fake.calls == []


async def test_redelivered_event_has_one_effect_and_is_answered_by_push(
    bot: LineBot, dispatcher
) -> None:
    dave = user_id("dave")
    first = bot.webhooks.follow(dave, redelivery=True)
    shown = await exchange(bot, dave, first)
    consent = bot.webhooks.postback(dave, data_of(shown, render("zh-TW", "consent-yes")))
    redelivered = {**consent, "deliveryContext": {"isRedelivery": True}}
    await exchange(bot, dave, consent)
    assert await bot.webhooks.post(redelivered) == 200
    assert await bot.webhooks.post(redelivered, redelivered) == 200
    await settle(bot)
    assert await count(dispatcher.sessions, Member) == 1
    assert len(bot.fake.accepted(to=dave)) == 2
    push = bot.fake.accepted(to=dave)[0]
    assert push.operation == "push"
    async with dispatcher.sessions() as session:
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
    assert push.headers["X-Line-Retry-Key"] == row.retry_key


async def test_stale_or_refused_reply_token_falls_back_to_push(bot: LineBot) -> None:
    erin = user_id("erin")
    shown = await exchange(bot, erin, bot.webhooks.follow(erin, age=120))
    assert bot.fake.accepted(to=erin)[-1].operation == "push"
    assert texts(shown) == [render("zh-TW", "privacy-notice")]
    event = bot.webhooks.text(erin, "hi")
    bot.fake.reply_tokens.pop(event["replyToken"])  # LINE no longer honours it
    await exchange(bot, erin, event)
    replies = [c for c in sends(bot) if c.operation == "reply"]
    assert [c.status for c in replies] == [400]
    assert [c.operation for c in bot.fake.accepted(to=erin)] == ["push", "push"]


async def test_push_accepted_but_answer_lost_then_409_counts_as_delivered(
    bot: LineBot, dispatcher, clock
) -> None:
    frank = user_id("frank")
    bot.fake.fail("push", 500, accept=True)
    assert await bot.webhooks.post(bot.webhooks.follow(frank, age=120)) == 200
    await bot.fake.wait_for(lambda: len(bot.fake.accepted(to=frank)) == 1)
    await settle(bot)
    clock.advance(seconds=3)
    bot.server.worker.wake()
    await bot.fake.wait_for(lambda: [c.status for c in sends(bot)] == [500, 409])
    await wait_outbox(dispatcher.sessions, OutboxStatus.SENT)
    keys = {c.headers["X-Line-Retry-Key"] for c in sends(bot)}
    async with dispatcher.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert keys == {row.retry_key} and row.attempts == 2
    assert len(bot.fake.accepted(to=frank)) == 1


async def test_429_and_500s_are_retried_with_backoff_then_delivered_once(
    bot: LineBot, dispatcher, clock
) -> None:
    grace = user_id("grace")
    start = clock.now
    bot.fake.fail("reply", 500)
    bot.fake.fail("push", 429, headers={"Retry-After": "30"})
    bot.fake.fail("push", 503)
    assert await bot.webhooks.post(bot.webhooks.follow(grace)) == 200
    await bot.fake.wait_for(lambda: len(sends(bot)) == 1)
    await settle(bot)
    # (seconds to move on, sends by then, when the row is next due or was sent: seconds from
    # the start): backoff 2 s, then Retry-After 30 s, then 8 s. A send made too early would
    # move the recorded time, so each step also catches a premature send of the one before.
    for seconds, calls, due_or_sent in (
        (3, 2, 33),
        (29, 2, 33),
        (2, 3, 42),
        (7, 3, 42),
        (1, 4, 42),
    ):
        clock.advance(seconds=seconds)
        bot.server.worker.wake()
        await bot.fake.wait_for(lambda n=calls: len(sends(bot)) >= n)
        row = await wait_attempts(dispatcher.sessions, calls)
        recorded = row.sent_at if row.status == OutboxStatus.SENT else row.next_attempt_at
        assert recorded == start + timedelta(seconds=due_or_sent)
        assert len(sends(bot)) == calls
    await wait_outbox(dispatcher.sessions, OutboxStatus.SENT)
    assert [(c.operation, c.status) for c in sends(bot)] == [
        ("reply", 500),
        ("push", 429),
        ("push", 503),
        ("push", 200),
    ]
    assert len({c.headers["X-Line-Retry-Key"] for c in sends(bot)[1:]}) == 1
    assert len(bot.fake.accepted(to=grace)) == 1


async def wait_attempts(sessions, attempts: int) -> OutboxMessage:
    """Wait until the only outbox row has `attempts` outcomes recorded; return it."""
    deadline = time.monotonic() + 10
    while True:
        async with sessions() as session:
            [row] = (await session.scalars(select(OutboxMessage))).all()
        if row.attempts == attempts:
            return row
        assert time.monotonic() < deadline, f"{row.attempts} attempts recorded, not {attempts}"
        await asyncio.sleep(0.01)


async def wait_outbox(sessions, status: OutboxStatus) -> None:
    """Wait until every outbox row has this status."""
    for _ in range(500):
        if await count(sessions, OutboxMessage, OutboxMessage.status != status) == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"outbox never all {status}")


async def test_unfollow_stops_messaging_and_deletes_nothing(bot: LineBot, dispatcher) -> None:
    heidi = user_id("heidi")
    shown = await exchange(bot, heidi, bot.webhooks.follow(heidi))
    await exchange(bot, heidi, bot.webhooks.postback(heidi, data_of(shown, prefix="consent:yes")))
    calls = len(sends(bot))
    assert await bot.webhooks.post(bot.webhooks.unfollow(heidi)) == 200
    await settle(bot)
    await bot.channel.settle()
    async with dispatcher.sessions() as session:
        member = await session.scalar(select(Member))
    assert member is not None and member.messaging_stopped_at is not None
    assert len(sends(bot)) == calls
    await exchange(bot, heidi, bot.webhooks.follow(heidi))
    await bot.channel.settle()
    async with dispatcher.sessions() as session:
        member = await session.scalar(select(Member))
    assert member.messaging_stopped_at is None

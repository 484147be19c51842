"""Telegram end to end: real python-telegram-bot against the fake Bot API, webhook and polling."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Delivery
from bot.channels.telegram import (
    ALLOWED_UPDATES,
    COMMANDS,
    SECRET_HEADER,
    WEBHOOK_PATH,
    SendLimiter,
    TelegramChannel,
)
from bot.clock import utcnow
from bot.dispatch import Dispatcher
from bot.flood import FloodGuard
from bot.i18n import render
from bot.runtime import Runtime
from bot.server import Server
from bot.settings import Settings
from handlers.jobs import send_feedback_prompts
from handlers.types import Reply
from storage import bookings
from storage.db import unit_of_work
from storage.models import (
    Booking,
    BookingStatus,
    Feedback,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    RosterEntry,
)
from storage.pseudonyms import employee_hash
from tests.conftest import TEST_KEY
from tests.fake_telegram import TOKEN, FakeTelegram, Shown
from tests.test_dialog_onboarding import code_of, seed_demo
from tests.test_serve import free_port

SECRET = "test-webhook-secret_0123"
WEBHOOK_URL = "https://bot.example.test/webhooks/telegram"
ROOT = Path(__file__).resolve().parent.parent
MODES = ["webhook", "polling"]
# Telegram's per-chat pace (1 message a second) would make a 30-step journey take half a
# minute; the limiter has its own tests, so dialogs here only keep the overall limit.
DIALOG_LIMITS = {"per_chat_per_second": None}


async def until(check: Callable[[], Any], *, within: float = 15.0, what: str = "") -> Any:
    """Poll an (async) check until it returns something truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


def expected_messages(locale: str, replies: list[Reply]) -> list[tuple[str, list[str]]]:
    """What the user should see: replies up to one with buttons form a message (bullets join
    the line above), each with its choices' payloads."""
    shown: list[tuple[str, list[str]]] = []
    text = ""
    for reply in replies:
        rendered = render(locale, reply.key, reply.params)
        text = rendered if not text else text + ("\n" if rendered[0] == "•" else "\n\n") + rendered
        if reply.choices:
            shown.append((text, [c.payload for c in reply.choices]))
            text = ""
    if text:
        shown.append((text, []))
    return shown


class RecordingChannel(TelegramChannel):
    """The real channel, keeping what it was handed: a sent outbox row drops its content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start with nothing handed over."""
        super().__init__(*args, **kwargs)
        self.handed: dict[str, Delivery] = {}

    async def send(self, delivery: Delivery) -> None:
        """Remember the delivery by its retry key, then send it for real."""
        self.handed[delivery.retry_key] = delivery
        await super().send(delivery)


class Product:
    """The whole bot in-process (web app, inbox, outbox, Telegram channel) on one database."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        fake: FakeTelegram,
        *,
        mode: str,
        limiter: SendLimiter | None = None,
        flood_guard: bool = False,
    ) -> None:
        """Point the bot at the fake API; webhook mode sets a public URL, polling does not."""
        self.fake = fake
        self.sessions = sessions
        self.mode = mode
        self.settings = dataclasses.replace(
            settings,
            telegram_token=TOKEN,
            telegram_api_base=fake.url,
            telegram_webhook_secret=SECRET,
            telegram_webhook_url=WEBHOOK_URL if mode == "webhook" else "",
        )
        dispatcher = Dispatcher(sessions, self.settings)
        if not flood_guard:  # a test journey types faster than any person (20 in 10 s)
            dispatcher.flood = FloodGuard(limit=1000)
        runtime = Runtime(self.settings, sessions.kw["bind"], sessions, dispatcher)
        self.channel = RecordingChannel(
            self.settings, limiter=limiter or SendLimiter(**DIALOG_LIMITS), poll_timeout=5
        )
        self.server = Server(runtime, [self.channel])
        self.http: aiohttp.ClientSession | None = None
        self.webhook_url = ""

    async def start(self) -> None:
        """Listen on a free port and start the channel."""
        await self.server.start("127.0.0.1", 0)
        host, port = self.server.runner.addresses[0][:2]
        self.webhook_url = f"http://{host}:{port}{WEBHOOK_PATH}"
        self.http = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Stop the server and the HTTP client."""
        await self.server.stop()
        if self.http is not None:
            await self.http.close()

    async def post(
        self,
        update: Any,
        *,
        secret: str | None = SECRET,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> int:
        """POST an update to the webhook as Telegram does; return the HTTP status."""
        assert self.http is not None
        headers = {"Content-Type": content_type}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = body if body is not None else json.dumps(update).encode()
        async with self.http.post(self.webhook_url, data=data, headers=headers) as response:
            return response.status

    async def deliver(self, update: dict[str, Any]) -> None:
        """Hand an update to the bot the way the mode receives it."""
        if self.mode == "webhook":
            assert await self.post(update) == 200
        else:
            self.fake.queue(update)

    async def reply_to(self, update_id: int, status: OutboxStatus = OutboxStatus.SENT) -> Any:
        """Wait until the reply to an update reached `status`; return its outbox row."""
        key = f"reply:telegram:{update_id}"

        async def row() -> OutboxMessage | None:
            async with self.sessions() as session:
                return await session.scalar(
                    select(OutboxMessage).where(
                        OutboxMessage.idempotency_key == key, OutboxMessage.status == status
                    )
                )

        return await until(row, what=f"reply to update {update_id} {status}")

    async def count(self, model: type, *where: Any) -> int:
        """Rows of a table."""
        async with self.sessions() as session:
            query = select(func.count()).select_from(model).where(*where)
            return int(await session.scalar(query) or 0)


class TelegramUser:
    """A person in a private chat with the bot: types, taps buttons, reads what is shown."""

    def __init__(self, product: Product, user_id: int, language_code: str | None = None) -> None:
        """Open the chat on the fake."""
        self.product = product
        self.fake = product.fake
        self.id = user_id
        self.fake.user(user_id, language_code=language_code)
        self.replies: list[Reply] = []
        self.locale = ""
        self.seen: list[Shown] = []

    async def say(self, text: str) -> list[Reply]:
        """Type a message."""
        return await self._act(self.fake.text(self.id, text))

    async def tap(self, label: str, index: int = 0) -> list[Reply]:
        """Press the shown button with this label key."""
        return await self._act(self.fake.press(self.id, self.payload_of(label, index)))

    def payload_of(self, label: str, index: int = 0) -> str:
        """The callback data of the index-th shown choice with this label key."""
        matches = [c.payload for r in self.replies for c in r.choices if c.label == label]
        assert matches, f"no choice {label!r} in {self.replies!r}"
        return matches[index]

    async def _act(self, update: dict[str, Any]) -> list[Reply]:
        before = len(self.fake.shown_in(self.id))
        await self.product.deliver(update)
        row = await self.product.reply_to(update["update_id"])
        self.read(row)
        self.seen = self.fake.shown_in(self.id)[before:]
        got = [(s.text, s.payloads) for s in self.seen]
        assert got == expected_messages(self.locale, self.replies)
        if "callback_query" in update:
            assert self.fake.queries[update["callback_query"]["id"]] == 1
        return self.replies

    def read(self, row: OutboxMessage) -> None:
        """Take the replies of an outbox message as what the bot last said."""
        delivery = self.product.channel.handed[row.retry_key]
        self.replies, self.locale = delivery.replies, delivery.locale

    @property
    def keys(self) -> list[str]:
        """The message keys of the last replies."""
        return [r.key for r in self.replies]

    @property
    def kinds(self) -> list[str]:
        """Whether the last replies were sent as new messages or edited a menu."""
        return [s.kind for s in self.seen]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, listening on 127.0.0.1."""
    api = FakeTelegram()
    await api.start()
    yield api
    await api.close()


@pytest.fixture
async def start_product(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], fake: FakeTelegram
) -> AsyncIterator[Callable[..., Awaitable[Product]]]:
    """Start the bot in a mode; everything started is stopped at the end."""
    started: list[Product] = []

    async def start(mode: str = "webhook", **kwargs: Any) -> Product:
        product = Product(settings, sessions, fake, mode=mode, **kwargs)
        await product.start()
        started.append(product)
        return product

    yield start
    for product in reversed(started):
        await product.stop()


async def book_first(user: TelegramUser) -> None:
    """Walk the booking flow to the first free psychology video slot and confirm."""
    await user.say("/book")
    assert user.keys == ["book-choose-domain"]
    await user.tap("domain-psychology")
    assert user.keys == ["book-choose-mode"] and user.kinds == ["edit"]
    await user.tap("mode-video")
    assert user.keys == ["book-choose-day"] and user.kinds == ["edit"]
    await user.tap("book-day")
    assert user.keys == ["book-choose-slot"]
    await user.tap("book-slot")
    assert user.keys == ["book-confirm"]
    await user.tap("book-confirm-yes")
    assert user.keys == ["book-confirmed"]


@pytest.mark.parametrize("mode", MODES)
async def test_employee_journey(mode, start_product, sessions) -> None:
    await seed_demo(sessions, clock=utcnow)
    product = await start_product(mode)
    fake = product.fake
    if mode == "webhook":
        assert fake.webhook == {
            "url": WEBHOOK_URL,
            "secret_token": SECRET,
            "allowed_updates": ALLOWED_UPDATES,
        }
    user = TelegramUser(product, 7001, language_code="en-GB")

    await user.say("/start")
    assert (user.keys, user.locale) == (["privacy-notice"], "en")
    assert user.seen[0].text.startswith("Welcome to the Employee Assistance Program")
    await user.tap("consent-yes")
    assert user.keys == ["link-ask-org"] and user.kinds == ["send"]
    await user.say("DEMO")
    assert user.keys == ["link-ask-employee-number"]
    await user.say("E0002")
    assert user.keys == ["link-ask-enrolment-code"]
    await user.say(code_of("E0002"))
    assert user.keys == ["link-done", "menu-main"] and len(user.seen) == 1

    await user.tap("menu-hours")
    assert user.keys[0] == "hours-summary" and user.replies[0].params["left"] == 8
    assert user.kinds == ["edit"]  # the menu turned into the answer, keeping its buttons

    await book_first(user)
    await user.say("/bookings")
    assert user.keys == ["my-booking"]
    await user.tap("my-cancel")
    assert user.keys == ["cancel-confirm-free"]
    await user.tap("cancel-yes")
    assert user.keys == ["cancel-done-free"]
    await user.say("/hours")
    assert user.replies[0].params["left"] == 8

    await book_first(user)
    async with unit_of_work(sessions) as session:
        booking = await session.scalar(select(Booking).where(Booking.status == "booked"))
        await bookings.complete(session, booking_id=booking.id, held=True, now=utcnow())
    shown_before = len(fake.shown_in(user.id))
    assert await send_feedback_prompts(sessions, utcnow()) == 1  # to the outbox, not a reply
    await until(lambda: len(fake.shown_in(user.id)) > shown_before, what="feedback prompt")
    async with sessions() as session:
        prompt = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like("feedback-prompt:%"))
        )
    user.read(prompt)
    assert user.keys == ["feedback-prompt", "feedback-ask-satisfaction"]
    shown = [(s.text, s.payloads) for s in fake.shown_in(user.id)[shown_before:]]
    assert shown == expected_messages(user.locale, user.replies)
    await user.tap("feedback-score-4")
    assert user.keys == ["feedback-ask-resolved"]
    await user.tap("feedback-resolved-partly")
    await user.tap("feedback-again-yes")
    assert user.keys == ["feedback-ask-comment"]
    await user.say("Helpful, thank you")
    assert user.keys == ["feedback-thanks"]

    async with sessions() as session:
        statuses = sorted(s.value for s in await session.scalars(select(Booking.status)))
        row = await session.scalar(select(Feedback))
    assert statuses == [BookingStatus.CANCELLED.value, BookingStatus.HELD.value]
    assert (row.satisfaction, row.resolved, row.would_use_again) == (4, "partly", True)
    assert fake.unanswered == []
    assert [c for c in fake.calls if c.status != 200] == []  # every call passed the contract
    assert await product.count(ProcessedEvent, ProcessedEvent.processed_at.is_(None)) == 0
    pending = OutboxMessage.status != OutboxStatus.SENT
    assert await product.count(OutboxMessage, pending) == 0


@pytest.mark.parametrize("mode", MODES)
async def test_set_up_registers_commands_per_language(mode, start_product) -> None:
    product = await start_product(mode)
    fake = product.fake
    for language, locale in (("", "zh-TW"), ("zh", "zh-TW"), ("en", "en")):
        assert fake.commands[("default", language)] == [
            {"command": name, "description": render(locale, f"telegram-command-{name}")}
            for name in COMMANDS
        ]
    methods = [c.method for c in fake.calls]
    assert methods[0] == "getMe"
    if mode == "polling":
        await until(lambda: fake.calls_of("getUpdates"), what="first poll")
        methods = [c.method for c in fake.calls]
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
        assert "setWebhook" not in methods
    else:
        assert "deleteWebhook" not in methods and fake.webhook is not None


async def test_polling_stores_updates_before_confirming_them(start_product, sessions) -> None:
    product = await start_product("polling")
    fake = product.fake
    stored_when_confirmed: list[tuple[int, int]] = []

    async def on_poll(offset: int | None) -> None:
        if offset is not None:  # asking past an update confirms it to Telegram
            async with sessions() as session:
                stored = await session.scalar(select(func.count()).select_from(ProcessedEvent))
            stored_when_confirmed.append((offset, int(stored or 0)))

    fake.on_poll = on_poll
    updates = [fake.text(7020 + n, "hello") for n in range(3)]
    for update in updates:
        fake.queue(update)
    for update in updates:
        await product.reply_to(update["update_id"])
    last = updates[-1]["update_id"]
    await until(lambda: any(o == last + 1 for o, _ in stored_when_confirmed), what="confirm")
    first = updates[0]["update_id"]
    assert all(stored >= offset - first for offset, stored in stored_when_confirmed)


async def test_every_button_press_is_answered_even_when_flood_control_stays_quiet(
    start_product,
) -> None:
    product = await start_product(flood_guard=True)
    user = TelegramUser(product, 7030)
    await user.say("/help")
    presses = [product.fake.press(user.id, "help") for _ in range(22)]
    for update in presses:
        assert await product.post(update) == 200
    await product.server.inbox.drain()
    await until(lambda: product.fake.unanswered == [], what="every query answered")
    unsent = OutboxMessage.status != OutboxStatus.SENT

    async def all_sent() -> bool:
        return await product.count(OutboxMessage, unsent) == 0

    await until(all_sent, what="every reply sent")
    keys = [r.key for d in product.channel.handed.values() for r in d.replies]
    assert keys.count("flood-slow-down") == 1
    assert await product.count(OutboxMessage) < 1 + len(presses)  # some got no reply at all


async def test_deep_link_starts_linking_with_the_org_code(start_product, sessions) -> None:
    await seed_demo(sessions, clock=utcnow)
    user = TelegramUser(await start_product(), 7002)
    await user.say("/start DEMO")
    assert user.locale == "zh-TW"
    assert user.payload_of("consent-yes") == "consent:yes:zh-TW:DEMO"
    await user.tap("consent-yes")
    assert user.keys == ["link-ask-employee-number"]
    assert "示範科技" not in user.seen[0].text  # the organisation is never named


async def refused(user: TelegramUser, org: str, number: str, code: str) -> tuple[str, Any]:
    """Type the three details and get refused; return the message as Telegram showed it."""
    await user.say(org)
    await user.say(number)
    await user.say(code)
    assert user.keys == ["link-refused", "link-ask-org"]
    [shown] = user.seen
    return shown.text, shown.rows


async def test_every_failed_link_reads_the_same_and_forget_me_keeps_the_limit(
    start_product, sessions
) -> None:
    await seed_demo(sessions, clock=utcnow)
    product = await start_product()
    holder = TelegramUser(product, 7005, language_code="en")
    await holder.say("/start")
    await holder.tap("consent-yes")
    for typed in ("DEMO", "E0010", code_of("E0010")):
        await holder.say(typed)
    assert holder.keys == ["link-done", "menu-main"]
    holder_saw = len(product.fake.shown_in(holder.id))
    async with unit_of_work(sessions) as session:
        digest = employee_hash(TEST_KEY.encode(), "DEMO", "E0020")
        entry = await session.scalar(
            select(RosterEntry).where(RosterEntry.employee_hash == digest)
        )
        entry.status = "left"
    prober = TelegramUser(product, 7006, language_code="en")
    await prober.say("/start")
    await prober.tap("consent-yes")
    answers = [
        await refused(prober, "DEMO", "E0010", code_of("E0010")),  # already linked
        await refused(prober, "DEMO", "E0020", code_of("E0020")),  # left
        await refused(prober, "DEMO", "X9999", code_of("E0011")),  # not on the roster
        await refused(prober, "ACME", "E0011", code_of("E0011")),  # unknown organisation
        await refused(prober, "DEMO", "E0011", code_of("E0012")),  # wrong enrolment code
    ]
    assert answers == [answers[0]] * 5
    assert answers[0][0].startswith("We couldn't link this chat") and "示範" not in answers[0][0]
    await until(lambda: len(product.fake.shown_in(holder.id)) > holder_saw, what="notice")
    [notice] = product.fake.shown_in(holder.id)[holder_saw:]
    assert notice.text == render("en", "link-someone-tried")

    await prober.say("/privacy")
    await prober.tap("privacy-forget")
    # The answer to "forget me" is keyed apart from the update (its chat id goes once sent).
    saw = len(product.fake.shown_in(prober.id))
    await product.deliver(product.fake.press(prober.id, prober.payload_of("forget-yes")))
    await until(lambda: len(product.fake.shown_in(prober.id)) > saw, what="forget-done")
    assert product.fake.shown_in(prober.id)[-1].text == render("en", "forget-done")
    await prober.say("/start")
    await prober.tap("consent-yes")
    await prober.say("DEMO")
    assert prober.keys == ["link-too-many-attempts"]


async def test_wrong_secret_is_refused_and_nothing_stored(start_product) -> None:
    product = await start_product()
    update = product.fake.text(7003, "hello")
    assert await product.post(update, secret="wrong") == 403
    assert await product.post(update, secret=None) == 403
    assert await product.post(update, secret=SECRET[:-1]) == 403
    assert await product.count(ProcessedEvent) == 0
    assert product.fake.shown == []


async def test_malformed_requests_are_refused_and_nothing_stored(start_product) -> None:
    product = await start_product()
    update = product.fake.text(7004, "hello")
    assert await product.post(update, content_type="application/x-www-form-urlencoded") == 415
    too_big = b'{"update_id": 1, "pad": "' + b"x" * 300_000 + b'"}'
    assert await product.post(update, body=too_big) == 413
    assert await product.post(update, body=b"{not json") == 400
    assert await product.post([update]) == 400
    assert await product.post({**update, "update_id": "7"}) == 400
    assert await product.count(ProcessedEvent) == 0


async def test_duplicate_update_has_one_effect(start_product) -> None:
    product = await start_product()
    user = TelegramUser(product, 7005)
    update = product.fake.text(user.id, "hello")
    assert await product.post(update) == 200
    assert await product.post(update) == 200
    await product.reply_to(update["update_id"])
    await product.server.inbox.drain()
    assert await product.post(update) == 200
    await product.server.inbox.drain()
    assert [s.text for s in product.fake.shown_in(user.id)] == [render("zh-TW", "privacy-notice")]
    assert await product.count(ProcessedEvent) == 1
    assert await product.count(OutboxMessage) == 1


async def test_update_acknowledged_then_cut_off_is_processed_at_next_start(
    start_product,
) -> None:
    first = await start_product()
    user = TelegramUser(first, 7006)
    update = first.fake.text(user.id, "hello")
    # The first process answers 200 but never gets to run the turn (as if it crashed).
    stuck = first.server.runtime.dispatcher.locks.get("telegram", str(user.id))
    async with stuck:
        assert await first.post(update) == 200
        unprocessed = ProcessedEvent.processed_at.is_(None)
        assert await first.count(ProcessedEvent, unprocessed) == 1
        assert first.fake.shown == []
        await start_product()  # the next start recovers the stored update
        await first.reply_to(update["update_id"])
    await first.server.inbox.drain()  # the first process wakes up: already done, no effect
    assert [s.text for s in first.fake.shown_in(user.id)] == [render("zh-TW", "privacy-notice")]


async def test_429_waits_retry_after_then_delivers(start_product) -> None:
    product = await start_product()
    user = TelegramUser(product, 7007)
    product.fake.fail("sendMessage", retry_after=1)
    update = product.fake.text(user.id, "hello")
    assert await product.post(update) == 200
    row = await product.reply_to(update["update_id"])
    refused, delivered = [c for c in product.fake.calls if c.method == "sendMessage"]
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.at - refused.at >= 1.0
    assert (row.attempts, row.last_error) == (2, None)
    assert [s.text for s in product.fake.shown_in(user.id)] == [render("zh-TW", "privacy-notice")]


async def test_blocked_bot_is_not_retried(start_product) -> None:
    product = await start_product()
    user = TelegramUser(product, 7008)
    product.fake.blocked.add(user.id)
    update = product.fake.text(user.id, "hello")
    assert await product.post(update) == 200
    row = await product.reply_to(update["update_id"], OutboxStatus.DEAD)
    assert row.last_error == "telegram 403"
    assert [c.status for c in product.fake.calls if c.method == "sendMessage"] == [403]


async def test_group_chats_are_ignored(start_product) -> None:
    product = await start_product()
    update = product.fake.text(7009, "hello")
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "Team"}
    assert await product.post(update) == 200
    await until(lambda: product.count(ProcessedEvent, ProcessedEvent.processed_at.is_not(None)))
    assert await product.count(OutboxMessage) == 0
    assert product.fake.shown == []


def _serve_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(
        EAP_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'eap.db'}",
        EAP_PSEUDONYM_KEY=TEST_KEY,
        EAP_PORT=str(free_port()),
        **settings,
    )
    return env


async def _bot_py(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_serve_with_only_a_token_long_polls_and_answers(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = _serve_env(tmp_path, EAP_TELEGRAM_TOKEN=TOKEN, EAP_TELEGRAM_API_BASE=fake.url)
    migrate = await _bot_py(env, "migrate")
    assert await asyncio.wait_for(migrate.wait(), 60) == 0
    serve = await _bot_py(env, "serve")
    try:
        update = fake.text(7040, "hello")
        fake.queue(update)
        await until(lambda: fake.shown_in(7040), within=60, what="the reply by polling")
        assert [s.text for s in fake.shown_in(7040)] == [render("zh-TW", "privacy-notice")]
        methods = [c.method for c in fake.calls]
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
    finally:
        serve.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(serve.communicate(), 30)
    assert serve.returncode == 0, stderr
    assert b"Traceback" not in stderr and b"hello" not in stderr


async def test_serve_with_a_rejected_token_says_so(fake: FakeTelegram, tmp_path: Path) -> None:
    env = _serve_env(tmp_path, EAP_TELEGRAM_TOKEN="1:revoked", EAP_TELEGRAM_API_BASE=fake.url)
    migrate = await _bot_py(env, "migrate")
    assert await asyncio.wait_for(migrate.wait(), 60) == 0
    serve = await _bot_py(env, "serve")
    _, stderr = await asyncio.wait_for(serve.communicate(), 60)
    assert serve.returncode == 2
    assert b"EAP_TELEGRAM_TOKEN was rejected" in stderr and b"1:revoked" not in stderr

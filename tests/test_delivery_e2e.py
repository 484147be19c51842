"""Staff messages end to end: one server with both channels, the real SDKs, both fake platforms.

An employee books and cancels on one channel while the counselor, linked on the other, gets
the notifications through the outbox worker; the weekly digest reaches an HR user on each
channel, the chart as a Telegram photo and as a LINE image fetched from the bot's /media URL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.line import LineChannel
from bot.clock import utcnow
from bot.i18n import render
from bot.server import Server
from bot.settings import Settings
from handlers.digest import digest_replies, send_for
from handlers.notify import booking_params
from handlers.types import Reply
from storage import orgs, staff
from storage.db import unit_of_work
from storage.models import Booking, BookingStatus, Counselor, OutboxMessage, OutboxStatus
from tests.conftest import TEST_KEY
from tests.fake_line import ACCESS_TOKEN, CHANNEL_SECRET, FakeLine, LineBot, Webhooks, png_size
from tests.fake_line import user_id as line_user
from tests.fake_telegram import FakeTelegram, Shown
from tests.helpers import release_figures
from tests.test_counselors import invite_counselor
from tests.test_dialog_onboarding import code_of, seed_demo
from tests.test_line import actions, book_first_slot, exchange, opening, tap, texts
from tests.test_telegram import Product, TelegramUser, book_first, until

PUBLIC_URL = "https://eap.example.test"
KEY = TEST_KEY.encode()
COUNSELOR = "王心怡"  # the counselor of the demo's first psychology video slot
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class BothChannels(Product):
    """The whole bot with Telegram (webhook) and LINE on one server, outbox and database."""

    line: LineBot  # the LINE side as tests/test_line.py drives it, set by start()

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        telegram: FakeTelegram,
        line: FakeLine,
    ) -> None:
        """Point each channel at its fake; images are published under PUBLIC_URL."""
        settings = dataclasses.replace(
            settings,
            line_channel_secret=CHANNEL_SECRET,
            line_access_token=ACCESS_TOKEN,
            line_api_base=line.url,
            public_url=PUBLIC_URL,
        )
        super().__init__(settings, sessions, telegram, mode="webhook")
        self.line_fake = line
        self.line_channel = LineChannel(self.settings)
        # Product wires a Telegram-only server; rewire the same runtime with both channels.
        self.server = Server(self.server.runtime, [self.channel, self.line_channel])
        self.base_url = ""

    async def start(self) -> None:
        """Listen on a free port; LINE webhooks go to the same server."""
        await super().start()
        host, port = self.server.runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        webhooks = Webhooks(self.base_url, self.line_fake, utcnow)
        self.line = LineBot(
            self.line_fake, self.server, self.line_channel, webhooks, self.settings
        )

    async def stop(self) -> None:
        """Stop the server and both HTTP clients."""
        await self.line.webhooks.close()
        await super().stop()

    async def outbox_row(self, key: str) -> OutboxMessage:
        """Wait until the outbox message with this idempotency key was sent; return it."""

        async def sent() -> OutboxMessage | None:
            async with self.sessions() as session:
                return await session.scalar(
                    select(OutboxMessage).where(
                        OutboxMessage.idempotency_key == key,
                        OutboxMessage.status == OutboxStatus.SENT,
                    )
                )

        return await until(sent, what=f"outbox message {key} sent")

    async def all_sent(self) -> bool:
        """Whether every outbox message (replies and notifications) was sent."""
        return await self.count(OutboxMessage, OutboxMessage.status != OutboxStatus.SENT) == 0


@pytest.fixture
async def product(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[BothChannels]:
    """Both fake platforms and the bot serving both channels, stopped at the end."""
    telegram, line = FakeTelegram(), FakeLine()
    await telegram.start()
    await line.start()
    await seed_demo(sessions, clock=utcnow)
    running = BothChannels(settings, sessions, telegram, line)
    running.server.runtime.dispatcher.flood.limit = 1000  # scripts tap faster than people
    await running.start()
    try:
        yield running
        await until(running.all_sent, what="every outbox message sent")
        assert [c for c in telegram.calls if c.status != 200] == []  # all passed the contract
        assert line.refused() == [], "the bot sent something LINE would refuse"
    finally:
        await running.stop()
        await line.close()
        await telegram.close()


# The people


async def telegram_employee(product: BothChannels, user_id: int) -> TelegramUser:
    """An employee of DEMO who consented and linked on Telegram (in English)."""
    user = TelegramUser(product, user_id, language_code="en-GB")
    await user.say("/start")
    await user.tap("consent-yes")
    await user.say("DEMO")
    await user.say("E0002")
    await user.say(code_of("E0002"))
    assert user.keys == ["link-done", "menu-main"]
    return user


async def line_employee(product: BothChannels, name: str) -> str:
    """An employee of DEMO who consented and linked on LINE (in Traditional Chinese)."""
    bot, user = product.line, line_user(name)
    bot.fake.profiles[user] = "zh-TW"
    shown = await exchange(bot, user, bot.webhooks.follow(user))
    shown = await tap(bot, user, shown, "consent-yes")
    shown = await exchange(bot, user, bot.webhooks.text(user, "DEMO"))
    shown = await exchange(bot, user, bot.webhooks.text(user, "E0002"))
    shown = await exchange(bot, user, bot.webhooks.text(user, code_of("E0002")))
    assert texts(shown)[0].startswith(opening("link-done"))
    assert texts(shown)[1:] == [render("zh-TW", "menu-main")]
    return user


async def telegram_staff(product: BothChannels, user_id: int, code: str) -> TelegramUser:
    """A counselor or HR user who redeemed an invite code on Telegram (in English)."""
    user = TelegramUser(product, user_id, language_code="en")
    await user.say(code)
    return user


async def line_staff(product: BothChannels, name: str, code: str) -> tuple[str, list[str]]:
    """A counselor or HR user who redeemed an invite code on LINE; their id and what they read."""
    bot, user = product.line, line_user(name)
    bot.fake.profiles[user] = "zh-TW"
    shown = await exchange(bot, user, bot.webhooks.text(user, code))
    return user, texts(shown)


async def booked(product: BothChannels) -> tuple[Booking, dict[str, Any]]:
    """The one active booking, checked to be the linked counselor's, and what they see of it."""
    async with product.sessions() as session:
        booking = await session.scalar(
            select(Booking).where(Booking.status == BookingStatus.BOOKED)
        )
        assert booking is not None
        counselor = await session.get(Counselor, booking.counselor_id)
        assert counselor is not None and counselor.display_name == COUNSELOR
        return booking, await booking_params(session, KEY, booking)


# Counselor notifications


async def telegram_notice(product: BothChannels, chat_id: int, before: int) -> Shown:
    """The one message shown in a Telegram chat since `before` messages, once it arrived."""
    fake = product.fake
    await until(lambda: len(fake.shown_in(chat_id)) > before, what="a Telegram notification")
    [shown] = fake.shown_in(chat_id)[before:]
    return shown


async def line_notice(product: BothChannels, user: str, before: int) -> list[dict[str, Any]]:
    """The messages of the one push to a LINE user since `before` pushes, once it arrived."""
    fake = product.line_fake
    await fake.wait_for(lambda: len(fake.accepted("push", to=user)) > before)
    [push] = fake.accepted("push", to=user)[before:]
    return push.body["messages"]


async def test_employee_on_telegram_counselor_notified_on_line(product: BothChannels) -> None:
    code = await invite_counselor(product.sessions, utcnow, COUNSELOR)
    counselor, shown = await line_staff(product, "dr-wang", code)
    assert shown[0] == render("zh-TW", "counselor-linked")
    employee = await telegram_employee(product, 7101)
    line = product.line_fake

    pushes = len(line.accepted("push", to=counselor))
    await book_first(employee)
    booking, params = await booked(product)
    notice = await line_notice(product, counselor, pushes)
    assert texts(notice) == [render("zh-TW", "counselor-new-booking", params)]
    assert [(a["displayText"], a["data"]) for a in actions(notice)] == [
        (render("zh-TW", "counselor-view"), f"co:b:{booking.id}"),
        (render("zh-TW", "counselor-decline"), f"co:dec:{booking.id}"),
    ]
    row = await product.outbox_row(f"notify-new:{booking.id}")
    assert line.accepted("push", to=counselor)[-1].headers["X-Line-Retry-Key"] == row.retry_key
    answer = await exchange(
        product.line, counselor, product.line.webhooks.postback(counselor, f"co:dec:{booking.id}")
    )
    assert texts(answer)[0].startswith(opening("counselor-decline-confirm"))

    pushes = len(line.accepted("push", to=counselor))
    await employee.say("/bookings")
    await employee.tap("my-cancel")
    await employee.tap("cancel-yes")
    assert employee.keys == ["cancel-done-free"]
    notice = await line_notice(product, counselor, pushes)
    assert texts(notice) == [render("zh-TW", "counselor-cancelled", params)]
    assert actions(notice) == []
    await product.outbox_row(f"notify-cancel:{booking.id}")


async def test_employee_on_line_counselor_notified_on_telegram(product: BothChannels) -> None:
    code = await invite_counselor(product.sessions, utcnow, COUNSELOR)
    counselor = await telegram_staff(product, 7201, code)
    assert counselor.keys == ["counselor-linked", "counselor-menu"]
    employee = await line_employee(product, "erin")
    bot, fake = product.line, product.fake

    before = len(fake.shown_in(counselor.id))
    await book_first_slot(bot, employee)
    booking, params = await booked(product)
    notice = await telegram_notice(product, counselor.id, before)
    assert notice.text == render("en", "counselor-new-booking", params)
    labels = [label for row in notice.rows for label, _ in row]
    assert labels == [render("en", "counselor-view"), render("en", "counselor-decline")]
    assert notice.payloads == [f"co:b:{booking.id}", f"co:dec:{booking.id}"]
    await product.outbox_row(f"notify-new:{booking.id}")
    press = fake.press(counselor.id, f"co:dec:{booking.id}")  # refused if never shown
    await product.deliver(press)
    counselor.read(await product.reply_to(press["update_id"]))
    assert counselor.keys == ["counselor-decline-confirm"]

    before = len(fake.shown_in(counselor.id))
    shown = await exchange(bot, employee, bot.webhooks.postback(employee, "my"))
    shown = await tap(bot, employee, shown, "my-cancel")
    shown = await tap(bot, employee, shown, "cancel-yes")
    assert texts(shown)[0].startswith(opening("cancel-done-free"))
    notice = await telegram_notice(product, counselor.id, before)
    assert (notice.text, notice.payloads) == (render("en", "counselor-cancelled", params), [])
    await product.outbox_row(f"notify-cancel:{booking.id}")


# The weekly HR digest


async def hr_invites(product: BothChannels) -> list[str]:
    """Two new HR users of DEMO and an invite code for each."""
    async with unit_of_work(product.sessions) as session:
        org = await orgs.by_code(session, "DEMO")
        codes = []
        for name in ("People Team (Telegram)", "People Team (LINE)"):
            person = await staff.create_hr_user(session, org=org, name=name)
            codes.append(await staff.issue_invite(session, org=org, now=utcnow(), hr_user=person))
        return codes


async def digest_in(
    product: BothChannels, locale: str, now: datetime, *, telegram: bool
) -> list[Reply]:
    """The digest replies an HR user reading `locale` gets (summary, chart, CSV on Telegram)."""
    async with product.sessions() as session:
        org = await orgs.by_code(session, "DEMO")
        replies, _ = await digest_replies(session, org, now, locale, telegram=telegram)
    return replies


def rendered(locale: str, reply: Reply) -> str:
    """A reply's text as the reader sees it."""
    return render(locale, reply.key, reply.params)


def big_enough(size: tuple[int, int] | None) -> bool:
    """Whether a PNG's size is that of a readable chart (None: not a PNG at all)."""
    return size is not None and size[0] >= 600 and size[1] >= 400


async def fetch(url: str) -> tuple[int, str, bytes]:
    """GET a URL: status, content type and body."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.read()


async def test_digest_reaches_hr_on_telegram_and_line_with_the_chart(
    product: BothChannels,
) -> None:
    by_telegram, by_line = await hr_invites(product)
    hr_telegram = await telegram_staff(product, 7301, by_telegram)
    assert hr_telegram.keys == ["hr-linked", "hr-menu"]
    hr_line, shown = await line_staff(product, "hr-line", by_line)
    assert shown[0] == render("zh-TW", "hr-linked", {"name": "People Team (LINE)"})
    telegram, line = product.fake, product.line_fake
    shown_before = len(telegram.shown_in(hr_telegram.id))
    calls_before = len(telegram.calls)
    pushes = len(line.accepted("push", to=hr_line))

    now = utcnow()
    await release_figures(product.sessions, now)  # no noise: this checks the delivery
    async with unit_of_work(product.sessions) as session:
        org = await orgs.by_code(session, "DEMO")
        assert await send_for(session, org, now) == 2  # the demo's own HR user is unlinked
    product.server.worker.wake()
    async with product.sessions() as session:
        queued = await session.scalars(
            select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.like("digest:%")
            )
        )
        keys = list(queued)
    assert len(keys) == 2
    for key in keys:
        await product.outbox_row(key)

    summary_en, chart_en, csv_en = await digest_in(product, "en", now, telegram=True)
    sent = telegram.shown_in(hr_telegram.id)[shown_before:]
    calls = [(c.method, c.params["chat_id"]) for c in telegram.calls[calls_before:]]
    # With each figure's error the summary and the chart's caption pass Telegram's 1024-character
    # caption, so the text goes first and the chart follows without a caption.
    assert calls == [
        ("sendMessage", hr_telegram.id),
        ("sendPhoto", hr_telegram.id),
        ("sendDocument", hr_telegram.id),
    ]
    assert len(sent) == 3
    assert sent[0].text == f"{rendered('en', summary_en)}\n\n{rendered('en', chart_en)}"
    assert sent[2].text == rendered("en", csv_en)
    photo, sheet = sent[1].file, sent[2].file
    assert photo is not None and sheet is not None
    assert photo.filename.endswith(".png") and photo.content.startswith(PNG_SIGNATURE)
    assert chart_en.attachment is not None
    assert photo.filename == chart_en.attachment.filename
    assert big_enough(png_size(photo.content))
    assert csv_en.attachment is not None
    assert (sheet.filename, sheet.content) == (
        csv_en.attachment.filename,
        csv_en.attachment.content,
    )

    summary_zh, chart_zh = await digest_in(product, "zh-TW", now, telegram=False)
    messages = await line_notice(product, hr_line, pushes)
    assert [m["type"] for m in messages] == ["text", "image", "text"]  # no file for the CSV
    assert messages[0]["text"] == rendered("zh-TW", summary_zh)
    assert messages[2]["text"] == rendered("zh-TW", chart_zh)  # the chart's caption
    image = messages[1]
    assert image["originalContentUrl"] == image["previewImageUrl"]
    prefix = f"{PUBLIC_URL}/media/"
    assert image["originalContentUrl"].startswith(prefix)
    local = image["originalContentUrl"].replace(PUBLIC_URL, product.base_url)
    status, content_type, body = await fetch(local)
    assert (status, content_type) == (200, "image/png")
    assert body.startswith(PNG_SIGNATURE) and big_enough(png_size(body))

"""The Telegram channel on its own against the fake Bot API: reading updates, sending replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.channels.base import Delivery, SendError
from bot.channels.telegram import SendLimiter, TelegramChannel
from bot.i18n import render
from bot.settings import Settings, SettingsError
from handlers.types import Attachment, Choice, Key, Reply
from tests.conftest import TEST_KEY
from tests.fake_telegram import TOKEN, FakeTelegram

USER = 8001


def settings_for(api: str, token: str = TOKEN) -> Settings:
    """Settings pointing the channel at an API base."""
    return Settings(telegram_token=token, telegram_api_base=api, pseudonym_key=TEST_KEY)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API with one user's chat open."""
    api = FakeTelegram()
    await api.start()
    api.user(USER)
    yield api
    await api.close()


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    """A channel on the fake API, without the per-chat pace (tested on its own below)."""
    telegram = TelegramChannel(
        settings_for(fake.url), limiter=SendLimiter(per_chat_per_second=None)
    )
    yield telegram
    await telegram.stop()


def menu(*payloads: str) -> Reply:
    """A menu reply whose buttons carry these payloads."""
    return Reply("menu-main", choices=[Choice("menu-help", p) for p in payloads])


def menu_back() -> Choice:
    """The back-to-menu button."""
    return Choice("menu-back", "m")


def delivery(*replies: Reply, key: str = "k1", **context: Any) -> Delivery:
    """An English delivery to the test user."""
    return Delivery(str(USER), "en", list(replies), key, context=context)


async def press(channel: TelegramChannel, fake: FakeTelegram, data: str) -> dict[str, Any]:
    """Press a shown button and return the context the channel keeps for the answer."""
    inbound, context = channel.to_inbound(fake.press(USER, data))
    assert inbound is not None and inbound.payload == data
    return context


def test_api_base_points_every_call_and_file_url_elsewhere() -> None:
    channel = TelegramChannel(settings_for("http://127.0.0.1:9/"))
    assert channel.bot.base_url == f"http://127.0.0.1:9/bot{TOKEN}"
    assert channel.bot.base_file_url == f"http://127.0.0.1:9/file/bot{TOKEN}"
    assert channel.polling


def test_updates_become_inbound_with_language_and_answer_context(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.user(8002, language_code="zh-hant")
    update = fake.text(8002, "/start DEMO")
    inbound, context = channel.to_inbound(update)
    assert inbound is not None
    assert (inbound.user_id, inbound.text, inbound.language_code) == (
        "8002",
        "/start DEMO",
        "zh-hant",
    )
    assert (inbound.event_id, context) == (str(update["update_id"]), {"chat_id": 8002})
    photo = fake.text(8002, "x")
    del photo["message"]["text"]
    photo["message"].update(
        photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    )
    photo["message"]["caption"] = "I want to die"
    assert channel.to_inbound(photo)[0].text == "I want to die"  # type: ignore[union-attr]
    sticker = fake.text(8002, "x")
    del sticker["message"]["text"]
    assert channel.to_inbound(sticker)[0].text is None  # type: ignore[union-attr]


def test_groups_edits_and_other_updates_get_no_answer(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    group = fake.text(USER, "hello")
    group["message"]["chat"] = {"id": -5, "type": "group", "title": "Team"}
    edited = fake.text(USER, "hello")
    edited["edited_message"] = edited.pop("message")
    other = {"update_id": 1, "my_chat_member": {}}
    for update in (group, edited, other):
        assert channel.to_inbound(update) == (None, {})


async def test_long_text_is_sent_in_parts_with_the_keyboard_last(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    # Fluent caps one placeable at 2,500 characters, so the length comes from many replies.
    line = Reply("about-domain", domain=Key("domain-legal"), helps="word " * 60)
    replies = [line] * 30 + [Reply("menu-main", choices=[menu_back()])]
    await channel.send(delivery(*replies))
    parts = fake.shown_in(USER)
    assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
    assert [p.payloads for p in parts] == [[], [], ["m"]]
    assert parts[1].text.startswith("• Legal consultation")  # cut at a line end
    words = [render("en", r.key, r.params) for r in replies]
    assert " ".join(p.text for p in parts).split() == " ".join(words).split()


async def test_files_go_as_photo_or_document_and_download_from_the_file_url(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    chart = Attachment("chart.png", "image/png", b"\x89PNG chart")
    sheet = Attachment("usage.csv", "text/csv", b"month,sessions\n")
    await channel.send(delivery(Reply("help-text", attachment=chart)))
    await channel.send(delivery(Reply("help-text", attachment=sheet), key="k2"))
    assert [c.method for c in fake.calls if c.method.startswith("send")] == [
        "sendPhoto",
        "sendDocument",
    ]
    assert [s.text for s in fake.shown_in(USER)] == [render("en", "help-text")] * 2
    for file_id, (_, upload) in fake.files.items():
        file = await channel.bot.get_file(file_id)
        assert file.file_path.startswith(f"{fake.url}/file/bot{TOKEN}/")
        assert bytes(await file.download_as_bytearray()) == upload.content
    assert {u.content for _, u in fake.files.values()} == {chart.content, sheet.content}


async def test_a_menu_step_edits_the_menu_it_answers(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    await channel.send(delivery(menu("a", "b")))
    context = await press(channel, fake, "a")
    await channel.send(delivery(menu("c"), key="k2", **context))
    first, edited = fake.shown_in(USER)
    assert (edited.kind, edited.message_id, edited.payloads) == ("edit", first.message_id, ["c"])
    assert fake.unanswered == []
    context = await press(channel, fake, "c")
    await channel.send(delivery(Reply("help-text"), key="k3", **context))
    assert fake.shown_in(USER)[-1].kind == "send"  # an answer without buttons reads as new


async def test_an_older_menu_is_not_edited_and_a_refused_edit_sends_anew(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    await channel.send(delivery(menu("old")))
    await channel.send(delivery(menu("new"), key="k2"))
    context = await press(channel, fake, "old")
    await channel.send(delivery(menu("x"), key="k3", **context))
    assert [s.kind for s in fake.shown_in(USER)] == ["send", "send", "send"]
    context = await press(channel, fake, "x")
    fake.fail("editMessageText", status=400, description="Bad Request: message can't be edited")
    await channel.send(delivery(menu("y"), key="k4", **context))
    assert [s.kind for s in fake.shown_in(USER)] == ["send"] * 4
    context = await press(channel, fake, "y")
    await channel.send(delivery(menu("y"), key="k5", **context))  # the same menu again
    assert len(fake.shown_in(USER)) == 4 and fake.unanswered == []


async def test_a_retry_resumes_after_what_was_sent_and_answers_once(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    await channel.send(delivery(menu("a")))
    context = await press(channel, fake, "a")
    fake.fail("sendMessage", status=500, skip=1)
    retried = delivery(menu("1"), menu("2"), menu("3"), key="k2", **context)
    with pytest.raises(SendError) as failed:
        await channel.send(retried)
    assert (failed.value.permanent, failed.value.retry_after) == (False, None)
    await channel.send(retried)
    assert [s.payloads for s in fake.shown_in(USER)] == [["a"], ["1"], ["2"], ["3"]]
    assert len(fake.calls_of("answerCallbackQuery")) == 1


@pytest.mark.parametrize(
    ("status", "permanent", "retry_after"),
    [(429, False, 3.0), (500, False, None), (403, True, None), (400, True, None)],
)
async def test_errors_map_to_the_outbox_retry_policy(
    channel: TelegramChannel, fake: FakeTelegram, status, permanent, retry_after
) -> None:
    fake.fail("sendMessage", status=status, retry_after=3, description="Bad Request: no")
    with pytest.raises(SendError) as failed:
        await channel.send(delivery(Reply("help-text")))
    assert (failed.value.permanent, failed.value.retry_after) == (permanent, retry_after)
    assert "word" not in failed.value.reason


async def test_per_chat_limit_spaces_a_burst(fake: FakeTelegram) -> None:
    channel = TelegramChannel(settings_for(fake.url))  # the real limits: 30/s, 1/s per chat
    await channel.send(delivery(Reply("help-text")))  # connect before timing
    started = time.monotonic()
    await channel.send(delivery(*(menu(str(n)) for n in range(4)), key="burst"))
    await channel.stop()
    sent = [s.at - started for s in fake.shown_in(USER)[1:]]
    assert sent[1] < 0.5 and 0.9 <= sent[2] < 1.5 and sent[3] >= 1.9


async def test_a_rejected_token_stops_start_with_a_clear_message(fake: FakeTelegram) -> None:
    channel = TelegramChannel(settings_for(fake.url, token="999:wrong"))
    with pytest.raises(SettingsError, match="EAP_TELEGRAM_TOKEN") as refused:
        await channel.start()
    assert "999:wrong" not in str(refused.value)
    await channel.stop()


async def test_start_retries_in_the_background_while_telegram_is_down() -> None:
    channel = TelegramChannel(
        Settings(
            telegram_token=TOKEN,
            telegram_api_base="http://127.0.0.1:9",  # nothing listens there
            telegram_webhook_url="https://bot.example.test/webhooks/telegram",
            pseudonym_key=TEST_KEY,
        )
    )
    await asyncio.wait_for(channel.start(), timeout=30)  # returns: serving goes on meanwhile
    assert channel.polling is False
    await channel.stop()


def test_a_secret_telegram_would_refuse_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="EAP_TELEGRAM_WEBHOOK_SECRET"):
        TelegramChannel(Settings(telegram_token=TOKEN, telegram_webhook_secret="no spaces please"))
    derived = TelegramChannel(Settings(telegram_token=TOKEN)).secret
    assert len(derived) == 64 and derived == TelegramChannel(Settings(telegram_token=TOKEN)).secret

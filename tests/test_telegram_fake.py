"""The fake Bot API answers the methods the bot uses and refuses what Telegram would refuse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Conflict, InvalidToken
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.telegram_request import AiohttpRequest
from tests.fake_telegram import BOT_ID, BUILTIN, TOKEN, Contract, FakeTelegram

USER = 9001
TRANSPORTS = {"aiohttp-json": AiohttpRequest, "httpx-form": HTTPXRequest}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API with one user's chat open."""
    api = FakeTelegram()
    await api.start()
    api.user(USER)
    yield api
    await api.close()


@pytest.fixture(params=sorted(TRANSPORTS))
async def bot(request: pytest.FixtureRequest, fake: FakeTelegram) -> AsyncIterator[Bot]:
    """The real PTB Bot on the fake, over each transport (JSON bodies and form bodies)."""
    transport: BaseRequest = TRANSPORTS[request.param]()
    client = Bot(
        TOKEN,
        base_url=f"{fake.url}/bot",
        base_file_url=f"{fake.url}/file/bot",
        request=transport,
        get_updates_request=TRANSPORTS[request.param](),
    )
    async with client:
        yield client


async def raw(fake: FakeTelegram, method: str, body: dict[str, Any], token: str = TOKEN) -> Any:
    """POST a JSON body to the fake as any HTTP client could; return (status, answer)."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.url}/bot{token}/{method}", json=body) as response,
    ):
        return response.status, await response.json()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    """One row of buttons with this callback data."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def test_every_method_the_bot_uses_works_through_ptb(bot: Bot, fake: FakeTelegram) -> None:
    assert (await bot.get_me()).id == BOT_ID
    assert await bot.set_webhook("https://bot.example.test/hook", secret_token="s-1")
    assert fake.webhook is not None and fake.webhook["secret_token"] == "s-1"
    assert await bot.delete_webhook()
    fake.queue(fake.text(USER, "hi"))
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.text == "hi"
    assert await bot.set_my_commands([("menu", "Main menu")], language_code="en")
    sent = await bot.send_message(USER, "Menu", reply_markup=keyboard("a", "b"))
    query = fake.press(USER, "b")["callback_query"]["id"]
    assert await bot.answer_callback_query(query)
    edited = await bot.edit_message_text("Menu 2", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "Menu 2"
    photo = await bot.send_photo(USER, InputFile(b"png", filename="a.png"), caption="Chart")
    document = await bot.send_document(USER, InputFile(b"csv", filename="a.csv"))
    file = await bot.get_file(document.document.file_id)  # type: ignore[union-attr]
    assert bytes(await file.download_as_bytearray()) == b"csv"
    assert photo.caption == "Chart"
    assert [c for c in fake.calls if c.status != 200] == []
    assert [s.kind for s in fake.shown_in(USER)] == ["send", "edit", "send", "send"]


async def test_ptb_calls_telegram_would_refuse_are_refused(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match="nknown parameter colour"):
        await bot.send_message(USER, "hi", api_kwargs={"colour": "red"})
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(USER, "   ")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "hi", reply_markup=keyboard("é" * 33))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(4242, "hi")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("never-issued")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(USER, InputFile(b"png", filename="a.png"), caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Menu", "Main menu")])
    with pytest.raises(BadRequest, match=r"(?i)https url"):
        await bot.set_webhook("http://bot.example.test/hook")
    await bot.set_webhook("https://bot.example.test/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert fake.shown == []


async def test_a_callback_query_is_answered_once(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_message(USER, "Menu", reply_markup=keyboard("a"))
    query = fake.press(USER, "a")["callback_query"]["id"]
    assert fake.unanswered == [query]
    await bot.answer_callback_query(query)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query)
    assert fake.unanswered == []
    with pytest.raises(AssertionError, match="no button"):
        fake.press(USER, "never-shown")


async def test_raw_calls_missing_or_mistyped_parameters_are_refused(fake: FakeTelegram) -> None:
    assert await raw(fake, "sendMessage", {"chat_id": USER}) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: parameter text is required"},
    )
    status, answer = await raw(
        fake, "editMessageText", {"chat_id": USER, "message_id": "one", "text": "x"}
    )
    assert (status, answer["description"]) == (400, "Bad Request: message_id must be Integer")
    button = {"text": "a", "callback_data": "b", "colour": "red"}
    status, answer = await raw(
        fake,
        "sendMessage",
        {"chat_id": USER, "text": "x", "reply_markup": {"inline_keyboard": [[button]]}},
    )
    assert status == 400 and "unknown field" in answer["description"]
    assert (await raw(fake, "sendTelepathy", {}))[0] == 404
    assert (await raw(fake, "getMe", {}, token="1:wrong"))[0] == 401
    assert fake.shown == []


async def test_a_wrong_token_is_refused_through_ptb(fake: FakeTelegram) -> None:
    client = Bot("1:wrong", base_url=f"{fake.url}/bot", request=AiohttpRequest())
    with pytest.raises(InvalidToken):
        await client.initialize()
    await client.shutdown()


def test_the_vendored_spec_checks_every_call() -> None:
    contract = Contract.load()
    assert contract.from_file and len(contract.methods) > 150
    assert (
        contract.call_error("sendMessage", {"chat_id": 1, "text": "x", "protect_content": True})
        is None
    )
    builtin = Contract(BUILTIN, from_file=False)
    assert builtin.call_error(
        "sendMessage", {"chat_id": 1, "text": "x", "protect_content": True}
    ) == ("unknown parameter protect_content")


def test_updates_the_fake_builds_match_the_spec(fake: FakeTelegram) -> None:
    contract = Contract.load()
    update = fake.text(USER, "/start DEMO")
    assert contract.object_error(update, "Update", "update") is None
    update["message"]["colour"] = "red"
    assert (
        contract.object_error(update, "Update", "update") == "unknown field update.message.colour"
    )


def test_a_missing_spec_file_is_an_error_not_a_quiet_fallback(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Contract.load(tmp_path / "absent.json")


def test_the_light_built_in_contract_of_the_benches_still_checks() -> None:
    contract = Contract(BUILTIN, from_file=False)
    assert contract.call_error("sendMessage", {"chat_id": 1}) == "parameter text is required"
    assert contract.call_error("sendMessage", {"chat_id": 1, "text": "x", "x": 1}) == (
        "unknown parameter x"
    )
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    assert (
        contract.call_error("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup})
        is None
    )
    assert contract.decode("sendMessage", "chat_id", "42") == 42
    assert contract.decode("sendMessage", "text", "42") == "42"

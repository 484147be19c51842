"""The Telegram channel: python-telegram-bot on our aiohttp app, by webhook or long polling.

Verify (secret token) -> store the update -> 200 -> process in the background -> render the
replies as messages with inline keyboards. Polling feeds the same store-then-process path.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import BotCommand, CallbackQuery, InputFile, Message, Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.channels import telegram_render as tg
from bot.channels.base import Delivery, SendError
from bot.channels.telegram_request import AiohttpRequest
from bot.i18n import SUPPORTED, render
from bot.logrefs import event_ref
from bot.settings import Settings, SettingsError
from handlers.types import Inbound

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_BODY = 256 * 1024  # an update is a few kB; Telegram's own text limits keep it far below
MAX_UPDATE_ID = 2**63  # Telegram's ids are far below; a longer one overflows the event id
ALLOWED_UPDATES = ["message", "callback_query"]
COMMANDS = (
    "start",
    "menu",
    "book",
    "bookings",
    "hours",
    "feedback",
    "about",
    "language",
    "privacy",
    "help",
)
COMMAND_LANGUAGE = {"zh-TW": "zh", "en": "en"}  # setMyCommands takes ISO 639-1 codes
POLL_TIMEOUT = 30
MAX_TRACKED = 10_000

log = logging.getLogger(__name__)


def webhook_secret(settings: Settings) -> str:
    """The configured secret token, or one derived from the bot token when none is set."""
    secret = settings.telegram_webhook_secret
    if not secret:
        return hmac.new(
            settings.telegram_token.encode(), b"eap-telegram-webhook", hashlib.sha256
        ).hexdigest()
    if not SECRET_PATTERN.fullmatch(secret):
        raise SettingsError(
            "EAP_TELEGRAM_WEBHOOK_SECRET may use only A-Z, a-z, 0-9, _ and - (1 to 256 characters)"
        )
    return secret


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """A PTB Application without an Updater (we feed it), on the aiohttp transport."""
    base = settings.telegram_api_base.rstrip("/")
    return (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=2))
        .updater(None)
        .job_queue(None)
        .build()
    )


class SendLimiter:
    """Spaces sends to Telegram's limits: ~30 a second overall, 1 a second per chat.

    A generic cell rate algorithm: each send books the earliest moment its chat's pace allows,
    then the bot's. A chat may burst a few messages, as Telegram tolerates.
    """

    def __init__(
        self,
        *,
        overall_per_second: float | None = 30.0,
        per_chat_per_second: float | None = 1.0,
        chat_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        """Set the rates (None: unlimited), the chat burst, and the clock to measure with."""
        self._overall = 1 / overall_per_second if overall_per_second else 0.0
        self._per_chat = 1 / per_chat_per_second if per_chat_per_second else 0.0
        self._chat_slack = self._per_chat * (chat_burst - 1)
        self._clock = clock
        self._sleep = sleep
        self._overall_next = 0.0
        self._chat_next: dict[int, float] = {}

    def reserve_chat(self, chat_id: int) -> float:
        """Book the chat's next send; return how long to wait for it."""
        now = self._clock()
        chat_next = self._chat_next.get(chat_id, now)
        start = max(now, chat_next - self._chat_slack)
        self._chat_next[chat_id] = max(chat_next, start) + self._per_chat
        if len(self._chat_next) > MAX_TRACKED:
            self._chat_next = {k: v for k, v in self._chat_next.items() if v > now}
        return start - now

    def reserve_overall(self) -> float:
        """Book the next send of the whole bot; return how long to wait for it."""
        now = self._clock()
        start = max(now, self._overall_next)
        self._overall_next = start + self._overall
        return start - now

    async def wait(self, chat_id: int) -> None:
        """Wait until a send to this chat is within both limits."""
        # The chat first, then the bot: an overall slot is booked only when it is used, so a
        # chat waiting out its own pace never holds back sends to other chats.
        for reserve in (functools.partial(self.reserve_chat, chat_id), self.reserve_overall):
            delay = reserve()
            if delay > 0:
                await self._sleep(delay)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Hold sends to a chat after Telegram answered 429 (retry_after), burst or not."""
        until = self._clock() + seconds + self._chat_slack
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)


@dataclass
class Progress:
    """How far a delivery got, so a retry neither re-answers nor re-sends."""

    answered: bool = False
    sent: int = 0


class Bounded(OrderedDict[Any, Any]):
    """A dict that forgets its oldest entries beyond MAX_TRACKED (memory stays flat)."""

    def remember(self, key: Any, value: Any) -> None:
        """Set a value, dropping the oldest entry when full."""
        self[key] = value
        self.move_to_end(key)
        if len(self) > MAX_TRACKED:
            self.popitem(last=False)


def _send_error(err: TelegramError) -> SendError:
    """Map a Bot API error to the outbox's retry policy (never with message text)."""
    if isinstance(err, RetryAfter):
        with warnings.catch_warnings():  # int or timedelta, whichever PTB hands out
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            retry_after = err.retry_after
        seconds = retry_after if isinstance(retry_after, int) else retry_after.total_seconds()
        return SendError("telegram 429", retry_after=float(seconds))
    if isinstance(err, Forbidden):  # blocked by the user, or the account is gone
        return SendError("telegram 403", permanent=True)
    if isinstance(err, ChatMigrated):
        return SendError("telegram chat migrated", permanent=True)
    if isinstance(err, BadRequest):
        return SendError(f"telegram 400: {err.message[:120]}", permanent=True)
    return SendError(f"telegram {type(err).__name__}")


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is over `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _parse_update(body: bytes) -> dict[str, Any] | None:
    """The update as a dict, or None unless it is a JSON object with a 64-bit update_id."""
    try:
        update = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can parse
        return None
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    return update if 0 <= update_id < MAX_UPDATE_ID else None


def _are_ids(*values: Any) -> bool:
    """Whether every value is an integer id, as Telegram sends (PTB does not check)."""
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _text(value: Any) -> str | None:
    """A string field as Telegram sends it; anything else (PTB passes it through) is None."""
    return value if isinstance(value, str) else None


class TelegramChannel:
    """Receives updates (webhook or polling), turns them into Inbound, and sends replies."""

    channel = CHANNEL

    def __init__(
        self,
        settings: Settings,
        *,
        limiter: SendLimiter | None = None,
        poll_timeout: int = POLL_TIMEOUT,
    ) -> None:
        """Build the PTB application; nothing touches the network until start() or send()."""
        self.settings = settings
        self.secret = webhook_secret(settings)
        self.limiter = limiter or SendLimiter()
        self.poll_timeout = poll_timeout
        self.application = build_application(settings)
        self.bot: ExtBot[Any] = self.application.bot
        self._inbox: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = False
        self._closed = False
        self._ready_lock = asyncio.Lock()
        self._progress = Bounded()
        self._latest = Bounded()  # chat id -> the newest message id seen in that chat
        self._answers = Bounded()  # callback query id -> the task answering it

    @property
    def polling(self) -> bool:
        """Whether updates come by long polling (no public webhook URL configured)."""
        return not self.settings.telegram_webhook_url

    # Receiving ------------------------------------------------------------------------------

    def add_routes(self, app: web.Application, inbox: Any) -> None:
        """Register POST /webhooks/telegram, feeding the inbox."""
        self._inbox = inbox
        app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """Verify the secret, store the update, answer 200, and process it afterwards."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret.encode()):
            log.warning("telegram webhook refused: wrong secret token")
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=415)
        body = await _read_capped(request, MAX_BODY)
        if body is None:
            return web.Response(status=413)
        update = _parse_update(body)
        if update is None:
            return web.Response(status=400)
        event_id = str(update["update_id"])
        try:
            fresh = await self._inbox.accept(CHANNEL, [(event_id, update)])
        except Exception:  # not stored: a non-2xx makes Telegram deliver it again
            log.exception("telegram update not stored", extra={"event": event_ref(event_id)})
            return web.Response(status=503)
        self._inbox.schedule(CHANNEL, fresh)
        return web.Response(status=200)

    def to_inbound(self, payload: dict[str, Any]) -> tuple[Inbound | None, dict[str, Any]]:
        """Read a stored update with PTB: text or button press, who, language, where to answer."""
        update = Update.de_json(payload, self.bot)
        if update.callback_query is not None:
            return self._from_button(update.callback_query, str(update.update_id))
        message = update.message
        if message is None or message.from_user is None or message.chat.type != ChatType.PRIVATE:
            return None, {}  # edits, channel posts, groups: the bot serves private chats only
        if not _are_ids(message.from_user.id, message.chat.id, message.message_id):
            return None, {}  # PTB does not check types; Telegram never sends these
        self._latest.remember(message.chat.id, message.message_id)
        inbound = Inbound(
            CHANNEL,
            str(message.from_user.id),
            text=_text(message.text) or _text(message.caption),
            language_code=_text(message.from_user.language_code),
            event_id=str(update.update_id),
        )
        return inbound, {"chat_id": message.chat.id}

    def _from_button(
        self, query: CallbackQuery, event_id: str
    ) -> tuple[Inbound | None, dict[str, Any]]:
        """A button press: its payload, and the query and menu message to answer."""
        chat = query.message.chat if query.message else None
        if chat is not None and chat.type != ChatType.PRIVATE:
            return None, {}
        ids = [query.from_user.id]
        if query.message is not None:
            ids += [query.message.message_id] + ([chat.id] if chat else [])
        if not _are_ids(*ids) or not isinstance(query.id, str):
            return None, {}
        context: dict[str, Any] = {
            "chat_id": chat.id if chat else query.from_user.id,
            "callback_query_id": query.id,
        }
        if query.message is not None:
            context["message_id"] = query.message.message_id
        self._answer_soon(query.id)
        inbound = Inbound(
            CHANNEL,
            str(query.from_user.id),
            payload=_text(query.data),
            language_code=_text(query.from_user.language_code),
            event_id=event_id,
        )
        return inbound, context

    # Lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, register commands, then set the webhook or start long polling."""
        self._closed = False
        try:
            await self._set_up()
        except InvalidToken:
            raise SettingsError(
                "EAP_TELEGRAM_TOKEN was rejected by Telegram; copy it again from @BotFather"
            ) from None
        except TelegramError as err:  # Telegram unreachable: keep serving, retry set-up
            log.warning("telegram set-up failed (%s); retrying", type(err).__name__)
            self._task = asyncio.create_task(self._set_up_then_receive(), name="telegram-setup")
            return
        if self.polling:
            self._task = asyncio.create_task(self._poll(), name="telegram-polling")

    async def stop(self) -> None:
        """Stop polling, finish what was accepted while the session is open, then close."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._inbox is not None:
            await self._inbox.drain()
        await asyncio.gather(*self._answers.values(), return_exceptions=True)
        self._closed = True
        if self._ready:
            await self.application.shutdown()
            self._ready = False

    async def _ensure_ready(self) -> None:
        """Open the HTTP sessions and check the token once (sends may come before start)."""
        if self._ready:
            return
        async with self._ready_lock:
            if not self._ready:
                await self.application.initialize()
                self._ready = True

    async def _set_up(self) -> None:
        await self._ensure_ready()
        await self._register_commands()
        if self.polling:
            await self.bot.delete_webhook(drop_pending_updates=False)
            log.info("telegram: long polling (no EAP_TELEGRAM_WEBHOOK_URL)")
        else:
            await self.bot.set_webhook(
                self.settings.telegram_webhook_url,
                secret_token=self.secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            log.info("telegram: webhook registered")

    async def _register_commands(self) -> None:
        """The command menu in each language, and the default language for everyone else."""
        languages = [(locale, COMMAND_LANGUAGE[locale]) for locale in SUPPORTED]
        for locale, code in [(self.settings.default_locale, None), *languages]:
            commands = [
                BotCommand(name, render(locale, f"telegram-command-{name}")) for name in COMMANDS
            ]
            await self.bot.set_my_commands(commands, language_code=code)

    async def _set_up_then_receive(self) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._set_up()
                break
            except TelegramError as err:
                log.warning("telegram set-up failed again (%s)", type(err).__name__)
                delay = min(delay * 2, 60.0)
        if self.polling:
            await self._poll()

    async def _poll(self) -> None:
        """Long-poll getUpdates; store each batch before asking past it, so nothing is lost."""
        offset: int | None = None
        delay = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
                if updates:
                    batch = [(str(u.update_id), u.to_dict()) for u in updates]
                    self._inbox.schedule(CHANNEL, await self._inbox.accept(CHANNEL, batch))
                    offset = updates[-1].update_id + 1
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except RetryAfter as err:
                await asyncio.sleep(_send_error(err).retry_after or delay)
            except Exception as err:  # network, Telegram or database: back off, ask again
                log.warning("telegram polling failed (%s); retrying", type(err).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    # Sending --------------------------------------------------------------------------------

    async def send(self, delivery: Delivery) -> None:
        """Answer the button press, then edit the menu or send the messages, within limits."""
        if self._closed:
            raise SendError("telegram channel stopped")
        chat_id = int(delivery.context.get("chat_id") or delivery.recipient)
        progress = self._progress.get(delivery.retry_key) or Progress()
        self._progress.remember(delivery.retry_key, progress)
        try:
            await self._ensure_ready()
            await self._answer_query(delivery.context, progress)
            await self._deliver(chat_id, delivery, progress)
        except RetryAfter as err:
            error = _send_error(err)
            self.limiter.pause(chat_id, error.retry_after or 1.0)
            raise error from None
        except TelegramError as err:
            error = _send_error(err)
            if error.permanent:
                self._progress.pop(delivery.retry_key, None)
            raise error from None
        except ValueError as err:  # a reply Telegram can never take (e.g. callback data)
            self._progress.pop(delivery.retry_key, None)
            raise SendError(f"telegram render: {err}", permanent=True) from None
        self._progress.pop(delivery.retry_key, None)

    def _answer_soon(self, query_id: str) -> None:
        """Stop the button's spinner now, even if the turn ends up sending nothing (a flood)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # read outside the event loop: the reply answers it
            return
        self._answers.remember(query_id, loop.create_task(self._answer(query_id)))

    async def _answer(self, query_id: str) -> None:
        """Answer a callback query; a failure must not hold back the reply."""
        if self._closed:
            return
        try:
            await self._ensure_ready()
            await self.bot.answer_callback_query(query_id)
        except TelegramError as err:  # e.g. older than Telegram keeps queries (recovery)
            log.info("callback query not answered (%s)", type(err).__name__)

    async def _answer_query(self, context: dict[str, Any], progress: Progress) -> None:
        """Make sure the query was answered, once, before its reply goes out."""
        query_id = context.get("callback_query_id")
        if not query_id or progress.answered:
            return
        early = self._answers.pop(query_id, None)
        await (early if early is not None else self._answer(query_id))
        progress.answered = True

    async def _deliver(self, chat_id: int, delivery: Delivery, progress: Progress) -> None:
        messages = tg.messages(delivery.locale, delivery.replies)
        message_id = self._editable(chat_id, delivery.context, messages)
        if message_id is not None and progress.sent == 0:
            if await self._edit(chat_id, message_id, messages[0]):
                return
        calls = [part for message in messages for part in tg.parts(message)]
        for index, part in enumerate(calls):
            if index < progress.sent:
                continue  # sent before a failure; the retry carries on after it
            await self.limiter.wait(chat_id)
            sent = await self._send_part(chat_id, part)
            progress.sent = index + 1
            self._latest.remember(chat_id, sent.message_id)

    def _editable(
        self, chat_id: int, context: dict[str, Any], messages: list[tg.Message]
    ) -> int | None:
        """The menu to edit in place: a button press on the chat's newest message, answered by
        one message with buttons (a menu step); otherwise new messages read better."""
        message_id = context.get("message_id")
        if message_id is None or "callback_query_id" not in context or len(messages) != 1:
            return None
        only = messages[0]
        if not only.rows or only.attachment is not None or tg.utf16_len(only.text) > tg.MAX_TEXT:
            return None
        return message_id if self._latest.get(chat_id) == message_id else None

    async def _edit(self, chat_id: int, message_id: int, message: tg.Message) -> bool:
        """Replace a menu's text and buttons; False when Telegram will not edit it."""
        await self.limiter.wait(chat_id)
        try:
            await self.bot.edit_message_text(
                message.text, chat_id=chat_id, message_id=message_id, reply_markup=message.markup()
            )
        except BadRequest as err:
            if "not modified" in err.message.lower():
                return True  # the same menu again: nothing to change
            log.info("menu not edited (%s); sending it as a new message", type(err).__name__)
            return False
        return True

    async def _send_part(self, chat_id: int, part: tg.Part) -> Message:
        if part.attachment is None:
            return await self.bot.send_message(chat_id, part.text, reply_markup=part.markup())
        file = InputFile(part.attachment.content, filename=part.attachment.filename)
        caption = part.text or None
        if part.is_photo:
            return await self.bot.send_photo(
                chat_id, file, caption=caption, reply_markup=part.markup()
            )
        return await self.bot.send_document(
            chat_id, file, caption=caption, reply_markup=part.markup()
        )

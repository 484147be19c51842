"""A fake Telegram Bot API on 127.0.0.1: the methods the bot uses, refusing what Telegram would.

Every call is checked against tests/data/specs/telegram-bot-api-10.0.json (unknown method or
parameter, missing required parameter, wrong type, recursively), or against a small built-in
contract where the benches ask for light checks; then against Telegram's limits (4096-character
texts, 1-64 byte callback data, ...). The fake also builds the updates a user would cause,
refusing a press of a button the bot never showed.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SPEC_PATH = Path(__file__).resolve().parent / "data" / "specs" / "telegram-bot-api-10.0.json"
TOKEN = "123456789:TEST-token_for-the-fake-api"
BOT_ID = 123456789
MAX_TEXT = 4096
MAX_CAPTION = 1024
COMMAND = re.compile(r"[a-z0-9_]{1,32}")
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The local port a request came in on (see FakeTelegram.listen): which bot process sent it.
_VIA: contextvars.ContextVar[int] = contextvars.ContextVar("via", default=0)


def _field(name: str, types: list[str], required: bool = False) -> dict[str, Any]:
    return {"name": name, "types": types, "required": required}


_MARKUP = ["InlineKeyboardMarkup"]
# A light contract for benches and chaos runs (cheaper per call than the full spec): the methods
# the bot uses, in the spec's shape.
BUILTIN: dict[str, Any] = {
    "methods": {
        "getMe": {"fields": []},
        "getUpdates": {
            "fields": [
                _field("offset", ["Integer"]),
                _field("limit", ["Integer"]),
                _field("timeout", ["Integer"]),
                _field("allowed_updates", ["Array of String"]),
            ]
        },
        "setWebhook": {
            "fields": [
                _field("url", ["String"], True),
                _field("max_connections", ["Integer"]),
                _field("allowed_updates", ["Array of String"]),
                _field("drop_pending_updates", ["Boolean"]),
                _field("secret_token", ["String"]),
            ]
        },
        "deleteWebhook": {"fields": [_field("drop_pending_updates", ["Boolean"])]},
        "setMyCommands": {
            "fields": [
                _field("commands", ["Array of BotCommand"], True),
                _field("scope", ["BotCommandScope"]),
                _field("language_code", ["String"]),
            ]
        },
        "sendMessage": {
            "fields": [
                _field("chat_id", ["Integer", "String"], True),
                _field("text", ["String"], True),
                _field("reply_markup", _MARKUP),
            ]
        },
        "editMessageText": {
            "fields": [
                _field("chat_id", ["Integer", "String"]),
                _field("message_id", ["Integer"]),
                _field("text", ["String"], True),
                _field("reply_markup", _MARKUP),
            ]
        },
        "answerCallbackQuery": {
            "fields": [
                _field("callback_query_id", ["String"], True),
                _field("text", ["String"]),
                _field("show_alert", ["Boolean"]),
            ]
        },
        "sendPhoto": {
            "fields": [
                _field("chat_id", ["Integer", "String"], True),
                _field("photo", ["InputFile", "String"], True),
                _field("caption", ["String"]),
                _field("reply_markup", _MARKUP),
            ]
        },
        "sendDocument": {
            "fields": [
                _field("chat_id", ["Integer", "String"], True),
                _field("document", ["InputFile", "String"], True),
                _field("caption", ["String"]),
                _field("reply_markup", _MARKUP),
            ]
        },
        "getFile": {"fields": [_field("file_id", ["String"], True)]},
    },
    "types": {
        "InlineKeyboardMarkup": {
            "fields": [_field("inline_keyboard", ["Array of Array of InlineKeyboardButton"], True)]
        },
        "InlineKeyboardButton": {
            "fields": [
                _field("text", ["String"], True),
                _field("callback_data", ["String"]),
                _field("url", ["String"]),
            ]
        },
        "BotCommand": {
            "fields": [
                _field("command", ["String"], True),
                _field("description", ["String"], True),
            ]
        },
    },
}


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        """Keep the HTTP status, Telegram's description and response parameters."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: ..." wording."""
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes


class Contract:
    """Checks calls and objects against the Bot API description (spec file or built-in)."""

    def __init__(self, spec: dict[str, Any], *, from_file: bool) -> None:
        """Index methods and types by name."""
        self.methods = spec["methods"]
        self.types = spec["types"]
        self.from_file = from_file

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> Contract:
        """The Bot API spec from a file (a missing file raises: the spec is part of the repo)."""
        return cls(json.loads(path.read_text(encoding="utf-8")), from_file=True)

    def fields(self, method: str) -> dict[str, dict[str, Any]]:
        """A method's parameters by name."""
        return {f["name"]: f for f in self.methods[method].get("fields", [])}

    def decode(self, method: str, name: str, raw: Any) -> Any:
        """Form values arrive as strings: JSON-decode those the spec types as non-strings."""
        spec = self.fields(method).get(name)
        if not isinstance(raw, str) or spec is None or spec["types"] == ["String"]:
            return raw
        try:
            decoded = json.loads(raw)
        except ValueError:
            return raw
        return decoded if self.value_error(decoded, spec["types"], name) is None else raw

    def call_error(self, method: str, params: dict[str, Any]) -> str | None:
        """Why Telegram would refuse these parameters (unknown, missing, wrong type), or None."""
        fields = self.fields(method)
        for name in params:
            if name not in fields:
                return f"unknown parameter {name}"
        for name, spec in fields.items():
            if spec["required"] and name not in params:
                return f"parameter {name} is required"
        for name, value in params.items():
            error = self.value_error(value, fields[name]["types"], name)
            if error:
                return error
        return None

    def value_error(self, value: Any, types: list[str], where: str) -> str | None:
        """Why a value matches none of the alternative types, or None when one matches."""
        errors = [self._type_error(value, t, where) for t in types]
        if any(error is None for error in errors):
            return None
        return errors[0]

    def _type_error(self, value: Any, type_name: str, where: str) -> str | None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return f"{where} must be an array"
            inner = type_name.removeprefix("Array of ")
            for index, item in enumerate(value):
                error = self.value_error(item, [inner], f"{where}[{index}]")
                if error:
                    return error
            return None
        scalar = {
            "Integer": isinstance(value, int) and not isinstance(value, bool),
            "Float": isinstance(value, int | float) and not isinstance(value, bool),
            "String": isinstance(value, str),
            "Boolean": isinstance(value, bool),
            "True": value is True,
            "InputFile": isinstance(value, Upload),
        }
        if type_name in scalar:
            return None if scalar[type_name] else f"{where} must be {type_name}"
        return self.object_error(value, type_name, where)

    def object_error(self, value: Any, type_name: str, where: str) -> str | None:
        """Why a value is not a valid object of a named type, or None."""
        spec = self.types.get(type_name)
        if not isinstance(value, dict):
            return f"{where} must be a {type_name} object"
        if spec is None:
            return None  # a type the built-in contract leaves open
        if spec.get("subtypes"):
            return self.value_error(value, spec["subtypes"], where)
        fields = {f["name"]: f for f in spec.get("fields", [])}
        for name in value:
            if name not in fields:
                return f"unknown field {where}.{name}"
        for name, f in fields.items():
            if f["required"] and name not in value:
                return f"field {where}.{name} is required"
            if name in value:
                error = self.value_error(value[name], f["types"], f"{where}.{name}")
                if error:
                    return error
        return None


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Shown:
    """A message as the user sees it after a send or an edit."""

    chat_id: int
    message_id: int
    kind: str  # "send" or "edit"
    text: str
    rows: list[list[tuple[str, str]]]
    at: float
    file: Upload | None = None
    via: int = 0  # the fake's port the call came in on

    @property
    def payloads(self) -> list[str]:
        """Every button's callback data, row by row."""
        return [data for row in self.rows for _, data in row]


@dataclass
class Chat:
    """A private chat with one user: message ids shared by both sides, as on Telegram."""

    user: dict[str, Any]
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)


class FakeTelegram:
    """The Bot API for one bot token, plus what a user does (type, press) as updates."""

    def __init__(self, token: str = TOKEN, *, contract: Contract | None = None) -> None:
        """Start empty; call start() to listen on 127.0.0.1."""
        self.token = token
        self.contract = contract if contract is not None else Contract.load()
        self.calls: list[Call] = []
        self.shown: list[Shown] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.chats: dict[int, Chat] = {}
        self.blocked: set[int] = set()
        self.queries: dict[str, int] = {}  # callback query id -> times answered
        self.files: dict[str, tuple[str, Upload]] = {}  # file_id -> (file_path, upload)
        self.on_shown: Callable[[Shown], None] | None = None
        self.on_poll: Callable[[int | None], Awaitable[None]] | None = None
        self._failures: list[tuple[str, ApiError | None]] = []
        self._queue: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._closing = asyncio.Event()
        self._poller: asyncio.Event | None = None
        self._update_ids = itertools.count(10_000)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # Serving --------------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; return the API base URL."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def listen(self) -> str:
        """Listen on one more free port (e.g. one per bot process); return its API base URL.

        Shown.via tells which port a message came in on, so which process sent it.
        """
        assert self._runner is not None, "start() first"
        before = {tuple(a[:2]) for a in self._runner.addresses}
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        [(host, port)] = {tuple(a[:2]) for a in self._runner.addresses} - before
        return f"http://{host}:{port}"

    async def close(self) -> None:
        """Wake any long poll and stop listening."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        if method not in self.contract.methods or not hasattr(self, f"_api_{method}"):
            return self._error(ApiError(404, "Not Found"))
        call = Call(method, {}, time.monotonic())
        self.calls.append(call)
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        _VIA.set(sockname[1] if sockname else 0)
        try:
            call.params = await self._params(request, method)
            error = self.contract.call_error(method, call.params)
            if error:
                raise bad_request(error)
            self._planned_failure(method)
            result = await getattr(self, f"_api_{method}")(**call.params)
        except ApiError as err:
            call.status = err.status
            return self._error(err)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(err: ApiError) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": err.status,
            "description": err.description,
        }
        if err.parameters:
            body["parameters"] = err.parameters
        return web.json_response(body, status=err.status)

    async def _params(self, request: web.Request, method: str) -> dict[str, Any]:
        """Parameters from the query string, a JSON body, or a form (files become Upload)."""
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            raw.update(body)
        elif request.method == "POST" and request.can_read_body:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    raw[name] = Upload(value.filename, value.file.read())
                else:
                    raw[name] = value
        return {name: self.contract.decode(method, name, value) for name, value in raw.items()}

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """Make calls of a method fail (429 with retry_after by default), after `skip` more
        calls of it succeed."""
        if status == 429:
            wait = retry_after if retry_after is not None else 1
            error = ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        else:
            error = ApiError(status, description or "Internal Server Error")
        self._failures.extend([(method, None)] * skip + [(method, error)] * times)

    def _planned_failure(self, method: str) -> None:
        for index, (name, error) in enumerate(self._failures):
            if name == method:
                del self._failures[index]
                if error is not None:
                    raise error
                return

    # What a user does -----------------------------------------------------------------------

    def user(self, user_id: int, *, language_code: str | None = None) -> dict[str, Any]:
        """Open a private chat with a user (idempotent)."""
        if user_id not in self.chats:
            user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            if language_code:
                user["language_code"] = language_code
            self.chats[user_id] = Chat(user)
        return self.chats[user_id].user

    def _chat(self, chat_id: int) -> dict[str, Any]:
        user = self.chats[chat_id].user
        return {"id": chat_id, "type": "private", "first_name": user["first_name"]}

    def _update(self, **content: Any) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **content}
        if self.contract.from_file:  # the fake must itself send what Telegram sends
            error = self.contract.object_error(update, "Update", "update")
            assert error is None, error
        return update

    def text(self, user_id: int, text: str) -> dict[str, Any]:
        """The update for a user typing text."""
        self.user(user_id)
        chat = self.chats[user_id]
        message = {
            "message_id": next(chat.ids),
            "from": chat.user,
            "chat": self._chat(user_id),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._update(message=message)

    def press(self, user_id: int, data: str) -> dict[str, Any]:
        """The update for a user pressing the button with this data on the newest message
        showing it; refuses a button the bot never showed."""
        chat = self.chats[user_id]
        for message in sorted(chat.messages.values(), key=lambda m: -m["message_id"]):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == data for row in rows for b in row):
                query_id = f"q{next(self._query_ids)}"
                self.queries[query_id] = 0
                query = {
                    "id": query_id,
                    "from": chat.user,
                    "message": copy.deepcopy(message),
                    "chat_instance": f"ci{user_id}",
                    "data": data,
                }
                return self._update(callback_query=query)
        raise AssertionError(f"no button {data!r} shown in chat {user_id}")

    def queue(self, update: dict[str, Any]) -> None:
        """Hand an update to getUpdates (polling mode)."""
        self._queue.append(update)
        self._arrived.set()

    @property
    def unanswered(self) -> list[str]:
        """Callback queries the bot never answered."""
        return [query for query, times in self.queries.items() if times == 0]

    def calls_of(self, method: str) -> list[Call]:
        """Successful calls of one method."""
        return [c for c in self.calls if c.method == method and c.status == 200]

    def shown_in(self, chat_id: int) -> list[Shown]:
        """Sends and edits in one chat, in order."""
        return [s for s in self.shown if s.chat_id == chat_id]

    # The Bot API ----------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "EAP Test",
            "username": "eap_test_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getMe(self) -> dict[str, Any]:
        return self._bot_user()

    async def _api_setWebhook(
        self,
        url: str,
        secret_token: str | None = None,
        drop_pending_updates: bool = False,
        **options: Any,
    ) -> bool:
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if secret_token is not None and not SECRET.fullmatch(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if drop_pending_updates:
            self._queue.clear()
        self.webhook = {"url": url, "secret_token": secret_token, **options}
        return True

    async def _api_deleteWebhook(self, drop_pending_updates: bool = False) -> bool:
        if drop_pending_updates:
            self._queue.clear()
        self.webhook = None
        return True

    async def _api_getUpdates(
        self,
        offset: int | None = None,
        limit: int = 100,
        timeout: int = 0,  # noqa: ASYNC109 (the Bot API parameter)
        allowed_updates: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if self.on_poll is not None:
            await self.on_poll(offset)
        if self._poller is not None:  # Telegram ends the older of two concurrent polls
            self._poller.set()
        mine = self._poller = asyncio.Event()
        if offset is not None:  # asking from an offset confirms everything before it
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [
                u for u in self._queue if not allowed_updates or set(u) & set(allowed_updates)
            ]
            if ready or time.monotonic() >= deadline or self._closing.is_set():
                return ready[: max(1, min(limit, 100))]
            if mine.is_set():
                raise ApiError(409, "Conflict: terminated by other getUpdates request")
            self._arrived.clear()
            waits = [asyncio.ensure_future(e.wait()) for e in (self._arrived, self._closing, mine)]
            await asyncio.wait(
                waits, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED
            )
            for waiting in waits:
                waiting.cancel()

    async def _api_setMyCommands(
        self,
        commands: list[dict[str, str]],
        scope: dict[str, Any] | None = None,
        language_code: str = "",
    ) -> bool:
        if not 0 < len(commands) <= 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not COMMAND.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"].strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise bad_request("invalid language code specified")
        self.commands[((scope or {}).get("type", "default"), language_code)] = commands
        return True

    def _target(self, chat_id: Any) -> Chat:
        if not isinstance(chat_id, int) or chat_id not in self.chats:
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self.chats[chat_id]

    @staticmethod
    def _check_text(text: str, limit: int = MAX_TEXT, what: str = "message") -> None:
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > limit:
            raise bad_request(f"{what} is too long")

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
        rows = (markup or {}).get("inline_keyboard", [])
        if sum(len(row) for row in rows) > 100:
            raise bad_request("too many buttons")
        shown = []
        for row in rows:
            shown_row = []
            for button in row:
                data = button.get("callback_data")
                if not button["text"].strip():
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                if data is None and "url" not in button:
                    raise bad_request('can\'t find field "callback_data"')
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                shown_row.append((button["text"], data or ""))
            shown.append(shown_row)
        return shown

    def _show(
        self, chat: Chat, kind: str, message: dict[str, Any], file: Upload | None = None
    ) -> None:
        rows = self._check_markup(message.get("reply_markup"))
        text = message.get("text", message.get("caption", ""))
        chat_id = message["chat"]["id"]
        at = time.monotonic()
        shown = Shown(chat_id, message["message_id"], kind, text, rows, at, file, _VIA.get())
        self.shown.append(shown)
        if self.on_shown is not None:
            self.on_shown(shown)

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        chat = self.chats[chat_id]
        message = {
            "message_id": next(chat.ids),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **{k: v for k, v in content.items() if v is not None},
        }
        chat.messages[message["message_id"]] = message
        return message

    async def _api_sendMessage(
        self, chat_id: Any, text: str, reply_markup: dict[str, Any] | None = None, **_: Any
    ) -> dict[str, Any]:
        chat = self._target(chat_id)
        self._check_text(text)
        self._check_markup(reply_markup)
        message = self._message(chat_id, text=text, reply_markup=reply_markup)
        self._show(chat, "send", message)
        return message

    async def _api_editMessageText(
        self,
        text: str,
        chat_id: Any = None,
        message_id: int | None = None,
        reply_markup: dict[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        chat = self._target(chat_id)
        self._check_text(text)
        self._check_markup(reply_markup)
        message = chat.messages.get(message_id or 0)
        if message is None or message["from"]["id"] != BOT_ID or "text" not in message:
            raise bad_request("message to edit not found")
        if message["text"] == text and message.get("reply_markup") == reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.update(text=text, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        self._show(chat, "edit", message)
        return message

    async def _api_answerCallbackQuery(self, callback_query_id: str, **_: Any) -> bool:
        if self.queries.get(callback_query_id, 1) != 0:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.queries[callback_query_id] = 1
        return True

    def _store_file(self, upload: Upload, folder: str) -> dict[str, Any]:
        number = next(self._file_ids)
        file_id = f"file{number}"
        self.files[file_id] = (f"{folder}/file_{number}_{upload.filename}", upload)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{number}",
            "file_size": len(upload.content),
        }

    async def _send_file(
        self, chat_id: Any, kind: str, file: Any, caption: str | None, markup: Any
    ) -> dict[str, Any]:
        chat = self._target(chat_id)
        if not isinstance(file, Upload):
            raise bad_request("wrong remote file identifier specified")
        if caption is not None and len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        self._check_markup(markup)
        stored = self._store_file(file, f"{kind}s")
        if kind == "photo":
            content: Any = [{**stored, "width": 320, "height": 240}]
        else:
            content = {**stored, "file_name": file.filename}
        message = self._message(chat_id, caption=caption, reply_markup=markup, **{kind: content})
        self._show(chat, "send", message, file)
        return message

    async def _api_sendPhoto(
        self,
        chat_id: Any,
        photo: Any,
        caption: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> dict[str, Any]:
        return await self._send_file(chat_id, "photo", photo, caption, reply_markup)

    async def _api_sendDocument(
        self,
        chat_id: Any,
        document: Any,
        caption: str | None = None,
        reply_markup: Any = None,
        **_: Any,
    ) -> dict[str, Any]:
        return await self._send_file(chat_id, "document", document, caption, reply_markup)

    async def _api_getFile(self, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        path, upload = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(upload.content),
            "file_path": path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for path, upload in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=upload.content)
        return web.Response(status=404)

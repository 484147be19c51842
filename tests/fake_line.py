"""A fake LINE platform on 127.0.0.1: the Messaging API the bot calls, and signed webhooks.

The API side serves reply, push, multicast, profile and the rich-menu endpoints, and refuses
what LINE refuses: a bad token, a body that breaks `tests/data/specs/messaging-api.yml` (checked
with discriminator dispatch), or one that breaks a limit the spec leaves to prose (5000-unit
texts, 13 quick replies with 20-character labels and no URI actions, 300-character postback
data, 12-bubble carousels, alt texts, https image URLs, once-only reply tokens, retry keys
answered with 409).
Tests can make the next calls fail, or fail after being accepted (a lost response).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import itertools
import json
import re
import socket
import struct
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.line import LineChannel
from bot.channels.line_render import utf16_len
from bot.dispatch import Dispatcher
from bot.runtime import Runtime
from bot.server import Server
from bot.settings import Settings
from tests.openapi_check import OpenApi, load

CHANNEL_SECRET = "0123456789abcdef0123456789abcdef"
ACCESS_TOKEN = "test-line-access-token"
BOT_ID = "U" + "b07" * 10 + "ab"
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
QUICK_REPLY_ACTIONS = {
    "postback",
    "message",
    "datetimepicker",
    "camera",
    "cameraRoll",
    "location",
    "clipboard",
}
ACTION_TYPES = QUICK_REPLY_ACTIONS | {"uri", "richmenuswitch"}
URI_SCHEMES = ("http://", "https://", "line://", "tel:")
MAX_FLEX_JSON = 50_000


def user_id(name: str) -> str:
    """A LINE-shaped user id (U + 32 hex digits) for a test name."""
    return "U" + hashlib.md5(name.encode()).hexdigest()


@dataclass
class Call:
    """One request the fake received, and what it answered."""

    operation: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 200
    accepted: bool = False
    problems: list[str] = field(default_factory=list)
    to: str | None = None


@dataclass
class Failure:
    """A planned answer for the next call of an operation."""

    status: int
    accept: bool = False
    headers: dict[str, str] = field(default_factory=dict)


MESSAGE_TYPES = {
    "text",
    "textV2",
    "sticker",
    "image",
    "video",
    "audio",
    "location",
    "imagemap",
    "template",
    "flex",
    "coupon",
}


def message_problems(messages: Any) -> list[str]:
    """What LINE refuses in a messages array beyond the OpenAPI schema."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return ["messages: 1 to 5 required"]
    problems: list[str] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.get("type") not in MESSAGE_TYPES:  # also with validate=False (benches)
            problems.append(f"{where}.type: unknown message type {message.get('type')!r}")
        if message.get("type") == "text":
            text = message.get("text") or ""
            if not text.strip() or utf16_len(text) > 5000:
                problems.append(f"{where}.text: must be 1-5000 UTF-16 code units")
        if message.get("type") == "flex":
            problems += _flex_problems(message, where)
        if message.get("type") == "image":
            problems += _image_problems(message, where)
        if "quickReply" in message:
            problems += _quick_reply_problems(message["quickReply"], f"{where}.quickReply")
        problems += _action_problems(message, where)
    return problems


def _flex_problems(message: dict[str, Any], where: str) -> list[str]:
    problems = []
    alt = message.get("altText") or ""
    if not alt.strip() or len(alt) > 1500:
        problems.append(f"{where}.altText: must be 1-1500 characters")
    contents = message.get("contents") or {}
    if len(json.dumps(contents, ensure_ascii=False).encode()) > MAX_FLEX_JSON:
        problems.append(f"{where}.contents: larger than 50 KB")
    if contents.get("type") == "carousel" and not 1 <= len(contents.get("contents", [])) <= 12:
        problems.append(f"{where}.contents: a carousel holds 1-12 bubbles")
    for path, node in _walk(contents, f"{where}.contents"):
        if node.get("type") == "text" and "contents" not in node and not node.get("text"):
            problems.append(f"{path}.text: empty")
    return problems


def _image_problems(message: dict[str, Any], where: str) -> list[str]:
    """LINE fetches images itself: each URL must be https and at most 2000 characters."""
    problems = []
    for name in ("originalContentUrl", "previewImageUrl"):
        url = message.get(name) or ""
        if not url.startswith("https://") or len(url) > 2000:
            problems.append(f"{where}.{name}: must be an https URL of at most 2000 characters")
    return problems


def _quick_reply_problems(quick_reply: dict[str, Any], where: str) -> list[str]:
    items = quick_reply.get("items") or []
    problems = [] if 1 <= len(items) <= 13 else [f"{where}.items: 1-13 required"]
    for index, item in enumerate(items):
        act = item.get("action") or {}
        label = act.get("label") or ""
        if act.get("type") not in QUICK_REPLY_ACTIONS:
            problems.append(f"{where}.items[{index}]: {act.get('type')} action not allowed")
        if act.get("type") not in ("camera", "cameraRoll", "location") and not label:
            problems.append(f"{where}.items[{index}].action.label: required")
        if len(label) > 20:
            problems.append(f"{where}.items[{index}].action.label: over 20 characters")
    return problems


def _action_problems(node: Any, where: str) -> list[str]:
    problems = []
    for path, item in _walk(node, where):
        act = item.get("action")
        if not isinstance(act, dict):
            continue
        kind, label = act.get("type"), act.get("label") or ""
        if kind not in ACTION_TYPES:
            problems.append(f"{path}.action: unknown type {kind!r}")
        if len(label) > 40:
            problems.append(f"{path}.action.label: over 40 characters")
        if kind == "postback":
            if not 1 <= len(act.get("data") or "") <= 300:
                problems.append(f"{path}.action.data: must be 1-300 characters")
            if len(act.get("displayText") or "") > 300:
                problems.append(f"{path}.action.displayText: over 300 characters")
        if kind == "uri":
            uri = act.get("uri") or ""
            if not uri.startswith(URI_SCHEMES) or len(uri) > 1000:
                problems.append(f"{path}.action.uri: not a URI LINE opens")
            if uri.startswith("tel:") and not re.fullmatch(r"tel:\+?[0-9-]+", uri):
                problems.append(f"{path}.action.uri: bad phone number")
    return problems


def _walk(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every object in a JSON tree with its path."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((where, node))
        for key, value in node.items():
            found += _walk(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _walk(value, f"{where}[{index}]")
    return found


def rich_menu_problems(menu: dict[str, Any]) -> list[str]:
    """What LINE refuses in a rich menu beyond the schema."""
    size = menu.get("size") or {}
    width, height = size.get("width", 0), size.get("height", 0)
    problems = []
    if not (800 <= width <= 2500 and height >= 250 and width / max(height, 1) >= 1.45):
        problems.append("size: width 800-2500, height >= 250, width/height >= 1.45")
    areas = menu.get("areas") or []
    if not 1 <= len(areas) <= 20:
        problems.append("areas: 1-20 required")
    for index, area in enumerate(areas):
        b = area.get("bounds") or {}
        if b.get("x", -1) < 0 or b.get("y", -1) < 0:
            problems.append(f"areas[{index}].bounds: outside the menu")
        elif b["x"] + b.get("width", 0) > width or b["y"] + b.get("height", 0) > height:
            problems.append(f"areas[{index}].bounds: outside the menu")
        if len((area.get("action") or {}).get("label") or "") > 20:
            problems.append(f"areas[{index}].action.label: over 20 characters")
    for key in ("name", "chatBarText"):
        if not menu.get(key):
            problems.append(f"{key}: required")
    return problems + _action_problems(areas, "areas")


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, or None if it is not one."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


class FakeLine:
    """The Messaging API endpoints the bot uses, on a free port of 127.0.0.1."""

    def __init__(self, *, access_token: str = ACCESS_TOKEN, validate: bool = True) -> None:
        """Start empty; `validate` checks bodies against the spec (benches turn it off)."""
        self.access_token = access_token
        self.spec: OpenApi | None = load("messaging-api.yml") if validate else None
        self.calls: list[Call] = []
        self.reply_tokens: dict[str, tuple[str, float]] = {}
        self.token_ttl = 60.0
        self.accepted_keys: dict[str, str] = {}
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.profiles: dict[str, str] = {}
        self.rich_menus: dict[str, dict[str, Any]] = {}
        self.images: dict[str, bytes] = {}
        self.default_rich_menu: str | None = None
        self.on_accepted: Callable[[Call], None] | None = None
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # Control

    async def start(self) -> str:
        """Listen on a free port; return the base URL to use as EAP_LINE_API_BASE."""
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/message/multicast", self._multicast)
        app.router.add_get("/v2/bot/profile/{user}", self._profile)
        app.router.add_post("/v2/bot/richmenu", self._create_rich_menu)
        app.router.add_get("/v2/bot/richmenu/list", self._list_rich_menus)
        app.router.add_delete("/v2/bot/richmenu/{id}", self._delete_rich_menu)
        app.router.add_post("/v2/bot/richmenu/{id}/content", self._upload_image)
        app.router.add_post("/v2/bot/user/all/richmenu/{id}", self._set_default)
        app.router.add_get("/v2/bot/user/all/richmenu", self._get_default)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def issue_reply_token(self, to: str) -> str:
        """A reply token for an event from `to`, as LINE puts in a webhook."""
        token = uuid.uuid4().hex
        self.reply_tokens[token] = (to, time.monotonic())
        return token

    def fail(
        self,
        operation: str,
        status: int,
        *,
        times: int = 1,
        accept: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Fail the next calls of an operation (`accept`: deliver, then lose the answer)."""
        for _ in range(times):
            self.failures[operation].append(Failure(status, accept, headers or {}))

    def accepted(self, operation: str | None = None, to: str | None = None) -> list[Call]:
        """Calls that delivered messages (or menus), oldest first."""
        return [
            c
            for c in self.calls
            if c.accepted
            and (operation is None or c.operation == operation)
            and (to is None or c.to == to)
        ]

    def messages_to(self, to: str) -> list[dict[str, Any]]:
        """Every message delivered to a user, by reply or push, in order."""
        return [m for c in self.accepted(to=to) for m in c.body["messages"]]

    def refused(self) -> list[Call]:
        """Calls refused for a broken body (4xx with problems)."""
        return [c for c in self.calls if c.problems]

    async def wait_for(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Poll until condition() holds, or fail the test after `within` seconds."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the fake LINE API")
            await asyncio.sleep(0.01)

    # Endpoints

    async def _reply(self, request: web.Request) -> web.Response:
        async def deliver(call: Call) -> web.Response:
            token = call.body.get("replyToken")
            issued = self.reply_tokens.pop(token, None)
            if issued is None or time.monotonic() - issued[1] > self.token_ttl:
                return _error(400, "Invalid reply token")
            call.to = issued[0]
            return self._accept(call, {"sentMessages": self._sent(call)})

        return await self._handle(request, "reply", deliver, message_problems_of)

    async def _push(self, request: web.Request) -> web.Response:
        async def deliver(call: Call) -> web.Response:
            call.to = call.body.get("to")
            return self._accept(call, {"sentMessages": self._sent(call)})

        return await self._handle(request, "push", deliver, push_problems, keyed=True)

    async def _multicast(self, request: web.Request) -> web.Response:
        async def deliver(call: Call) -> web.Response:
            return self._accept(call, {})

        return await self._handle(request, "multicast", deliver, multicast_problems, keyed=True)

    async def _profile(self, request: web.Request) -> web.Response:
        async def look_up(call: Call) -> web.Response:
            user = request.match_info["user"]
            if user not in self.profiles:
                return _error(404, "Not found")
            return web.json_response(
                {"userId": user, "displayName": "Test user", "language": self.profiles[user]}
            )

        return await self._handle(request, "profile", look_up, None, body=False)

    async def _create_rich_menu(self, request: web.Request) -> web.Response:
        async def create(call: Call) -> web.Response:
            menu_id = f"richmenu-{uuid.uuid4().hex}"
            self.rich_menus[menu_id] = call.body
            return self._accept(call, {"richMenuId": menu_id})

        return await self._handle(request, "create-rich-menu", create, rich_menu_problems)

    async def _list_rich_menus(self, request: web.Request) -> web.Response:
        async def listing(call: Call) -> web.Response:
            menus = [{"richMenuId": k, **v} for k, v in self.rich_menus.items()]
            return web.json_response({"richmenus": menus})

        return await self._handle(request, "list-rich-menus", listing, None, body=False)

    async def _delete_rich_menu(self, request: web.Request) -> web.Response:
        async def delete(call: Call) -> web.Response:
            menu_id = request.match_info["id"]
            if self.rich_menus.pop(menu_id, None) is None:
                return _error(404, "Not found")
            self.images.pop(menu_id, None)
            if self.default_rich_menu == menu_id:
                self.default_rich_menu = None
            return self._accept(call, {})

        return await self._handle(request, "delete-rich-menu", delete, None, body=False)

    async def _upload_image(self, request: web.Request) -> web.Response:
        async def upload(call: Call) -> web.Response:
            menu_id = request.match_info["id"]
            menu = self.rich_menus.get(menu_id)
            if menu is None:
                return _error(404, "Not found")
            if request.content_type not in ("image/png", "image/jpeg"):
                return _error(415, "image/png or image/jpeg required")
            data = call.body
            size = png_size(data)
            if len(data) > 1024 * 1024 or size is None:
                return _error(400, "the image must be a PNG or JPEG of at most 1 MB")
            if size != (menu["size"]["width"], menu["size"]["height"]):
                return _error(400, "image size does not match the rich menu size")
            if menu_id in self.images:
                return _error(400, "An image has already been uploaded to the richmenu")
            self.images[menu_id] = data
            return self._accept(call, {})

        return await self._handle(request, "upload-rich-menu-image", upload, None, body=False)

    async def _set_default(self, request: web.Request) -> web.Response:
        async def set_default(call: Call) -> web.Response:
            menu_id = request.match_info["id"]
            if menu_id not in self.rich_menus:
                return _error(404, "Not found")
            if menu_id not in self.images:
                return _error(400, "must upload richmenu image before applying it to user")
            self.default_rich_menu = menu_id
            return self._accept(call, {})

        return await self._handle(request, "set-default-rich-menu", set_default, None, body=False)

    async def _get_default(self, request: web.Request) -> web.Response:
        async def get_default(call: Call) -> web.Response:
            if self.default_rich_menu is None:
                return _error(404, "no default rich menu")
            return web.json_response({"richMenuId": self.default_rich_menu})

        return await self._handle(request, "get-default-rich-menu", get_default, None, body=False)

    # The common path: auth, body, spec, LINE's rules, retry keys, planned failures

    async def _handle(
        self,
        request: web.Request,
        operation: str,
        effect: Callable[[Call], Any],
        rules: Callable[[Any], list[str]] | None,
        *,
        body: bool = True,
        keyed: bool = False,
    ) -> web.Response:
        raw = await request.read()
        call = Call(operation, request.path, dict(request.headers), raw)
        self.calls.append(call)
        response = await self._answer(request, call, effect, rules, body, keyed)
        call.status = response.status
        return response

    async def _answer(
        self,
        request: web.Request,
        call: Call,
        effect: Callable[[Call], Any],
        rules: Callable[[Any], list[str]] | None,
        body: bool,
        keyed: bool,
    ) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _error(401, "Authentication failed. Confirm that the access token is valid.")
        if body:
            if request.content_type != "application/json":
                return _error(415, "Content-Type must be application/json")
            try:
                call.body = json.loads(call.body)
            except ValueError:
                return _error(400, "The request body is not valid JSON")
            call.problems = self._schema_problems(request, call.body)
            call.problems += rules(call.body) if rules else []
            if call.problems:
                return _error(400, "The request body has errors", call.problems)
        key = request.headers.get("X-Line-Retry-Key")
        if keyed and key is not None:
            if not UUID.match(key):
                return _error(400, "The retry key must be a UUID")
            if key in self.accepted_keys:
                return web.json_response(
                    {"message": "The retry key is already accepted"},
                    status=409,
                    headers={"x-line-accepted-request-id": self.accepted_keys[key]},
                )
        planned = self.failures[call.operation]
        if planned:
            failure = planned.popleft()
            if failure.accept:
                await effect(call)
            return _error(failure.status, "planned failure", headers=failure.headers)
        return await effect(call)

    def _schema_problems(self, request: web.Request, body: Any) -> list[str]:
        if self.spec is None:
            return []
        schema = self.spec.request_schema(request.method, request.path)
        return self.spec.errors(body, schema) if schema else []

    def _accept(self, call: Call, payload: dict[str, Any]) -> web.Response:
        call.accepted = True
        request_id = str(uuid.uuid4())
        key = call.headers.get("X-Line-Retry-Key")
        if key:
            self.accepted_keys[key] = request_id
        if self.on_accepted is not None:
            self.on_accepted(call)
        return web.json_response(payload, headers={"x-line-request-id": request_id})

    def _sent(self, call: Call) -> list[dict[str, str]]:
        return [{"id": str(next(self._ids)), "quoteToken": "q"} for _ in call.body["messages"]]


def message_problems_of(body: Any) -> list[str]:
    """A reply body's message problems."""
    return message_problems(body.get("messages"))


def push_problems(body: Any) -> list[str]:
    """A push body: a user, group or room id, and valid messages."""
    problems = message_problems(body.get("messages"))
    if not re.fullmatch(r"[UCR][0-9a-f]{32}", str(body.get("to"))):
        problems.append("to: not a LINE user, group or room id")
    return problems


def multicast_problems(body: Any) -> list[str]:
    """A multicast body: 1-500 user ids, and valid messages."""
    problems = message_problems(body.get("messages"))
    to = body.get("to") or []
    if not 1 <= len(to) <= 500 or not all(USER_ID.match(str(u)) for u in to):
        problems.append("to: 1-500 user ids required")
    return problems


def _error(
    status: int,
    message: str,
    details: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = [{"message": d} for d in details]
    return web.json_response(body, status=status, headers=headers)


# The platform's other side: signed webhooks, as LINE sends them


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature: base64 of HMAC-SHA256 of the body with the channel secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Webhooks:
    """Sends webhook events to the bot like LINE does; each body is checked against webhook.yml."""

    def __init__(
        self,
        bot_url: str,
        fake: FakeLine,
        clock: Callable[[], datetime],
        secret: str = CHANNEL_SECRET,
    ) -> None:
        """Post to `bot_url`/webhooks/line, issuing reply tokens from `fake`."""
        self.url = bot_url.rstrip("/") + "/webhooks/line"
        self.fake = fake
        self.clock = clock
        self.secret = secret
        self.spec = load("webhook.yml")
        self.session: aiohttp.ClientSession | None = None

    def event(
        self,
        user: str,
        kind: str,
        *,
        redelivery: bool = False,
        age: float = 0.0,
        event_id: str | None = None,
        source: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """One event from `user` (a LINE user id); `age` seconds old."""
        event: dict[str, Any] = {
            "type": kind,
            "mode": "active",
            "timestamp": int((self.clock().timestamp() - age) * 1000),
            "source": source or {"type": "user", "userId": user},
            "webhookEventId": event_id or _ulid(),
            "deliveryContext": {"isRedelivery": redelivery},
            **fields,
        }
        if kind in ("message", "postback", "follow"):
            event["replyToken"] = self.fake.issue_reply_token(user)
        return event

    def text(self, user: str, text: str, **options: Any) -> dict[str, Any]:
        """A text message event."""
        message = {"id": _digits(), "type": "text", "text": text, "quoteToken": "q"}
        return self.event(user, "message", message=message, **options)

    def postback(self, user: str, data: str, **options: Any) -> dict[str, Any]:
        """A postback event (a tapped button)."""
        return self.event(user, "postback", postback={"data": data}, **options)

    def follow(self, user: str, **options: Any) -> dict[str, Any]:
        """The user added the bot as a friend."""
        return self.event(user, "follow", follow={"isUnblocked": False}, **options)

    def unfollow(self, user: str, **options: Any) -> dict[str, Any]:
        """The user blocked the bot."""
        return self.event(user, "unfollow", **options)

    def body(self, events: list[dict[str, Any]]) -> bytes:
        """A webhook body, checked against webhook.yml."""
        payload = {"destination": BOT_ID, "events": events}
        problems = self.spec.errors(payload, "CallbackRequest")
        assert problems == [], problems
        return json.dumps(payload, ensure_ascii=False).encode()

    async def post_raw(self, body: bytes, *, signature: str | None = None) -> int:
        """POST a body (signed with the channel secret unless a signature is given)."""
        if self.session is None:
            self.session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        headers["X-Line-Signature"] = sign(self.secret, body) if signature is None else signature
        if signature == "":
            del headers["X-Line-Signature"]
        async with self.session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def post(self, *events: dict[str, Any]) -> int:
        """POST events in one signed webhook body; return the HTTP status."""
        return await self.post_raw(self.body(list(events)))

    async def close(self) -> None:
        """Close the HTTP session."""
        if self.session is not None:
            await self.session.close()


def _ulid() -> str:
    """A webhookEventId-like id (LINE uses ULIDs: 26 characters of Crockford base32)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(alphabet[b % 32] for b in uuid.uuid4().bytes + uuid.uuid4().bytes[:10])


def _digits() -> str:
    return str(uuid.uuid4().int)[:18]


# The bot under test, in-process, wired to the fake


@dataclass
class LineBot:
    """A running bot with its LINE channel, the fake API, and a webhook sender."""

    fake: FakeLine
    server: Server
    channel: LineChannel
    webhooks: Webhooks
    settings: Settings


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def line_bot(
    settings: Settings, dispatcher: Dispatcher, clock: Callable[[], datetime]
) -> AsyncIterator[LineBot]:
    """Run the product (Server + LineChannel) against a fresh fake LINE API."""
    fake = FakeLine()
    base = await fake.start()
    settings = dataclasses.replace(
        settings,
        line_channel_secret=CHANNEL_SECRET,
        line_access_token=ACCESS_TOKEN,
        line_api_base=base,
    )
    sessions = dispatcher.sessions
    runtime = Runtime(settings, sessions.kw["bind"], sessions, dispatcher)
    channel = LineChannel(settings, clock=clock)
    server = Server(runtime, [channel])  # type: ignore[list-item]
    server.worker.clock = server.inbox.clock = clock  # retries follow the test's clock
    port = free_port()
    await server.start("127.0.0.1", port)
    webhooks = Webhooks(f"http://127.0.0.1:{port}", fake, clock)
    try:
        yield LineBot(fake, server, channel, webhooks, settings)
    finally:
        await webhooks.close()
        await server.stop()
        await fake.close()

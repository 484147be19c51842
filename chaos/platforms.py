"""Fake Telegram and LINE that fail on purpose, what they delivered, and the updates users send.

The fakes are the test suite's (tests/fake_telegram.py, tests/fake_line.py) with a fault injector
in front: a share of calls is answered 429 (with a retry time), 5xx, a connection reset or a
hang longer than the bot's client timeout; in the `-accepted` variants the platform carries the
call out first and only the answer is lost, which is what makes a retry a possible duplicate.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fake_line import ACCESS_TOKEN, CHANNEL_SECRET, FakeLine
from tests.fake_line import Call as LineCall
from tests.fake_telegram import BUILTIN, TOKEN, ApiError, Contract, FakeTelegram, Shown

TELEGRAM_SECRET = "chaos-webhook-secret"
LINE_BOT_ID = "U" + "c4a05" * 6 + "ab"
FAULT_KINDS = ("429", "5xx", "reset", "reset-accepted", "timeout", "timeout-accepted")
TELEGRAM_HANG = 6.5  # the bot's Bot API read timeout is 5 s
LINE_HANG = 11.0  # the bot's Messaging API timeout is 10 s
TELEGRAM_SENDS = ("sendMessage", "sendDocument", "sendPhoto")


class Faults:
    """Picks which platform calls fail and how (seeded, so a run can be repeated)."""

    def __init__(self, rate: float = 0.0, *, seed: int = 10, hang: float = 6.0) -> None:
        """Fail `rate` of the calls, spread evenly over FAULT_KINDS."""
        self.rate = rate
        self.hang = hang
        self.random = random.Random(seed)
        self.calls = 0
        self.injected: Counter[str] = Counter()
        self.lost_answers: Counter[str] = Counter()  # accepted calls whose answer was lost

    def pick(self) -> str | None:
        """The fault for the next call, or None to answer it normally."""
        self.calls += 1
        if self.rate <= 0 or self.random.random() >= self.rate:
            return None
        kind = self.random.choice(FAULT_KINDS)
        self.injected[kind] += 1
        return kind

    def summary(self) -> str:
        """What was injected, for the table."""
        total = sum(self.injected.values())
        if not total:
            return "none"
        kinds = ", ".join(f"{self.injected[k]} {k}" for k in FAULT_KINDS if self.injected[k])
        return f"{total} of {self.calls} API calls ({kinds})"


async def misbehave(
    request: web.Request,
    kind: str,
    hang: float,
    refuse: Callable[[str], web.Response],
    carry_out: Callable[[], Awaitable[web.Response]],
) -> tuple[web.Response, bool]:
    """Answer with a fault; returns the response and whether the call was carried out."""
    if kind in ("429", "5xx"):
        return refuse(kind), False
    done = False
    if kind.endswith("-accepted"):
        done = (await carry_out()).status == 200
    if kind.startswith("timeout"):
        await asyncio.sleep(hang)
    if request.transport is not None:
        request.transport.abort()  # the client sees a reset (or has timed out already)
    return web.Response(status=504), done


@dataclass
class Delivered:
    """One message the platform accepted for a chat: what identifies it, and its buttons."""

    key: str  # exact content: the same twice in a chat is a duplicate
    shape: str  # content with row ids and attachments left out, to compare separate runs
    payloads: list[str]
    content: Any = None  # what was shown, to explain a difference
    at: float = field(default_factory=time.monotonic)


class Deliveries:
    """Everything the fakes accepted, per chat, with a wake-up for whoever waits on a chat."""

    def __init__(self) -> None:
        """Start empty."""
        self.by_chat: dict[str, list[Delivered]] = defaultdict(list)
        self._events: dict[str, asyncio.Event] = {}

    def add(self, chat: str, delivered: Delivered) -> None:
        """Record a delivery and wake the chat's waiter."""
        self.by_chat[chat].append(delivered)
        event = self._events.get(chat)
        if event is not None:
            event.set()

    def count(self, chat: str) -> int:
        """How many deliveries a chat has had."""
        return len(self.by_chat.get(chat, ()))

    async def wait(
        self, chat: str, since: int, want: tuple[str, ...], within: float
    ) -> list[Delivered] | None:
        """Deliveries after `since` once one offers a wanted payload (any, if none wanted)."""
        deadline = time.monotonic() + within
        event = self._events.setdefault(chat, asyncio.Event())
        while True:
            fresh = self.by_chat.get(chat, [])[since:]
            if fresh and (not want or any(offers(d, want) for d in fresh)):
                return fresh
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), timeout=left)
            except TimeoutError:
                pass


def matches(payload: str, want: str) -> bool:
    """A wanted payload: exact, or a prefix when it ends with ':'."""
    return payload == want or (want.endswith(":") and payload.startswith(want))


def offers(delivered: Delivered, want: tuple[str, ...]) -> bool:
    """Whether a delivery shows a button with one of the wanted payloads."""
    return any(matches(p, w) for p in delivered.payloads for w in want)


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# A recovery code shown at linking: random, so it differs between runs.
RECOVERY_CODE = re.compile(r"\b" + "-".join(["[0-9A-HJKMNP-TV-Z]{4}"] * 3) + r"\b")


def _without_ids(value: Any) -> Any:
    """Button data with numbers masked (booking ids differ between runs), recovery codes too."""
    if isinstance(value, str):
        return RECOVERY_CODE.sub("####-####-####", value)
    if isinstance(value, dict):
        return {
            k: re.sub(r"\d+", "#", v) if k == "data" and isinstance(v, str) else _without_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_without_ids(v) for v in value]
    return value


class ChaosTelegram(FakeTelegram):
    """The fake Bot API with faults; every message shown is recorded per chat."""

    def __init__(self, faults: Faults, deliveries: Deliveries) -> None:
        """Check calls against the built-in contract (light), fail some, record deliveries."""
        super().__init__(TOKEN, contract=Contract(BUILTIN, from_file=False))
        self.faults = faults
        self.deliveries = deliveries
        self.on_shown = self._record

    def _record(self, shown: Shown) -> None:
        # Telegram has no idempotency key: a message is known by its chat and content (an edit
        # also by the message it changes); the journeys never show the same content twice.
        identity = [shown.kind, shown.text, shown.rows]
        if shown.kind == "edit":
            identity.append(shown.message_id)
        rows = [[{"text": t, "data": d} for t, d in row] for row in shown.rows]
        shape = _digest([shown.kind, _without_ids(shown.text), _without_ids(rows)])
        if shown.file is not None:
            identity.append([shown.file.filename, hashlib.sha256(shown.file.content).hexdigest()])
        self.deliveries.add(
            str(shown.chat_id), Delivered(_digest(identity), shape, shown.payloads, identity)
        )

    async def _handle(self, request: web.Request) -> web.Response:
        kind = self.faults.pick()
        method = request.match_info.get("method", "")
        if kind is None:
            response = await super()._handle(request)
            if response.status == 200 and (
                request.transport is None or request.transport.is_closing()
            ):  # the bot gave up waiting (or died) before the answer: it will not know
                self.faults.lost_answers[method] += 1
            return response

        def refuse(kind: str) -> web.Response:
            if kind == "429":
                return self._error(
                    ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
                )
            return self._error(ApiError(502, "Bad Gateway"))

        response, done = await misbehave(
            request,
            kind,
            self.faults.hang,
            refuse,
            lambda: super(ChaosTelegram, self)._handle(request),
        )
        if done:
            self.faults.lost_answers[method] += 1
        return response

    # Updates as users cause them ---------------------------------------------------------

    def blind_press(self, user_id: int, data: str) -> dict[str, Any]:
        """A button press without the message it was on (a load that does not read replies)."""
        self.user(user_id)
        query_id = f"q{next(self._query_ids)}"
        self.queries[query_id] = 0
        query = {
            "id": query_id,
            "from": self.chats[user_id].user,
            "chat_instance": f"ci{user_id}",
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}


def line_payloads(messages: list[dict[str, Any]]) -> list[str]:
    """Every postback payload in LINE messages (quick replies and Flex buttons)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "postback" and isinstance(node.get("data"), str):
                found.append(node["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(messages)
    return found


class ChaosLine(FakeLine):
    """The fake Messaging API with faults; every reply and push accepted is recorded per user."""

    def __init__(self, faults: Faults, deliveries: Deliveries) -> None:
        """Skip the OpenAPI body checks (the LINE tests do them), fail some calls, record."""
        super().__init__(access_token=ACCESS_TOKEN, validate=False)
        self.faults = faults
        self.deliveries = deliveries
        self.on_accepted = self._record
        self.accepted_at: dict[int, float] = {}  # id(call) -> time.time() it was carried out
        self.answers_lost: set[int] = set()  # id(call) of calls carried out, answer lost

    def _record(self, call: LineCall) -> None:
        self.accepted_at[id(call)] = time.time()
        if call.operation not in ("reply", "push") or not call.to:
            return
        messages = call.body.get("messages") or []
        delivered = Delivered(
            _digest(messages), _digest(_without_ids(messages)), line_payloads(messages), messages
        )
        self.deliveries.add(call.to, delivered)

    async def _handle(
        self,
        request: web.Request,
        operation: str,
        effect: Callable[[LineCall], Any],
        rules: Callable[[Any], list[str]] | None,
        *,
        body: bool = True,
        keyed: bool = False,
    ) -> web.Response:
        # FakeLine._handle, keeping hold of the call to mark what became of its answer.
        call = LineCall(operation, request.path, dict(request.headers), b"")
        self.calls.append(call)

        async def carry_out() -> web.Response:
            call.body = await request.read()
            answer = await self._answer(request, call, effect, rules, body, keyed)
            call.status = answer.status
            return answer

        def refuse(kind: str) -> web.Response:
            status, headers = (429, {"Retry-After": "1"}) if kind == "429" else (500, {})
            call.status = status
            return web.json_response({"message": "chaos"}, status=status, headers=headers)

        kind = self.faults.pick()
        if kind is None:
            response = await carry_out()
            lost = request.transport is None or request.transport.is_closing()
        else:
            response, lost = await misbehave(request, kind, self.faults.hang, refuse, carry_out)
        if lost and call.accepted:  # LINE took it; the bot never heard (or gave up waiting)
            self.faults.lost_answers[operation] += 1
            self.answers_lost.add(id(call))
        return response


# What users send ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    """One webhook request as the platform would send it (and send again until answered 200)."""

    channel: str
    chat: str
    event_id: str
    body: bytes
    headers: dict[str, str]


def telegram_update(update: dict[str, Any], chat: int) -> Update:
    """A Telegram update as a webhook request."""
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    body = json.dumps(update, ensure_ascii=False).encode()
    return Update("telegram", str(chat), str(update["update_id"]), body, headers)


def line_event(
    fake: FakeLine,
    user: str,
    kind: str,
    value: str = "",
    *,
    serial: int,
    tokens: dict[str, str],
) -> dict[str, Any]:
    """A LINE webhook event (follow, text or postback) with a fresh reply token."""
    event_id = f"01CHAOS{serial:019d}"
    token = fake.issue_reply_token(user)
    tokens[token] = event_id
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": token,
    }
    if kind == "message":
        event["message"] = {"id": str(serial), "type": "text", "text": value, "quoteToken": "q"}
    elif kind == "postback":
        event["postback"] = {"data": value}
    elif kind == "follow":
        event["follow"] = {"isUnblocked": False}
    return event


def line_update(event: dict[str, Any]) -> Update:
    """One LINE event as a signed webhook request."""
    body = json.dumps({"destination": LINE_BOT_ID, "events": [event]}).encode()
    digest = hmac.new(CHANNEL_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Line-Signature": base64.b64encode(digest).decode(),
    }
    user = event["source"]["userId"]
    return Update("line", user, event["webhookEventId"], body, headers)


def redelivered(update: Update) -> Update:
    """The same event again, as the platform redelivers it (LINE marks it as a redelivery)."""
    if update.channel != "line":
        return update
    payload = json.loads(update.body)
    for event in payload["events"]:
        event["deliveryContext"] = {"isRedelivery": True}
    return line_update(payload["events"][0])


@dataclass
class Posting:
    """How webhook posts went: answers by status, connection errors."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    acked: set[tuple[str, str]] = field(default_factory=set)

    @property
    def server_errors(self) -> int:
        """Answers of 500 and above."""
        return sum(n for status, n in self.statuses.items() if status >= 500)


class Poster:
    """Posts updates to the bot like a platform: again after a non-200 or a broken connection."""

    def __init__(self, base_url: str, *, retry_pause: float = 0.3) -> None:
        """Post to `base_url`/webhooks/<channel>."""
        self.base_url = base_url.rstrip("/")
        self.retry_pause = retry_pause
        self.posting = Posting()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Poster:
        """Open the HTTP session."""
        connector = aiohttp.TCPConnector(limit=200, force_close=False)
        self._session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def post_once(self, update: Update) -> int | None:
        """One attempt; the status, or None when the connection failed."""
        assert self._session is not None
        url = f"{self.base_url}/webhooks/{update.channel}"
        try:
            async with self._session.post(
                url,
                data=update.body,
                headers=update.headers,
                timeout=aiohttp.ClientTimeout(total=30),
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            self.posting.errors += 1
            return None
        self.posting.statuses[status] += 1
        return status

    async def deliver(self, update: Update, *, give_up_after: float = 600.0) -> bool:
        """Post until the bot answers 200 (True); a 4xx is final (False)."""
        deadline = time.monotonic() + give_up_after
        while True:
            status = await self.post_once(update)
            if status == 200:
                self.posting.acked.add((update.channel, update.event_id))
                return True
            if status is not None and 400 <= status < 500:
                return False
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(self.retry_pause)

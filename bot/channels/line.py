"""The LINE channel: signed webhooks stored before the 200, answered by reply token or push.

Flow: verify `X-Line-Signature` with the SDK's WebhookParser on the raw body, store each event
under its `webhookEventId` (a redelivery is then a duplicate and drops), answer 200, look up the
language of users not seen yet, and hand the events to the inbox. Replies come back through the
outbox as a Delivery: a fresh reply token is used once, anything else is pushed with the outbox
row's retry key, so a retried push that LINE had accepted answers 409 instead of repeating.
Images (charts) are stored as media and sent by their URL under EAP_PUBLIC_URL, which LINE
fetches from GET /media/{token}; other files cannot be sent by a LINE bot and are left out.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Coroutine
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import (
    Event,
    EventMode,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import AlreadyDelivered, Delivery, SendError
from bot.channels.line_render import is_image, to_requests
from bot.clock import utcnow
from bot.settings import Settings
from handlers.types import Inbound, Reply
from storage import media, members
from storage.db import unit_of_work

CHANNEL = "line"
WEBHOOK_PATH = "/webhooks/line"
DEFAULT_API_BASE = "https://api.line.me"
MAX_BODY = 1024 * 1024
BODY_SECONDS = 10.0  # a sender slower than this is cut off (slow-body attacks hold a socket)
# Events older than this are refused even when signed: a captured body replayed later must
# not run again once retention has purged its id. LINE redelivers a failed webhook for a
# limited time, well inside a day; processed ids are kept for EAP_RETENTION_EVENTS_DAYS (at
# least 2 days, checked in settings), so an id outlives this bound.
MAX_EVENT_AGE_SECONDS = 24 * 3600
REPLY_TOKEN_TTL = 50.0  # seconds: LINE honours a reply token for about a minute
API_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)
PROFILE_TIMEOUT = aiohttp.ClientTimeout(total=2, connect=1)
LOOKUP_WAIT = 2.5  # seconds events wait for a new user's language before being processed
POOL_SIZE = 64  # the SDK's default is 5 per CPU core
KNOWN_USERS = 50_000  # languages remembered per process
ANSWERED = frozenset({"message", "postback", "follow"})

log = logging.getLogger(__name__)
# The SDK logs response bodies at DEBUG, and profile look-ups answer with display names.
logging.getLogger("linebot.v3.messaging.async_rest").setLevel(logging.INFO)


class LineChannel:
    """LINE Messaging API channel (line-bot-sdk v3, asyncio)."""

    channel = CHANNEL

    def __init__(self, settings: Settings, *, clock: Any = utcnow) -> None:
        """Keep the credentials; the HTTP client is made in start(), inside the running loop."""
        self.settings = settings
        self.clock = clock
        self.parser = WebhookParser(settings.line_channel_secret)
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None
        self._stopped = False
        self._inbox: Any = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._languages: OrderedDict[str, str] = OrderedDict()
        self._lookups: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, asyncio.Task[None]] = {}  # user -> their events awaiting a look-up
        self._status_lock = asyncio.Lock()
        self._warned_no_media = False
        # Outbox retry keys whose reply may have reached LINE without us hearing back.
        self._replies_unsure: OrderedDict[str, None] = OrderedDict()

    # Lifecycle

    def add_routes(self, app: web.Application, inbox: Any) -> None:
        """Serve POST /webhooks/line, storing events through the inbox."""
        self._inbox = inbox
        self._sessions = inbox.sessions
        app.router.add_post(WEBHOOK_PATH, self.webhook)

    async def start(self) -> None:
        """Create the API client (one connection pool for the process)."""
        self._stopped = False
        self.api()

    async def settle(self) -> None:
        """Wait for background look-ups and follow/unfollow records (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Finish look-ups and turns under way, then close the connection pool."""
        await self.settle()
        if self._inbox is not None:
            await self._inbox.drain()  # turns under way still answer through this client
        self._stopped = True
        if self._client is not None:
            await self._client.close()
        self._client = self._api = None

    def api(self) -> AsyncMessagingApi:
        """The Messaging API client, created on first use if start() has not run yet."""
        if self._stopped:
            raise SendError("LINE channel stopped")
        if self._api is None:
            base = self.settings.line_api_base.rstrip("/")
            # A host on the configuration overrides every operation's own host, including
            # api-data.line.me, so EAP_LINE_API_BASE redirects every call; LINE's default
            # keeps the SDK's per-operation hosts.
            config = Configuration(
                access_token=self.settings.line_access_token,
                host=None if base == DEFAULT_API_BASE else base,
            )
            config.connection_pool_maxsize = POOL_SIZE
            self._client = AsyncApiClient(config)
            self._api = AsyncMessagingApi(self._client)
        return self._api

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Receiving

    async def webhook(self, request: web.Request) -> web.Response:
        """Verify the signature, store the events, answer 200, and process them after."""
        try:
            async with asyncio.timeout(BODY_SECONDS):
                raw = await _read_capped(request, MAX_BODY)
        except TimeoutError:
            log.warning("LINE webhook body too slow; cut off")
            return web.Response(status=408, text="body too slow")
        if raw is None:
            return web.Response(status=413, text="body too large")
        signature = request.headers.get("X-Line-Signature", "")
        if not signature:
            return web.Response(status=400, text="missing X-Line-Signature")
        try:
            body = raw.decode("utf-8")
            self.parser.parse(body, signature)
        except InvalidSignatureError:
            log.warning("LINE webhook with a bad signature rejected")
            return web.Response(status=401, text="bad signature")
        except Exception:  # signed but not a webhook body: nothing LINE would send
            return web.Response(status=400, text="malformed body")
        events = [e for e in json.loads(body)["events"] if isinstance(e, dict)]
        fresh_enough = [e for e in events if self._recent(e)]
        if len(fresh_enough) < len(events):
            log.warning(
                "stale LINE events refused", extra={"events": len(events) - len(fresh_enough)}
            )
        events = fresh_enough
        if events:
            try:
                fresh = await self._inbox.accept(CHANNEL, [(_event_id(e), e) for e in events])
            except Exception:  # not stored: a non-2xx makes LINE deliver them again
                log.exception("LINE events not stored", extra={"events": len(events)})
                return web.Response(status=503, text="try again")
            self._process_later(fresh, events)
        return web.Response(text="OK")

    def _recent(self, event: dict[str, Any]) -> bool:
        """Whether a signed event is young enough to be a delivery, not a replay."""
        timestamp = event.get("timestamp")
        if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
            return False
        return self.clock().timestamp() - timestamp / 1000 <= MAX_EVENT_AGE_SECONDS

    def _process_later(self, fresh: list[str], events: list[dict[str, Any]]) -> None:
        """Schedule new events, after a language look-up for users not seen yet.

        A user's events still waiting for that look-up go first: a later event must not
        overtake them (a tap on the consent button before the follow event, say).
        """
        wanted = set(fresh)
        users = {u for u in (_user_id(e) for e in events if _event_id(e) in wanted) if u}
        unknown = [u for u in users if u not in self._languages]
        earlier = {self._held[u] for u in users if u in self._held}
        if not unknown and not earlier:
            self._inbox.schedule(CHANNEL, fresh)
            return
        task = self._track(self._schedule_after_lookup(fresh, unknown, earlier))
        for user in users:
            self._held[user] = task
        task.add_done_callback(lambda done: self._release(users, done))

    def _release(self, users: set[str], done: asyncio.Task[None]) -> None:
        for user in users:
            if self._held.get(user) is done:
                del self._held[user]

    async def _schedule_after_lookup(
        self, fresh: list[str], users: list[str], earlier: set[asyncio.Task[None]]
    ) -> None:
        if earlier:  # each waits for at most one look-up, so these end soon
            await asyncio.wait(earlier)
        if users:
            await asyncio.wait([self._lookup(user) for user in users], timeout=LOOKUP_WAIT)
        self._inbox.schedule(CHANNEL, fresh)

    def _lookup(self, user_id: str) -> asyncio.Task[None]:
        """One profile request per unknown user, shared by every batch waiting on it."""
        task = self._lookups.get(user_id)
        if task is None:
            task = self._track(self._fetch_language(user_id))
            self._lookups[user_id] = task
            task.add_done_callback(lambda _: self._lookups.pop(user_id, None))
        return task

    async def _fetch_language(self, user_id: str) -> None:
        """Remember the language set in the user's LINE app (only that, nothing else)."""
        language = ""
        try:
            profile = await self.api().get_profile(user_id, _request_timeout=PROFILE_TIMEOUT)
            language = profile.language or ""
        except ApiException as err:
            log.info("LINE profile look-up refused", extra={"status": err.status})
        except (aiohttp.ClientError, TimeoutError, SendError) as err:
            log.info("LINE profile look-up failed", extra={"error": type(err).__name__})
        self._languages[user_id] = language
        self._languages.move_to_end(user_id)
        while len(self._languages) > KNOWN_USERS:
            self._languages.popitem(last=False)

    def to_inbound(self, payload: dict[str, Any]) -> tuple[Inbound | None, dict[str, Any]]:
        """Turn a stored event into an Inbound; None for events nobody should be answered."""
        try:
            event = Event.from_dict(payload)
        except Exception:  # a type this SDK does not know yet: acknowledged and skipped
            log.info("LINE event of an unknown type skipped", extra={"type": _kind(payload)})
            return None, {}
        user_id = _user_of(event)
        if user_id is None or event.mode == EventMode.STANDBY:  # standby: another module answers
            return None, {}
        if isinstance(event, UnfollowEvent):
            self._set_messaging(user_id, stopped_at=self.clock())
            return None, {}
        what = _what(event)
        if what is None:
            return None, {}
        if isinstance(event, FollowEvent):
            self._set_messaging(user_id, stopped_at=None)
        context = {
            "reply_token": getattr(event, "reply_token", None),
            "timestamp": event.timestamp,
            "redelivery": bool(event.delivery_context and event.delivery_context.is_redelivery),
        }
        inbound = Inbound(
            CHANNEL,
            user_id,
            text=what[0],
            payload=what[1],
            language_code=self._languages.get(user_id) or None,
            event_id=payload.get("webhookEventId"),
        )
        return inbound, context

    def _set_messaging(self, user_id: str, *, stopped_at: datetime | None) -> None:
        """Stop messaging a user who blocked the bot (deleting nothing), resume on re-follow."""
        if self._sessions is not None:
            self._track(self._write_messaging(user_id, stopped_at))

    async def _write_messaging(self, user_id: str, stopped_at: datetime | None) -> None:
        assert self._sessions is not None
        async with self._status_lock:  # FIFO, so block then re-follow land in that order
            try:
                async with unit_of_work(self._sessions) as session:
                    await members.stop_messaging(session, CHANNEL, user_id, stopped_at)
            except Exception as err:  # the error's SQL parameters would name the user
                log.error("could not record a LINE follow or unfollow: %s", type(err).__name__)

    # Sending

    async def send(self, delivery: Delivery) -> None:
        """Reply while the event's token is fresh, else push with the outbox row's retry key."""
        image_urls = await self._image_urls(delivery.replies)
        requests = to_requests(delivery.locale, delivery.replies, image_urls)
        if not requests:
            return
        token = self._fresh_reply_token(delivery, len(requests))
        if token is not None and await self._reply(token, requests[0], delivery):
            return
        await self._push(delivery.recipient, requests, delivery.retry_key)

    async def _image_urls(self, replies: list[Reply]) -> dict[int, str]:
        """Store each reply's image for LINE to fetch; its public URL by reply index."""
        images = {i: r.attachment for i, r in enumerate(replies) if is_image(r.attachment)}
        if not images:
            return {}
        base = self.settings.public_url.rstrip("/")
        if not base or self._sessions is None:
            if not self._warned_no_media:
                log.warning("EAP_PUBLIC_URL is not set: LINE messages go without their images")
                self._warned_no_media = True
            return {}
        try:
            async with unit_of_work(self._sessions) as session:
                tokens = {
                    index: await media.store(
                        session, content=image.content, mime_type=image.mime_type, now=self.clock()
                    )
                    for index, image in images.items()
                    if image is not None
                }
        except (SQLAlchemyError, OSError) as err:
            raise SendError(f"media not stored: {type(err).__name__}") from None
        return {index: f"{base}/media/{token}" for index, token in tokens.items()}

    def _fresh_reply_token(self, delivery: Delivery, requests: int) -> str | None:
        """The reply token, if this is a single request soon after the event, tried first or
        again after a reply of ours whose outcome is unknown.

        A redelivered event's token may be stale, and more than one request needs pushes
        anyway. After any other failure the message is pushed under its retry key.
        """
        context = delivery.context
        token, timestamp = context.get("reply_token"), context.get("timestamp")
        if not token or context.get("redelivery") or requests > 1:
            return None
        if delivery.attempts and not self._reply_unsure(delivery):
            return None
        if not isinstance(timestamp, (int, float)):
            return None
        age = self.clock().timestamp() - timestamp / 1000
        return str(token) if age < REPLY_TOKEN_TTL else None

    def _reply_unsure(self, delivery: Delivery) -> bool:
        """Whether an earlier reply for this message may have reached LINE unanswered."""
        return delivery.maybe_sent or delivery.retry_key in self._replies_unsure

    async def _reply(self, token: str, messages: list[dict[str, Any]], delivery: Delivery) -> bool:
        """Reply; False when LINE refuses the token (expired or used), so the caller pushes.

        Replies carry no retry key, so a reply whose answer never came (a timeout, a reset)
        is retried with the same token while it is fresh: LINE takes a token once, so a
        refusal then means the earlier reply got through, and pushing would repeat it.
        """
        request = _build(ReplyMessageRequest, {"replyToken": token, "messages": messages})
        retry_key = delivery.retry_key
        tried_before = self._reply_unsure(delivery)
        self._replies_unsure.pop(retry_key, None)
        self._replies_unsure[retry_key] = None  # until LINE's answer says how it went
        while len(self._replies_unsure) > KNOWN_USERS:
            self._replies_unsure.popitem(last=False)
        error = await _call(self.api().reply_message(request, _request_timeout=API_TIMEOUT))
        refused = error is not None and error.status == 400
        if error is None or refused or not tried_before:  # else the earlier try stays unsure
            self._replies_unsure.pop(retry_key, None)
        if error is None:
            return True
        if refused and "reply token" in _line_message(error).lower():
            if tried_before:
                raise AlreadyDelivered()
            log.info("LINE refused the reply token; pushing instead")
            return False
        raise _send_error(error)

    async def _push(self, to: str, requests: list[list[dict[str, Any]]], retry_key: str) -> None:
        """Push each request under its own stable retry key; all 409 means sent before."""
        accepted_before = 0
        for index, messages in enumerate(requests):
            request = _build(PushMessageRequest, {"to": to, "messages": messages})
            call = self.api().push_message(
                request,
                x_line_retry_key=_retry_key(retry_key, index),
                _request_timeout=API_TIMEOUT,
            )
            error = await _call(call)
            if error is not None and error.status == 409:  # accepted on an earlier attempt
                accepted_before += 1
            elif error is not None:
                raise _send_error(error)
        if accepted_before == len(requests):
            raise AlreadyDelivered()


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None when it is longer than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _event_id(event: dict[str, Any]) -> str:
    """LINE's webhookEventId; a digest of the event for the (old) events without one."""
    event_id = event.get("webhookEventId")
    # LINE's ids are ULIDs; a NUL or a lone surrogate could not even be stored as text
    if isinstance(event_id, str) and event_id and event_id.isascii() and event_id.isprintable():
        return event_id[:100]
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _user_id(event: dict[str, Any]) -> str | None:
    """The user to answer, from a raw event: only one-to-one chats are answered."""
    source = event.get("source")
    if event.get("type") not in ANSWERED or not isinstance(source, dict):
        return None
    user_id = source.get("userId") if source.get("type") == "user" else None
    return user_id if _is_user_id(user_id) else None


def _user_of(event: Event) -> str | None:
    source = getattr(event, "source", None)
    user_id = source.user_id if isinstance(source, UserSource) else None
    return user_id if _is_user_id(user_id) else None


def _is_user_id(value: Any) -> bool:
    """Whether a value can be a LINE user id (which is "U" and 32 hex digits)."""
    # a signed body may still carry a lone surrogate or a NUL, which could not even be stored
    return (
        isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and value.isprintable()
    )


def _what(event: Event) -> tuple[str | None, str | None] | None:
    """(text, payload) of an event that gets an answer; media get a nudge to use buttons."""
    if isinstance(event, FollowEvent):
        return "/start", None
    if isinstance(event, PostbackEvent):
        return None, event.postback.data
    if isinstance(event, MessageEvent):
        message = event.message
        return (message.text if isinstance(message, TextMessageContent) else ""), None
    return None


def _kind(payload: dict[str, Any]) -> str:
    return str(payload.get("type"))[:32]


def _build(model: Any, data: dict[str, Any]) -> Any:
    """The SDK request model; a rendering bug is permanent (retrying sends the same)."""
    try:
        return model.from_dict(data)
    except ValidationError as err:  # log where, never what (it would include message text)
        log.error(
            "LINE request refused by the SDK", extra={"at": [e["loc"] for e in err.errors()]}
        )
        raise SendError("message invalid for LINE", permanent=True) from None


async def _call(call: Awaitable[Any]) -> ApiException | None:
    """Await an API call; return LINE's error for the caller to judge, raise on network errors."""
    try:
        await call
    except ApiException as err:
        return err
    except (aiohttp.ClientError, TimeoutError) as err:
        raise SendError(f"network: {type(err).__name__}") from None
    return None


def _line_message(error: ApiException) -> str:
    """LINE's error message (property names, never message content)."""
    try:
        return str(json.loads(error.body or b"{}").get("message", ""))[:120]
    except (ValueError, AttributeError):
        return ""


def _send_error(error: ApiException) -> SendError:
    """429, 5xx and 401 (credentials being fixed) are retried; other refusals are final."""
    status = error.status or 0
    reason = f"HTTP {status} {_line_message(error)}".strip()
    if status in (0, 401, 429) or status >= 500:
        return SendError(reason, retry_after=_retry_after(error))
    return SendError(reason, permanent=True)


def _retry_after(error: ApiException) -> float | None:
    value = (error.headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _retry_key(outbox_key: str, index: int) -> str:
    """The outbox row's retry key for its first request, and keys derived from it after."""
    try:
        root = uuid.UUID(outbox_key)
    except ValueError:
        root = uuid.uuid5(uuid.NAMESPACE_URL, outbox_key)
    return str(root if index == 0 else uuid.uuid5(root, str(index)))

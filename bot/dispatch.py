"""One turn: per-user lock, one session, identity and state, crisis screen, route, commit."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import Delivery
from bot.clock import utcnow
from bot.flood import FloodGuard, Verdict
from bot.i18n import pick_locale
from bot.logrefs import event_ref
from bot.settings import Settings
from handlers import crisis, router
from handlers.account import FORGOTTEN
from handlers.crisis_context import RecentTexts
from handlers.crisis_screen import NO_CRISIS
from handlers.crisis_screen import Verdict as Screened
from handlers.crisis_screen import screen as screen_text
from handlers.linking import FLOW as LINK_FLOW
from handlers.types import Inbound, Reply, State, Turn, to_payload
from storage import conversation, events, members, outbox
from storage import locks as storage_locks
from storage.db import unit_of_work
from storage.errors import DomainError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A turn's replies, stored in the outbox, ready to send."""

    outbox_id: int
    channel: str
    delivery: Delivery
    direct: bool


@dataclass(frozen=True)
class Outcome:
    """What to send back for a turn, and in which language."""

    replies: list[Reply]
    locale: str


class UserLocks:
    """One asyncio lock per chat so two updates of one chat never interleave."""

    def __init__(self) -> None:
        """Start with no locks; each is dropped once nobody holds or waits for it."""
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def get(self, channel: str, user_id: str) -> asyncio.Lock:
        """Return the lock of one chat."""
        key = (channel, user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock


def _remember_choices(state: State, replies: list[Reply]) -> None:
    """Keep the last choices shown, so free text can be answered with them again."""
    with_choices = [r for r in replies if r.choices]
    if with_choices and state.flow:
        state.data["_choices"] = to_payload([Reply("", choices=with_choices[-1].choices)])[
            "replies"
        ][0]["choices"]


def _chat_key(inbound: Inbound) -> str:
    """The key of a chat's recent texts."""
    return f"{inbound.channel}:{inbound.user_id}"


class Dispatcher:
    """Runs turns against the database and the handlers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Keep the session factory, settings and clock."""
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.locks = UserLocks()
        self.key = settings.require_pseudonym_key()
        self.flood = FloodGuard()
        self.recent = RecentTexts()  # the chat's last texts, for the crisis screen (memory only)

    async def handle(self, inbound: Inbound) -> Outcome:
        """Run one inbound through the crisis screen and the router in one transaction."""
        started = time.perf_counter()
        async with self.locks.get(inbound.channel, inbound.user_id):
            try:
                replies, locale, handler = await self._run(inbound)
            except DomainError as err:
                replies, locale, handler = [Reply(err.message_key, **err.params)], "", "refused"
            except Exception:  # a bug must not crash the bot or half-apply a turn
                log.exception(
                    "turn failed and was rolled back", extra={"event": event_ref(inbound.event_id)}
                )
                replies, locale, handler = [Reply("error-generic")], "", "failed"
        log.info(
            "turn handled",
            extra={
                "event": event_ref(inbound.event_id),
                "handler": handler,
                "replies": [r.key for r in replies],
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return Outcome(replies=replies, locale=locale or self.settings.default_locale)

    async def handle_event(
        self,
        channel: str,
        event_id: str,
        inbound: Inbound | None,
        context: dict[str, Any],
        *,
        hold: Callable[[], bool] | None = None,
    ) -> Answer | None:
        """Process a stored platform event once: the turn, its replies into the outbox, done.

        Returns the answer to send (None when there is nothing to send, the event was
        processed already, or `hold()` said, once the chat's lock was held, to leave it
        stored for now). When `direct` is set the answer is leased to the caller, who
        sends it at once; otherwise an earlier message to the chat is still waiting and the
        outbox worker delivers both in order.
        """
        async with self.locks.get(channel, inbound.user_id if inbound else event_id):
            if hold is not None and hold():
                return None
            async with unit_of_work(self.sessions) as session:
                if not await events.claim_and_finish(
                    session, channel=channel, event_id=event_id, now=self.clock()
                ):
                    return None
                if inbound is None:
                    return None
                return await self._answer(session, channel, event_id, inbound, context)

    async def _answer(
        self,
        session: AsyncSession,
        channel: str,
        event_id: str,
        inbound: Inbound,
        context: dict[str, Any],
    ) -> Answer | None:
        replies, locale, handler = await self._guarded(session, inbound)
        log.info("event handled", extra={"event": event_ref(event_id), "handler": handler})
        if not replies:
            return None
        now = self.clock()
        keys = {reply.key for reply in replies}
        # Sent at once unless an earlier message to this chat still waits (order is kept).
        direct = not await outbox.has_pending(session, channel=channel, recipient=inbound.user_id)
        message = await outbox.add_reply(
            session,
            channel=channel,
            recipient=inbound.user_id,
            locale=locale,
            payload={**to_payload(replies), "context": context},
            key=outbox.forget_key() if FORGOTTEN in keys else f"reply:{channel}:{event_id}",
            now=now,
            leased=direct,
        )
        delivery = Delivery(
            recipient=inbound.user_id,
            locale=locale,
            replies=replies,
            retry_key=message.retry_key,
            context=context,
        )
        return Answer(outbox_id=message.id, channel=channel, delivery=delivery, direct=direct)

    async def _guarded(
        self, session: AsyncSession, inbound: Inbound
    ) -> tuple[list[Reply], str, str]:
        """Run a turn in a savepoint, so a failing handler leaves nothing half-applied."""
        try:
            async with session.begin_nested():
                return await self._turn_in(session, inbound)
        except DomainError as err:
            return [Reply(err.message_key, **err.params)], self.settings.default_locale, "refused"
        except Exception:  # a bug must not crash the bot or lose the event
            log.exception(
                "turn failed and was rolled back", extra={"event": event_ref(inbound.event_id)}
            )
            return [Reply("error-generic")], self.settings.default_locale, "failed"

    async def _run(self, inbound: Inbound) -> tuple[list[Reply], str, str]:
        """The turn's transaction: commit on success, roll back on any error."""
        async with unit_of_work(self.sessions) as session:
            return await self._turn_in(session, inbound)

    async def _turn_in(
        self, session: AsyncSession, inbound: Inbound
    ) -> tuple[list[Reply], str, str]:
        """Crisis screen, then route; save the conversation state."""
        started = time.perf_counter()
        replies, locale, handler = await self._screen_and_route(session, inbound)
        metrics.HANDLER_SECONDS.labels(handler).observe(time.perf_counter() - started)
        return replies, locale, handler

    async def _screen_and_route(
        self, session: AsyncSession, inbound: Inbound
    ) -> tuple[list[Reply], str, str]:
        await storage_locks.lock_chat(session, inbound.channel, inbound.user_id)
        turn = await self._turn(session, inbound)
        screened = self.screen(inbound, turn)
        if screened.tier == "crisis":
            replies = await crisis.respond(turn, screened)
            handler = "crisis"
            metrics.CRISIS_SCREENS.inc()
        elif (verdict := self.flood.check(inbound.channel, inbound.user_id)) != Verdict.OK:
            metrics.FLOOD_LIMITED.inc()
            replies = [Reply("flood-slow-down")] if verdict == Verdict.WARN else []
            return replies, turn.locale, "flood"
        else:
            replies = await router.route(turn)
            handler = "router"
            if screened.tier == "concern":
                replies = await crisis.check_in(turn, screened, replies)
                metrics.CRISIS_CHECK_INS.inc()
        if any(reply.key == FORGOTTEN for reply in replies):
            self.recent.forget(_chat_key(inbound))
        _remember_choices(turn.state, replies)
        await conversation.save(
            session,
            inbound.channel,
            inbound.user_id,
            flow=turn.state.flow,
            step=turn.state.step,
            data=turn.state.data,
            now=turn.now,
            existed=turn.state_existed,
        )
        return replies, turn.locale, handler

    def screen(self, inbound: Inbound, turn: Turn) -> Screened:
        """The crisis screen's verdict on a text, read with the chat's last few worrying texts.

        Only texts that got a check-in (concern) are kept as context, so harmless chat never
        adds up to an alarm; texts typed while linking and commands are never kept.
        """
        if not inbound.text:
            return NO_CRISIS
        chat = _chat_key(inbound)
        verdict = screen_text(inbound.text, context=self.recent.recent(chat, turn.now))
        if verdict.tier == "crisis":
            self.recent.forget(chat)  # or every later message would repeat the verdict
        elif (
            verdict.tier == "concern"
            and turn.state.flow != LINK_FLOW
            and not inbound.text.startswith("/")
        ):
            self.recent.add(chat, inbound.text, turn.now)
        return verdict

    async def _turn(self, session: AsyncSession, inbound: Inbound) -> Turn:
        identity = await members.identify(session, inbound.channel, inbound.user_id)
        flow, step, data = await conversation.load(session, inbound.channel, inbound.user_id)
        known = identity.member or identity.counselor or identity.hr_user
        locale = (
            known.locale
            if known is not None
            else pick_locale(inbound.language_code, self.settings.default_locale)
        )
        return Turn(
            session=session,
            inbound=inbound,
            now=self.clock(),
            state=State(flow=flow, step=step, data=data),
            state_existed=bool(flow),
            locale=locale,
            pseudonym_key=self.key,
            member=identity.member,
            counselor=identity.counselor,
            hr_user=identity.hr_user,
        )

"""Crisis test helpers: the dispatcher wiring proposed for bot/dispatch.py, with a screen the
test sets, and small shortcuts to the demo's people, bookings and outbox.

`ScreenedDispatcher._screen_and_route` is `Dispatcher._screen_and_route` with the verdict
wiring the lead applies there: crisis -> crisis.respond(turn, verdict); concern -> the router,
then crisis.check_in(turn, verdict, replies). Until the rebuilt screen lands, tests choose each
text's verdict; every other text goes through today's screen (crisis, kind self).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import dispatch
from bot.flood import Verdict as Flood
from handlers import crisis, router
from handlers.crisis_screen import is_crisis
from handlers.types import Inbound, Reply, from_payload
from storage import conversation
from storage import locks as storage_locks
from storage.db import unit_of_work
from storage.models import Counselor, Organisation, OutboxMessage

CRISIS_ZH = "我想死"
CRISIS_EN = "I want to kill myself"


@dataclass(frozen=True)
class FakeVerdict:
    """A verdict of the rebuilt screen: tier and kind."""

    tier: str
    kind: str


class ScreenedDispatcher(dispatch.Dispatcher):
    """The dispatcher with the proposed verdict wiring and a screen chosen by the test."""

    def __init__(self, *args: Any, verdicts: dict[str, FakeVerdict], **kwargs: Any) -> None:
        """Texts in `verdicts` get that verdict; others today's screen (crisis or none)."""
        super().__init__(*args, **kwargs)
        self.verdicts = verdicts

    def screen(self, text: str) -> FakeVerdict:
        """The test's verdict of a text."""
        if text in self.verdicts:
            return self.verdicts[text]
        return FakeVerdict("crisis", "self") if is_crisis(text) else FakeVerdict("none", "none")

    async def _screen_and_route(
        self, session: AsyncSession, inbound: Inbound
    ) -> tuple[list[Reply], str, str]:
        await storage_locks.lock_chat(session, inbound.channel, inbound.user_id)
        turn = await self._turn(session, inbound)
        verdict = self.screen(inbound.text) if inbound.text else None
        if verdict is not None and verdict.tier == "crisis":
            replies, handler = await crisis.respond(turn, verdict), "crisis"
        elif (flood := self.flood.check(inbound.channel, inbound.user_id)) != Flood.OK:
            return (
                ([Reply("flood-slow-down")] if flood == Flood.WARN else []),
                turn.locale,
                "flood",
            )
        else:
            replies, handler = await router.route(turn), "router"
            if verdict is not None and verdict.tier == "concern":
                replies = await crisis.check_in(turn, verdict, replies)
        dispatch._remember_choices(turn.state, replies)
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


def calls(replies: list[Reply]) -> list[str]:
    """The numbers of the tap-to-call buttons shown."""
    return [c.payload[5:] for r in replies for c in r.choices if c.payload.startswith("call:")]


def payloads(replies: list[Reply]) -> list[str]:
    """Every button payload shown."""
    return [c.payload for r in replies for c in r.choices]


def shown_numbers(reply: Reply) -> list[str]:
    """The numbers listed in a reply's `lines` parameter."""
    return [p["number"] for key, p in reply.params["lines"] if "number" in p]


async def outbox_to(sessions: async_sessionmaker[AsyncSession], recipient: str) -> list[list]:
    """The replies queued for one chat, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        )
        return [from_payload(r.payload) for r in rows]


async def outbox_texts(sessions: async_sessionmaker[AsyncSession]) -> str:
    """Every queued payload as one string (to check what never appears in it)."""
    async with sessions() as session:
        return " ".join(str(r.payload) for r in await session.scalars(select(OutboxMessage)))


async def set_org(sessions: async_sessionmaker[AsyncSession], **values: Any) -> None:
    """Change the demo organisation's settings."""
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Organisation).where(Organisation.code == "DEMO").values(**values)
        )


async def counselor_named(sessions: async_sessionmaker[AsyncSession], name: str) -> Counselor:
    """A demo counselor by display name."""
    async with sessions() as session:
        found = await session.scalar(select(Counselor).where(Counselor.display_name == name))
        assert found is not None
        return found


Screen = Callable[[str], FakeVerdict]

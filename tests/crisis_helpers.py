"""Crisis test helpers: the dispatcher with a screen the test sets for chosen texts, and small
shortcuts to the demo's people, bookings and outbox.

`ScreenedDispatcher` is the real dispatcher (crisis -> crisis.respond, concern -> the router then
crisis.check_in); only the verdicts of the texts a test names are chosen by the test, so a test
of the conversation does not depend on how the model reads its example sentences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import dispatch
from handlers.types import Inbound, Reply, Turn, from_payload
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

    def screen(self, inbound: Inbound, turn: Turn) -> FakeVerdict:
        """The test's verdict of a text; other texts go through the real screen."""
        if inbound.text in self.verdicts:
            return self.verdicts[inbound.text]
        return super().screen(inbound, turn)


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

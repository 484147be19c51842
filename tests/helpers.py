"""Test helpers: a movable clock, a dialog driver, and demo-like fixtures in the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dispatch import Dispatcher
from handlers.types import Inbound, Reply

TAIPEI = ZoneInfo("Asia/Taipei")


def local_date(moment: datetime) -> date:
    """The date in Taipei (the demo organisation's zone) of an aware moment."""
    return moment.astimezone(TAIPEI).date()


def in_this_plan_year(moment: datetime, now: datetime) -> bool:
    """Whether `moment` falls in the demo's plan year (from 1 January, Taipei) of `now`."""
    return local_date(moment).year == local_date(now).year


class Clock:
    """A frozen clock that tests move by hand."""

    def __init__(self, now: datetime) -> None:
        """Start at `now`."""
        self.now = now

    def __call__(self) -> datetime:
        """Return the current frozen time."""
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


class Chat:
    """Drives a dialog like a person would: typing text and tapping choices by label."""

    def __init__(self, dispatcher: Dispatcher, user: str, channel: str = "test") -> None:
        """Chat as `user` on `channel`."""
        self.dispatcher = dispatcher
        self.user = user
        self.channel = channel
        self.replies: list[Reply] = []
        self.locale = ""

    async def _run(self, inbound: Inbound) -> list[Reply]:
        outcome = await self.dispatcher.handle(inbound)
        self.replies, self.locale = outcome.replies, outcome.locale
        return self.replies

    async def say(self, text: str, language_code: str | None = None) -> list[Reply]:
        """Type a message."""
        return await self._run(
            Inbound(self.channel, self.user, text=text, language_code=language_code)
        )

    async def tap(self, payload: str) -> list[Reply]:
        """Press a button with this payload (even one not on screen, like a stale button)."""
        return await self._run(Inbound(self.channel, self.user, payload=payload))

    def payload_of(self, label: str, index: int = 0) -> str:
        """The payload of the index-th shown choice with this label key."""
        matches = [c.payload for r in self.replies for c in r.choices if c.label == label]
        assert matches, f"no choice {label!r} in {self.replies!r}"
        return matches[index]

    async def choose(self, label: str, index: int = 0) -> list[Reply]:
        """Press the shown choice with this label key."""
        return await self.tap(self.payload_of(label, index))

    @property
    def keys(self) -> list[str]:
        """The message keys of the last replies."""
        return [r.key for r in self.replies]


async def release_figures(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Run the release job at `now` without noise: tests that check plumbing see exact counts."""
    from kpi import release

    return await release.release_all(sessions, now, lambda scale: 0)

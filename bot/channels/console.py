"""The console channel: the same handlers, choices as numbered options, piped input welcome."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TextIO

from bot.channels.base import Delivery
from bot.clock import ShiftedClock
from bot.delivery import deliver
from bot.demo_clock import ClockError, parse_jump
from bot.dispatch import Dispatcher
from bot.i18n import render
from handlers.types import Choice, Inbound, Reply

CHANNEL = "console"
AT_COMMAND = "/at "
Jobs = Callable[[datetime], Awaitable[object]]


def render_reply(locale: str, reply: Reply, first_number: int = 1) -> str:
    """A reply as plain text, its choices numbered from first_number."""
    lines = [render(locale, reply.key, reply.params)]
    if reply.attachment is not None:
        size = len(reply.attachment.content)
        lines.append(
            f"  [{reply.attachment.filename}, {reply.attachment.mime_type}, {size} bytes]"
        )
    for number, choice in enumerate(reply.choices, start=first_number):
        lines.append(f"  {number}) {render(locale, choice.label, choice.params)}")
    return "\n".join(lines)


class ConsoleSender:
    """Prints outbox messages (reminders, notifications) addressed to this console user."""

    channel = CHANNEL

    def __init__(self, chat: ConsoleChat) -> None:
        """Print into the chat's transcript."""
        self.chat = chat

    async def send(self, delivery: Delivery) -> None:
        """Show the messages as the bot speaking, after the turn's own replies."""
        self.chat.queued.append((delivery.locale, delivery.replies))


class ConsoleChat:
    """A chat between one console user and the bot."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        user: str,
        out: TextIO = sys.stdout,
        *,
        jobs: Jobs | None = None,
    ) -> None:
        """Remember who is chatting, where to print, and the jobs a clock jump runs."""
        self.dispatcher = dispatcher
        self.user = user
        self.out = out
        self.jobs = jobs
        self.choices: list[Choice] = []
        self.queued: list[tuple[str, list[Reply]]] = []
        self.last_shown: list[Reply] = []

    def to_inbound(self, line: str) -> Inbound:
        """Typing the number of a choice picks it; anything else is text."""
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return Inbound(CHANNEL, self.user, payload=self.choices[int(text) - 1].payload)
        return Inbound(CHANNEL, self.user, text=text)

    def show(self, locale: str, replies: list[Reply]) -> None:
        """Print replies, numbering their choices, which typing a number then picks."""
        self.show_all([(locale, replies)])

    def show_all(self, batches: list[tuple[str, list[Reply]]]) -> None:
        """Print several messages, numbering all their choices in one run."""
        shown: list[Choice] = []
        self.last_shown = [reply for _, replies in batches for reply in replies]
        for locale, replies in batches:
            for reply in replies:
                print(f"bot> {render_reply(locale, reply, len(shown) + 1)}", file=self.out)
                shown += reply.choices
        if shown:
            self.choices = shown
        self.out.flush()

    async def _delivered(self) -> list[tuple[str, list[Reply]]]:
        """Messages queued for this user (reminders, prompts) that were waiting."""
        self.queued = []
        while await deliver(
            self.dispatcher.sessions,
            {CHANNEL: ConsoleSender(self)},
            now=self.dispatcher.clock(),
            recipient=self.user,
        ):
            pass
        return self.queued

    async def send(self, line: str) -> list[Reply]:
        """Run one line through the bot, print the replies and any queued messages."""
        if line.strip().lower().startswith(AT_COMMAND.strip()) and self._is_jump(line):
            await self.jump(line.strip()[len(AT_COMMAND) :])
            return []
        outcome = await self.dispatcher.handle(self.to_inbound(line))
        self.show_all([(outcome.locale, outcome.replies), *await self._delivered()])
        return outcome.replies

    @staticmethod
    def _is_jump(line: str) -> bool:
        """`/at` followed by one word that looks like a jump (anything else goes to the bot)."""
        words = line.split()
        return len(words) == 2 and words[1][:1] in "+0123456789"

    async def jump(self, text: str) -> None:
        """Move a set clock forward, run the scheduled jobs then, and show what arrived."""
        clock = self.dispatcher.clock
        if not isinstance(clock, ShiftedClock):
            print("clock> /at needs `chat --at ...`; 請用 chat --at 啟動", file=self.out)
            return
        try:
            clock.jump(parse_jump(text))
        except ClockError as err:
            print(f"clock> {err}", file=self.out)
            return
        await self.tick()

    async def tick(self, *, show: bool = True) -> None:
        """Say the time, run the jobs at it, and show the messages they queued for this user."""
        now = self.dispatcher.clock()
        local = now.astimezone(self.dispatcher.settings.tz)
        print(
            f"clock> {local:%Y-%m-%d %H:%M %a} ({self.dispatcher.settings.timezone})",
            file=self.out,
        )
        if self.jobs is not None:
            await self.jobs(now)
        if show:
            self.show_all(await self._delivered())

    async def run(self, stream: TextIO = sys.stdin) -> None:
        """Open the chat, then read lines until end of input."""
        echo = not stream.isatty()
        if isinstance(self.dispatcher.clock, ShiftedClock):
            await self.tick(show=False)  # what arrived meanwhile follows the menu, numbered on
        await self.send("/start")
        while True:
            if not echo:
                print("you> ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(stream.readline)
            if not line:
                break
            if not line.strip():
                continue
            if echo:
                print(f"you> {line.strip()}", file=self.out)
            await self.send(line)

"""The console channel: the same handlers, choices as numbered options, piped input welcome."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.channels.base import Delivery
from bot.delivery import deliver
from bot.dispatch import Dispatcher
from bot.i18n import render
from handlers.types import Choice, Inbound, Reply

CHANNEL = "console"


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
        """Show the messages as the bot speaking."""
        self.chat.show(delivery.locale, delivery.replies)


class ConsoleChat:
    """A chat between one console user and the bot."""

    def __init__(self, dispatcher: Dispatcher, user: str, out: TextIO = sys.stdout) -> None:
        """Remember who is chatting and where to print."""
        self.dispatcher = dispatcher
        self.user = user
        self.out = out
        self.choices: list[Choice] = []

    def to_inbound(self, line: str) -> Inbound:
        """Typing the number of a choice picks it; anything else is text."""
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return Inbound(CHANNEL, self.user, payload=self.choices[int(text) - 1].payload)
        return Inbound(CHANNEL, self.user, text=text)

    def show(self, locale: str, replies: list[Reply]) -> None:
        """Print replies, numbering their choices, which typing a number then picks."""
        shown: list[Choice] = []
        for reply in replies:
            print(f"bot> {render_reply(locale, reply, len(shown) + 1)}", file=self.out)
            shown += reply.choices
        if shown:
            self.choices = shown
        self.out.flush()

    async def send(self, line: str) -> list[Reply]:
        """Run one line through the bot, print the replies and any queued messages."""
        outcome = await self.dispatcher.handle(self.to_inbound(line))
        self.show(outcome.locale, outcome.replies)
        while await deliver(
            self.dispatcher.sessions,
            {CHANNEL: ConsoleSender(self)},
            now=self.dispatcher.clock(),
            recipient=self.user,
        ):
            pass
        return outcome.replies

    async def run(self, stream: TextIO = sys.stdin) -> None:
        """Open the chat, then read lines until end of input."""
        echo = not stream.isatty()
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

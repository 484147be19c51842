"""A channel for tests: events are plain dicts, and the sender records or fails on demand."""

from __future__ import annotations

from typing import Any

from bot.channels.base import AlreadyDelivered, Delivery, SendError
from handlers.types import Inbound

CHANNEL = "test"


class FakeSource:
    """Turns {"user", "text" | "payload"} dicts into Inbound."""

    channel = CHANNEL

    def to_inbound(self, payload: dict[str, Any]) -> tuple[Inbound | None, dict[str, Any]]:
        """Return the inbound, or None for an event without a user."""
        if "user" not in payload:
            return None, {}
        inbound = Inbound(
            CHANNEL,
            payload["user"],
            text=payload.get("text"),
            payload=payload.get("payload"),
            event_id=payload.get("id"),
        )
        return inbound, {"reply_to": payload.get("id")}


class RecordingSender:
    """Records deliveries; can fail the next N sends, or claim they were already delivered."""

    channel = CHANNEL

    def __init__(self) -> None:
        """Start with nothing sent and no failures planned."""
        self.sent: list[Delivery] = []
        self.fail_next = 0
        self.retry_after: float | None = None
        self.already_delivered_next = 0
        self.attempts = 0

    async def send(self, delivery: Delivery) -> None:
        """Record or fail as planned."""
        self.attempts += 1
        if self.fail_next:
            self.fail_next -= 1
            raise SendError("HTTP 500", retry_after=self.retry_after)
        if self.already_delivered_next:
            self.already_delivered_next -= 1
            raise AlreadyDelivered()
        self.sent.append(delivery)

    def keys_for(self, user: str) -> list[list[str]]:
        """The message keys of each delivery to a user."""
        return [[r.key for r in d.replies] for d in self.sent if d.recipient == user]

"""What every channel provides: turning platform events into Inbound, and sending replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from handlers.types import Inbound, Reply


class SendError(Exception):
    """A send failed; retry_after (seconds) when the platform said when to retry."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        """Keep the reason (no message text), the wait and whether retrying is pointless."""
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class AlreadyDelivered(Exception):
    """The platform says it already accepted this message (e.g. LINE's 409 on a retry key)."""


@dataclass(frozen=True)
class Delivery:
    """One outbox message handed to a channel: whom, in which language, what, and context."""

    recipient: str
    locale: str
    replies: list[Reply]
    retry_key: str
    attempts: int = 0
    context: dict[str, Any] = field(default_factory=dict)
    # A send was started before without its outcome recorded (the process died or the
    # database failed): the platform may already have the message.
    maybe_sent: bool = False


class Sender(Protocol):
    """Sends rendered replies on one platform."""

    channel: str

    async def send(self, delivery: Delivery) -> None:
        """Deliver, or raise SendError / AlreadyDelivered."""


class EventSource(Protocol):
    """Turns one stored platform event into a neutral Inbound (None: nothing to answer)."""

    channel: str

    def to_inbound(self, payload: dict[str, Any]) -> tuple[Inbound | None, dict[str, Any]]:
        """Return the inbound and the context the sender needs to answer it."""


class Channel(Sender, EventSource, Protocol):
    """A platform channel: webhook routes, start/stop (webhook setup or polling), send, parse.

    `serve` calls add_routes() before the web app starts, start() once it listens, and stop()
    at shutdown. Webhook handlers verify the request, store events with inbox.accept(), answer
    HTTP at once, then call inbox.schedule() to process them in the background.
    """

    def add_routes(self, app: Any, inbox: Any) -> None:
        """Register the channel's webhook route(s) on the aiohttp app."""

    async def start(self) -> None:
        """Begin receiving (register the webhook, or start long polling)."""

    async def stop(self) -> None:
        """Stop receiving and close HTTP sessions."""

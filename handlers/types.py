"""Channel-neutral types: what comes in, what a handler sees, and what it returns."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import Counselor, HrUser, Member

MAX_PAYLOAD_BYTES = 64


class Key(str):
    """A parameter value that is itself a message key, rendered in the reader's language."""

    __slots__ = ()


class Lines(tuple):  # type: ignore[type-arg]
    """A parameter holding several (message key, parameters) lines, rendered one per line."""

    __slots__ = ()


@dataclass(frozen=True)
class Choice:
    """A button: a label (message key and parameters) and the payload it sends back."""

    label: str
    payload: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Keep payloads within the smallest platform limit (Telegram: 64 bytes)."""
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"choice payload over {MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply (a calendar entry, a chart, a CSV)."""

    filename: str
    mime_type: str
    content: bytes


class Reply:
    """One message to send: a message key, its parameters and optional choices."""

    __slots__ = ("attachment", "choices", "key", "params")

    def __init__(
        self,
        key: str,
        *,
        choices: list[Choice] | None = None,
        attachment: Attachment | None = None,
        **params: Any,
    ) -> None:
        """Build a reply from a message key, choices and the message's parameters."""
        self.key = key
        self.params = params
        self.choices = list(choices or [])
        self.attachment = attachment

    def __eq__(self, other: object) -> bool:
        """Replies are equal when key, parameters and choices are."""
        if not isinstance(other, Reply):
            return NotImplemented
        return (self.key, self.params, self.choices) == (other.key, other.params, other.choices)

    def __repr__(self) -> str:
        """Show key, parameters and choice payloads."""
        payloads = [c.payload for c in self.choices]
        return f"Reply({self.key!r}, {self.params!r}, choices={payloads!r})"


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: typed text or pressed a button (payload)."""

    channel: str
    user_id: str
    text: str | None = None
    payload: str | None = None
    language_code: str | None = None
    event_id: str | None = None


@dataclass
class State:
    """Where the chat stands in a flow; saved after every turn."""

    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def go(self, flow: str, step: str, **data: Any) -> None:
        """Move to a step of a flow, merging data."""
        if flow != self.flow:
            self.data = {}
        self.flow, self.step = flow, step
        self.data = {**self.data, **data}

    def clear(self) -> None:
        """Leave any flow."""
        self.flow, self.step, self.data = "", "", {}


@dataclass
class Turn:
    """Everything a handler needs for one inbound: session, who, state, clock, locale."""

    session: AsyncSession
    inbound: Inbound
    now: datetime
    state: State
    locale: str
    pseudonym_key: bytes
    member: Member | None = None
    counselor: Counselor | None = None
    hr_user: HrUser | None = None
    args: list[str] = field(default_factory=list)
    state_existed: bool = True

    @property
    def text(self) -> str:
        """The typed text, stripped ('' for a button press)."""
        return (self.inbound.text or "").strip()


def _encode(value: Any) -> Any:
    if isinstance(value, Lines):
        return {"$lines": [[k, {n: _encode(v) for n, v in p.items()}] for k, p in value]}
    if isinstance(value, Key):
        return {"$key": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$key":
            return Key(raw)
        if tag == "$lines":
            return Lines((k, {n: _decode(v) for n, v in p.items()}) for k, p in raw)
        if tag == "$dt":
            return datetime.fromisoformat(raw)
        if tag == "$date":
            return date.fromisoformat(raw)
    return value


def to_payload(replies: list[Reply]) -> dict[str, Any]:
    """Replies as JSON-safe data, for the outbox (attachments as base64)."""
    return {
        "replies": [
            {
                "key": r.key,
                "params": {k: _encode(v) for k, v in r.params.items()},
                "choices": [
                    {
                        "label": c.label,
                        "payload": c.payload,
                        "params": {k: _encode(v) for k, v in c.params.items()},
                    }
                    for c in r.choices
                ],
                "attachment": _encode_attachment(r.attachment),
            }
            for r in replies
        ]
    }


def _encode_attachment(attachment: Attachment | None) -> dict[str, str] | None:
    if attachment is None:
        return None
    content = base64.b64encode(attachment.content).decode()
    return {"filename": attachment.filename, "mime_type": attachment.mime_type, "content": content}


def _decode_attachment(data: dict[str, str] | None) -> Attachment | None:
    if not data:
        return None
    return Attachment(data["filename"], data["mime_type"], base64.b64decode(data["content"]))


def from_payload(payload: dict[str, Any]) -> list[Reply]:
    """Replies back from outbox data."""
    return [
        Reply(
            item["key"],
            choices=[
                Choice(c["label"], c["payload"], {k: _decode(v) for k, v in c["params"].items()})
                for c in item.get("choices", [])
            ],
            attachment=_decode_attachment(item.get("attachment")),
            **{k: _decode(v) for k, v in item.get("params", {}).items()},
        )
        for item in payload.get("replies", [])
    ]

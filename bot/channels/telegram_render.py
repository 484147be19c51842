"""Replies as Telegram messages: grouped texts, inline keyboards, parts within the limits."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.i18n import render
from handlers.types import Attachment, Choice, Reply

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)
MAX_CAPTION = int(MessageLimit.CAPTION_LENGTH)
MAX_CALLBACK_DATA = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
ROW_WIDTH = 28  # narrow characters that fit side by side on a phone
MAX_PER_ROW = 3
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

Button = tuple[str, str]  # (label, callback data)


@dataclass(frozen=True)
class Message:
    """One Telegram message: its text, keyboard rows and an optional file."""

    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None

    def markup(self) -> InlineKeyboardMarkup | None:
        """The inline keyboard, or None without buttons."""
        if not self.rows:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in self.rows
            ]
        )


@dataclass(frozen=True)
class Part:
    """One API call's worth of a message: text (or caption), keyboard and file."""

    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None

    def markup(self) -> InlineKeyboardMarkup | None:
        """The inline keyboard, or None without buttons."""
        return Message(self.text, self.rows).markup()

    @property
    def is_photo(self) -> bool:
        """Whether the file goes out as a photo (shown inline) rather than a document."""
        return self.attachment is not None and self.attachment.mime_type in PHOTO_TYPES


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _join(texts: Sequence[str]) -> str:
    # Bullet lines ("• ...") continue the paragraph above them; other replies are paragraphs.
    joined = texts[0]
    for text in texts[1:]:
        joined += ("\n" if text.startswith("•") else "\n\n") + text
    return joined


def _width(label: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in label)


def layout(buttons: Sequence[Button]) -> tuple[tuple[Button, ...], ...]:
    """Short labels share a row (up to three), long ones get a row each."""
    rows: list[list[Button]] = []
    for button in buttons:
        row = rows[-1] if rows else None
        if row is not None and len(row) < MAX_PER_ROW:
            # Buttons in a row are equally wide, so the widest label sets the row's width.
            widest = max(_width(label) for label, _ in [*row, button])
            if widest * (len(row) + 1) <= ROW_WIDTH:
                row.append(button)
                continue
        rows.append([button])
    return tuple(tuple(row) for row in rows)


def buttons(locale: str, choices: Sequence[Choice]) -> list[Button]:
    """Each choice as (label, callback data); refuse data Telegram would reject."""
    result = []
    for choice in choices:
        size = len(choice.payload.encode())
        if not 1 <= size <= MAX_CALLBACK_DATA:
            raise ValueError(f"callback data of {size} bytes; Telegram takes 1-64")
        result.append((render(locale, choice.label, choice.params), choice.payload))
    return result


def messages(locale: str, replies: Sequence[Reply]) -> list[Message]:
    """Group replies into messages: a message ends at a reply with choices or a file."""
    grouped: list[Message] = []
    texts: list[str] = []
    for reply in replies:
        texts.append(render(locale, reply.key, reply.params))
        if reply.choices or reply.attachment is not None:
            rows = layout(buttons(locale, reply.choices))
            grouped.append(Message(_join(texts), rows, reply.attachment))
            texts = []
    if texts:
        grouped.append(Message(_join(texts)))
    return grouped


def _fits(text: str, limit: int) -> int:
    """How many characters of text fit in `limit` UTF-16 code units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut text into parts of at most `limit` UTF-16 units, at paragraph, line or word ends."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        head = rest[: _fits(rest, limit)]
        for separator in ("\n\n", "\n", " "):  # the most natural break in the second half
            cut = head.rfind(separator)
            if cut >= len(head) // 2:
                break
        else:
            cut = len(head)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [part for part in parts if part] or [text[: _fits(text, limit)]]


def parts(message: Message) -> list[Part]:
    """The API calls that send one message; the keyboard goes on the last."""
    if message.attachment is not None and utf16_len(message.text) <= MAX_CAPTION:
        return [Part(message.text, message.rows, message.attachment)]
    chunks = split_text(message.text)
    if message.attachment is not None:
        return [*(Part(chunk) for chunk in chunks), Part("", message.rows, message.attachment)]
    last = len(chunks) - 1
    return [Part(chunk, message.rows if i == last else ()) for i, chunk in enumerate(chunks)]

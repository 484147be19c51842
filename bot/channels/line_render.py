"""Replies as LINE messages within LINE's limits: quick replies, Flex cards, split long texts.

Limits (LINE Messaging API reference; the OpenAPI spec states only some of them):
5 messages per request, 5000 UTF-16 code units per text, 13 quick reply items with labels of
at most 20 characters and no URI actions, postback data of at most 300 characters, 12 bubbles
per carousel, and an alt text on every Flex message. Images are sent by https URL (LINE fetches
them): JPEG or PNG, at most 1 MB for the preview; LINE bots cannot send other files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import render
from handlers.types import Attachment, Choice, Reply

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_QUICK_LABEL = 20
MAX_ACTION_LABEL = 40
MAX_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_BUBBLES = 12
MAX_ALT_TEXT = 400  # LINE allows 1500; a notification shows far less
MAX_BUTTONS = 8  # per bubble, so a bubble stays well under LINE's JSON size limit
MAX_BUBBLE_TEXT = 1000  # longer prompts go as text messages before the buttons
MAX_IMAGE_URL = 2000
MAX_IMAGE_BYTES = 1024 * 1024  # the preview's limit, and one file serves as both
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
SLOT_LABELS = frozenset({"book-slot"})
BOOKING_KEYS = frozenset({"my-booking"})
BOOKING_ACTIONS = frozenset({"my-cancel", "my-reschedule"})
PRIMARY, SECONDARY, MUTED = "#06C755", "#EEF3F1", "#6B7B75"

Message = dict[str, Any]


def utf16_len(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_fitting(text: str, limit: int) -> int:
    """The longest prefix (in characters) within `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` UTF-16 code units, marking the cut with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    return text[: _prefix_fitting(text, limit - 1)].rstrip() + "…"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split into pieces of at most `limit` UTF-16 units, at a line break or space if any."""
    pieces = []
    while utf16_len(text) > limit:
        cut = _prefix_fitting(text, limit)
        window = text[:cut]
        for separator in ("\n", " "):
            at = window.rfind(separator)
            if at >= cut // 2:  # a break late enough not to waste half a message
                cut = at + 1
                break
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text] if text else pieces


def action(
    locale: str, choice: Choice, *, label_limit: int = MAX_ACTION_LABEL, label: str | None = None
) -> dict[str, Any]:
    """The LINE action for a choice: dial for `call:NNNN`, otherwise a postback of its payload."""
    if label is None:
        label = render(locale, choice.label, choice.params)
    kind, _, number = choice.payload.partition(":")
    if kind == "call" and number.isdigit():
        return {"type": "uri", "label": truncate(label, label_limit), "uri": f"tel:{number}"}
    return {
        "type": "postback",
        "label": truncate(label, label_limit),
        "data": choice.payload[:MAX_DATA],
        "displayText": truncate(label, MAX_DISPLAY_TEXT),
    }


def fits_quick_reply(choices: list[Choice]) -> bool:
    """Whether choices can be quick replies (LINE refuses URI actions there)."""
    return 0 < len(choices) <= MAX_QUICK_REPLIES and not any(_dials(c) for c in choices)


def _dials(choice: Choice) -> bool:
    kind, _, number = choice.payload.partition(":")
    return kind == "call" and number.isdigit()


def quick_reply(locale: str, choices: list[Choice]) -> dict[str, Any]:
    """Quick reply buttons; a long label is cut, and the full one is what the chat shows."""
    return {
        "items": [
            {"type": "action", "action": action(locale, c, label_limit=MAX_QUICK_LABEL)}
            for c in choices
        ]
    }


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, "wrap": True, **style}


def _button(locale: str, choice: Choice, *, label: str | None = None) -> dict[str, Any]:
    """A tappable box rather than a Flex button, so long labels wrap instead of being cut."""
    primary = label is not None or _dials(choice)
    shown = label if label is not None else render(locale, choice.label, choice.params)
    act = action(locale, choice, label=shown)
    return {
        "type": "box",
        "layout": "vertical",
        "action": act,
        "backgroundColor": PRIMARY if primary else SECONDARY,
        "cornerRadius": "md",
        "paddingAll": "md",
        "contents": [
            _text(shown, align="center", size="sm", color="#FFFFFF" if primary else "#111111")
        ],
    }


def _bubble(body: list[dict[str, Any]], footer: list[dict[str, Any]] | None = None) -> Message:
    bubble: Message = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
    }
    if footer:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": footer,
        }
    return bubble


def _flex(alt_text: str, bubbles: list[Message]) -> list[Message]:
    """Flex messages holding the bubbles, a carousel of at most 12 per message."""
    alt = truncate(" ".join(alt_text.split()), MAX_ALT_TEXT) or "…"
    pages = [bubbles[i : i + MAX_BUBBLES] for i in range(0, len(bubbles), MAX_BUBBLES)]
    return [
        {
            "type": "flex",
            "altText": alt,
            "contents": page[0] if len(page) == 1 else {"type": "carousel", "contents": page},
        }
        for page in pages
    ]


def _texts(text: str) -> list[Message]:
    return [{"type": "text", "text": piece} for piece in split_text(text) if piece.strip()]


def _menu(locale: str, text: str, choices: list[Choice]) -> list[Message]:
    """A prompt and its choices as Flex cards (buttons stay in the chat, and may dial)."""
    groups = [choices[i : i + MAX_BUTTONS] for i in range(0, len(choices), MAX_BUTTONS)]
    lead: list[Message] = []
    if utf16_len(text) > MAX_BUBBLE_TEXT:
        lead, text = _texts(text), ""
    bubbles = []
    for index, group in enumerate(groups):
        body = [_text(text)] if text and index == 0 else []
        bubbles.append(_bubble([*body, *(_button(locale, c) for c in group)]))
    return lead + _flex(text or render(locale, "line-choose"), bubbles)


def _attach(locale: str, messages: list[Message], choices: list[Choice], last: bool) -> None:
    """Offer leftover choices: as quick replies on the last message, else as a card."""
    if not choices:
        return
    if last and messages and fits_quick_reply(choices):
        messages[-1]["quickReply"] = quick_reply(locale, choices)
    else:
        messages += _menu(locale, "", choices)


def _slot_bubble(locale: str, choice: Choice) -> Message:
    params = choice.params
    if params.get("start") is None:
        title = render(locale, choice.label, params)
    else:
        title = render(locale, "line-slot-title", {"start": params["start"]})
    body = [_text(title, weight="bold", size="lg")]
    if params.get("minutes") is not None:
        detail = render(locale, "line-slot-detail", {"minutes": params["minutes"]})
        body.append(_text(detail, size="sm", color=MUTED))
    if params.get("counselor"):
        body.append(_text(str(params["counselor"]), size="sm", color=MUTED))
    button = _button(locale, choice, label=render(locale, "line-slot-choose"))
    button["action"]["displayText"] = truncate(title, MAX_DISPLAY_TEXT)
    return _bubble(body, [button])


def _booking_bubble(locale: str, reply: Reply) -> Message:
    params = reply.params
    if {"start", "domain", "mode"} <= params.keys():
        body = [
            _text(render(locale, "line-booking-title", {"start": params["start"]}), weight="bold"),
            _text(render(locale, "line-booking-detail", params), size="sm", color=MUTED),
        ]
    else:
        body = [_text(render(locale, reply.key, params))]
    own = [c for c in reply.choices if c.label in BOOKING_ACTIONS]
    return _bubble(body, [_button(locale, c) for c in own])


def _render_bookings(locale: str, replies: list[Reply], last: bool) -> list[Message]:
    """Consecutive bookings as one carousel; their shared choices (back) offered after it."""
    bubbles = [_booking_bubble(locale, r) for r in replies]
    shared: dict[str, Choice] = {}
    for reply in replies:
        for choice in reply.choices:
            if choice.label not in BOOKING_ACTIONS:
                shared.setdefault(choice.payload, choice)
    messages = _flex(render(locale, "line-alt-bookings"), bubbles)
    _attach(locale, messages, list(shared.values()), last)
    return messages


def _render_one(locale: str, reply: Reply, last: bool) -> list[Message]:
    text = render(locale, reply.key, reply.params).strip()
    slots = [c for c in reply.choices if c.label in SLOT_LABELS]
    if slots:
        others = [c for c in reply.choices if c.label not in SLOT_LABELS]
        bubbles = [_slot_bubble(locale, c) for c in slots]
        messages = _texts(text) + _flex(text or render(locale, "line-choose"), bubbles)
        _attach(locale, messages, others, last)
        return messages
    if not reply.choices:
        return _texts(text)
    if last and fits_quick_reply(reply.choices):
        messages = _texts(text or render(locale, "line-choose"))
        _attach(locale, messages, reply.choices, last)
        return messages
    return _menu(locale, text, reply.choices)


def is_image(attachment: Attachment | None) -> bool:
    """Whether LINE can show this attachment as an image message (other files are left out)."""
    return (
        attachment is not None
        and attachment.mime_type in IMAGE_TYPES
        and 0 < len(attachment.content) <= MAX_IMAGE_BYTES
    )


def image_message(url: str) -> Message | None:
    """An image message showing the file at `url` (also its preview); None if LINE can't."""
    if not url.startswith("https://") or len(url) > MAX_IMAGE_URL:
        return None
    return {"type": "image", "originalContentUrl": url, "previewImageUrl": url}


def _images(urls: Mapping[int, str], start: int, end: int) -> list[Message]:
    """Image messages for the replies start..end-1 that have a URL, in order."""
    found = [image_message(urls[i]) for i in range(start, end) if i in urls]
    return [message for message in found if message is not None]


def render_messages(
    locale: str, replies: list[Reply], image_urls: Mapping[int, str] | None = None
) -> list[Message]:
    """Every reply as LINE message objects, in order (may be more than one request's worth).

    `image_urls` maps a reply's index to where its image is served; the image goes before the
    reply's text, which then reads as its caption (as on Telegram). Other files are left out.
    """
    urls = image_urls or {}
    messages: list[Message] = []
    index = 0
    while index < len(replies):
        end = index + 1
        if replies[index].key in BOOKING_KEYS:
            while end < len(replies) and replies[end].key in BOOKING_KEYS:
                end += 1
            rendered = _render_bookings(locale, replies[index:end], end == len(replies))
        else:
            rendered = _render_one(locale, replies[index], end == len(replies))
        messages += _images(urls, index, end) + rendered
        index = end
    return messages


def _plain(message: Message) -> bool:
    return message["type"] == "text" and "quickReply" not in message


def _merge_smallest_pair(messages: list[Message]) -> bool:
    """Join the shortest pair of neighbouring texts that fits one message; False if none."""
    best, best_size = None, MAX_TEXT + 1
    for index in range(len(messages) - 1):
        first, second = messages[index], messages[index + 1]
        if _plain(first) and second["type"] == "text":
            size = utf16_len(first["text"]) + 2 + utf16_len(second["text"])
            if size < best_size:
                best, best_size = index, size
    if best is None:
        return False
    first, second = messages[best], messages[best + 1]
    messages[best : best + 2] = [{**second, "text": f"{first['text']}\n\n{second['text']}"}]
    return True


def to_requests(
    locale: str, replies: list[Reply], image_urls: Mapping[int, str] | None = None
) -> list[list[Message]]:
    """The messages grouped per API request (5 at most), texts joined first to need fewer."""
    messages = render_messages(locale, replies, image_urls)
    while len(messages) > MAX_MESSAGES and _merge_smallest_pair(messages):
        pass
    return [messages[i : i + MAX_MESSAGES] for i in range(0, len(messages), MAX_MESSAGES)]

"""LINE images: served from /media, sent by URL under EAP_PUBLIC_URL; other files left out."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.channels.base import Delivery
from bot.channels.line_render import (
    MAX_IMAGE_BYTES,
    MAX_MESSAGES,
    image_message,
    is_image,
    to_requests,
)
from bot.clock import utcnow
from bot.i18n import render
from handlers.types import Attachment, Choice, Reply
from storage.models import MediaAsset
from tests.fake_line import LineBot, line_bot, user_id
from tests.test_line_render import problems

PUBLIC_URL = "https://eap.example.test/bot"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
CHART = Attachment("chart.png", "image/png", PNG)
PHOTO = Attachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + bytes(16))
CSV = Attachment("figures.csv", "text/csv", b"a,b\n1,2\n")
ICS = Attachment("appointment.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")


def url(n: int) -> str:
    """A public media URL."""
    return f"{PUBLIC_URL}/media/token{n}"


def kinds(requests: list[list[dict[str, Any]]]) -> list[list[str]]:
    """Each request's message types."""
    return [[m["type"] for m in messages] for messages in requests]


def test_only_png_and_jpeg_within_the_preview_limit_are_images() -> None:
    assert [is_image(a) for a in (CHART, PHOTO, CSV, ICS, None)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    webp = Attachment("x.webp", "image/webp", b"RIFF")
    huge = Attachment("x.png", "image/png", PNG + bytes(MAX_IMAGE_BYTES))
    assert [is_image(webp), is_image(huge)] == [False, False]


def test_image_goes_before_its_caption_and_passes_line_checks() -> None:
    replies = [Reply("hr-digest-chart", attachment=CHART)]
    requests = to_requests("en", replies, {0: url(1)})
    assert requests == [
        [
            {"type": "image", "originalContentUrl": url(1), "previewImageUrl": url(1)},
            {"type": "text", "text": render("en", "hr-digest-chart")},
        ]
    ]
    assert problems(requests) == []


def test_quick_replies_stay_on_the_last_message_after_an_image() -> None:
    back = Choice("menu-back", "m")
    requests = to_requests(
        "en", [Reply("hr-digest-chart", attachment=CHART, choices=[back])], {0: url(1)}
    )
    assert kinds(requests) == [["image", "text"]]
    assert requests[0][1]["quickReply"]["items"][0]["action"]["data"] == "m"
    assert problems(requests) == []


def test_files_line_cannot_send_leave_only_their_text() -> None:
    replies = [Reply("hr-digest-csv", attachment=CSV), Reply("hr-export-ready", attachment=ICS)]
    assert to_requests("en", replies) == to_requests("en", [Reply(r.key) for r in replies])
    assert kinds(to_requests("en", replies)) == [["text", "text"]]


def test_an_image_url_line_would_refuse_is_left_out() -> None:
    assert image_message("http://eap.example.test/media/t") is None
    assert image_message("https://eap.example.test/" + "m" * 2000) is None
    requests = to_requests("en", [Reply("hr-digest-chart", attachment=CHART)], {0: "http://x"})
    assert kinds(requests) == [["text"]]


def test_many_images_are_spread_over_requests_of_at_most_five() -> None:
    replies = [Reply("hr-digest-chart", attachment=CHART) for _ in range(4)]
    requests = to_requests("en", replies, {i: url(i) for i in range(4)})
    assert [len(r) for r in requests] == [MAX_MESSAGES, 3]
    images = [m["originalContentUrl"] for r in requests for m in r if m["type"] == "image"]
    assert images == [url(i) for i in range(4)]
    assert problems(requests) == []


# Through the channel: stored as media, fetched by URL, or left out without a public URL


@pytest.fixture
async def bot(settings, dispatcher) -> AsyncIterator[LineBot]:
    """The bot with its LINE channel and EAP_PUBLIC_URL set, talking to a fake LINE API."""
    settings = dataclasses.replace(settings, public_url=PUBLIC_URL)
    async with line_bot(settings, dispatcher, utcnow) as running:  # media expire by real time
        yield running
        assert running.fake.refused() == [], "the bot sent something LINE would refuse"


def delivery(*replies: Reply, to: str = user_id("hr")) -> Delivery:
    """An outbox message for a LINE user."""
    return Delivery(to, "en", list(replies), retry_key=str(uuid.uuid4()))


async def media_count(bot: LineBot) -> int:
    async with bot.server.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MediaAsset)) or 0)


async def test_an_image_is_stored_and_sent_by_its_public_url(bot: LineBot) -> None:
    hr = user_id("hr")
    chart, sheet = (
        Reply("hr-digest-chart", attachment=CHART),
        Reply("hr-digest-csv", attachment=CSV),
    )
    await bot.channel.send(delivery(chart, sheet))
    [push] = bot.fake.accepted("push", to=hr)
    image, *rest = push.body["messages"]
    assert rest == [
        {"type": "text", "text": render("en", "hr-digest-chart")},
        {"type": "text", "text": render("en", "hr-digest-csv")},
    ]
    assert image["type"] == "image" and image["previewImageUrl"] == image["originalContentUrl"]
    assert image["originalContentUrl"].startswith(f"{PUBLIC_URL}/media/")
    assert await media_count(bot) == 1  # the CSV was not stored: LINE cannot send it
    local = bot.webhooks.url.removesuffix("/webhooks/line")
    fetched = image["originalContentUrl"].replace(PUBLIC_URL, local)
    async with aiohttp.ClientSession() as http, http.get(fetched) as response:
        assert (response.status, response.content_type) == (200, "image/png")
        assert await response.read() == PNG


async def test_without_a_public_url_the_text_goes_alone_with_one_warning(
    bot: LineBot, caplog: pytest.LogCaptureFixture
) -> None:
    hr = user_id("hr")
    bot.channel.settings = dataclasses.replace(bot.settings, public_url="")
    with caplog.at_level(logging.WARNING, logger="bot.channels.line"):
        for _ in range(2):
            await bot.channel.send(delivery(Reply("hr-digest-chart", attachment=CHART)))
    texts = [[m["type"] for m in c.body["messages"]] for c in bot.fake.accepted("push", to=hr)]
    assert texts == [["text"], ["text"]]
    warnings = [r for r in caplog.records if "EAP_PUBLIC_URL" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert await media_count(bot) == 0

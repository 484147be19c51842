"""Whatever LINE may send is acknowledged without a 5xx or a crash (LINE's own golden body)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import OutboxMessage, OutboxStatus, ProcessedEvent
from tests.fake_line import LineBot, line_bot
from tests.openapi_check import load

GOLDEN_FILE = Path(__file__).resolve().parent / "data" / "peers" / "line-bot-sdk-webhook.json"
ANSWERED = {"message", "postback", "follow"}


@pytest.fixture
def golden_as_recorded() -> dict[str, Any]:
    """line-bot-sdk's webhook test body: 28 events of 14 types sharing one webhookEventId."""
    return json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def golden(golden_as_recorded: dict[str, Any], clock) -> dict[str, Any]:
    """The golden body as if LINE sent it now (its own timestamps are from 2016)."""
    now_ms = int(clock().timestamp() * 1000)
    events = [{**e, "timestamp": now_ms} for e in golden_as_recorded["events"]]
    return {**golden_as_recorded, "events": events}


async def test_a_signed_body_replayed_a_day_later_is_acknowledged_and_not_run(
    bot: LineBot, golden_as_recorded: dict[str, Any], golden: dict[str, Any], dispatcher, clock
) -> None:
    assert await bot.webhooks.post_raw(json.dumps(golden_as_recorded).encode()) == 200
    day_old = int((clock().timestamp() - 24 * 3600 - 1) * 1000)
    replayed = {**golden, "events": [{**e, "timestamp": day_old} for e in golden["events"]]}
    assert await bot.webhooks.post_raw(json.dumps(replayed).encode()) == 200
    await settle(bot)
    assert await count(dispatcher.sessions, ProcessedEvent) == 0
    assert bot.fake.accepted() == []


async def test_a_slow_sender_is_cut_off_without_an_error(
    bot: LineBot, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    import aiohttp

    from bot.channels import line

    monkeypatch.setattr(line, "BODY_SECONDS", 0.2)

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"destination": "U0", '
        await asyncio.sleep(1)
        yield b'"events": []}'

    async with aiohttp.ClientSession() as session:
        response = await session.post(
            bot.webhooks.url, data=trickle(), headers={"X-Line-Signature": "x"}
        )
    assert response.status == 408
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.fixture
async def bot(settings, dispatcher, clock) -> AsyncIterator[LineBot]:
    """The bot serving LINE webhooks, talking to a fake LINE API."""
    async with line_bot(settings, dispatcher, clock) as running:
        yield running
        assert running.fake.refused() == []


async def settle(bot: LineBot) -> None:
    await bot.channel.settle()
    await bot.server.inbox.drain()


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


def answerable(event: dict[str, Any]) -> bool:
    """An event from a one-to-one chat that the bot answers."""
    source = event.get("source", {})
    return event["type"] in ANSWERED and source.get("type") == "user"


async def test_golden_body_as_sent_is_stored_once_and_answered(
    bot: LineBot, golden: dict[str, Any], dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(golden).encode()
    assert await bot.webhooks.post_raw(body) == 200
    assert await bot.webhooks.post_raw(body) == 200  # LINE retrying the same body
    await settle(bot)
    await bot.fake.wait_for(lambda: len(bot.fake.accepted()) == 1)
    processed = ProcessedEvent.processed_at.is_not(None)
    assert await count(dispatcher.sessions, ProcessedEvent, processed) == 1
    first = golden["events"][0]
    assert bot.fake.accepted()[0].to == first["source"]["userId"]
    assert bot.fake.accepted()[0].operation == "push"  # its 2016 reply token is long gone
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_every_golden_event_is_handled_without_error(
    bot: LineBot, golden: dict[str, Any], dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    events = [{**e, "webhookEventId": f"golden-{n:02d}"} for n, e in enumerate(golden["events"])]
    body = json.dumps({**golden, "events": events}).encode()
    assert await bot.webhooks.post_raw(body) == 200
    expected = [e for e in events if answerable(e)]
    await bot.fake.wait_for(lambda: len(bot.fake.accepted()) == len(expected))
    await settle(bot)
    processed = ProcessedEvent.processed_at.is_not(None)
    assert await count(dispatcher.sessions, ProcessedEvent, processed) == len(events)
    sent = OutboxMessage.status == OutboxStatus.SENT
    assert await count(dispatcher.sessions, OutboxMessage, sent) == len(expected) == 13
    answered = {c.to for c in bot.fake.accepted()}
    assert answered == {e["source"]["userId"] for e in expected}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    health = await bot.webhooks.session.get(bot.webhooks.url.replace("/webhooks/line", "/healthz"))
    assert health.status == 200


async def test_each_golden_event_alone_never_gets_a_5xx(
    bot: LineBot, golden: dict[str, Any]
) -> None:
    for n, event in enumerate(golden["events"]):
        body = json.dumps({**golden, "events": [{**event, "webhookEventId": f"one-{n}"}]})
        assert await bot.webhooks.post_raw(body.encode()) == 200, event["type"]
    await settle(bot)


def test_webhook_spec_dispatches_on_event_type(golden: dict[str, Any]) -> None:
    spec = load("webhook.yml")
    flagged = {e["type"] for e in golden["events"] if spec.errors(e, "Event", strict=False)}
    assert "undefined" in flagged  # a type outside the mapping is caught, not waved through
    assert flagged <= {"undefined", "messageEdited"}  # messageEdited is newer than the spec
    broken = {**golden["events"][0], "message": {"id": "1", "type": "text", "quoteToken": "q"}}
    assert spec.errors(broken, "Event") == ["$.message: missing text"]


def test_messaging_spec_catches_what_plain_validation_lets_through() -> None:
    spec = load("messaging-api.yml")
    assert spec.errors({"type": "text"}, "Message") == ["$: missing text"]
    assert spec.errors({"type": "text", "text": "hi"}, "Message") == []
    assert spec.errors({"type": "txt", "text": "hi"}, "Message")[0] == "$: unknown type 'txt'"
    button = {"type": "postback", "label": "x", "data": "m", "dispalyText": "typo"}
    quick = {"type": "text", "text": "hi", "quickReply": {"items": [{"action": button}]}}
    assert spec.errors(quick, "Message") == [
        "$.quickReply.items[0].action: unknown property dispalyText"
    ]
    flex = {
        "type": "flex",
        "altText": "a",
        "contents": {"type": "bubble", "body": {"type": "box", "layout": "diagonal"}},
    }
    assert sorted(spec.errors(flex, "Message")) == [
        "$.contents.body.layout: 'diagonal' not one of ['horizontal', 'vertical', 'baseline']",
        "$.contents.body: missing contents",
    ]

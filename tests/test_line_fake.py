"""The fake LINE API refuses what LINE refuses, so the end-to-end tests can be trusted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    MulticastRequest,
    TextMessage,
)

from tests.fake_line import ACCESS_TOKEN, FakeLine, user_id

ALICE = user_id("alice")


@pytest.fixture
async def fake() -> AsyncIterator[FakeLine]:
    """A running fake LINE API."""
    line = FakeLine()
    await line.start()
    yield line
    await line.close()


async def push(fake: FakeLine, messages: list[Any], **headers: str) -> tuple[int, Any]:
    """POST a raw push body (bypassing the SDK's own models) and return status and answer."""
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}", **headers}
    body = {"to": ALICE, "messages": messages}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v2/bot/message/push", json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


def quick(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"type": "action", "action": a} for a in actions]}


def postback(label: str, data: str = "m") -> dict[str, Any]:
    return {"type": "postback", "label": label, "data": data}


BROKEN = {
    "text message without text": [{"type": "text"}],
    "unknown message type": [{"type": "txt", "text": "hi"}],
    "empty text": [{"type": "text", "text": " "}],
    "text over 5000 UTF-16 units": [{"type": "text", "text": "😀" * 2501}],
    "six messages": [{"type": "text", "text": "hi"}] * 6,
    "URI action as a quick reply": [
        {
            "type": "text",
            "text": "hi",
            "quickReply": quick({"type": "uri", "label": "call", "uri": "tel:1925"}),
        }
    ],
    "14 quick replies": [
        {"type": "text", "text": "hi", "quickReply": quick(*[postback("x")] * 14)}
    ],
    "quick reply label over 20": [
        {"type": "text", "text": "hi", "quickReply": quick(postback("x" * 21))}
    ],
    "postback data over 300": [
        {"type": "text", "text": "hi", "quickReply": quick(postback("x", "d" * 301))}
    ],
    "flex without alt text": [
        {
            "type": "flex",
            "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical"}},
        }
    ],
    "carousel of 13 bubbles": [
        {
            "type": "flex",
            "altText": "a",
            "contents": {
                "type": "carousel",
                "contents": [
                    {
                        "type": "bubble",
                        "body": {
                            "type": "box",
                            "layout": "vertical",
                            "contents": [{"type": "text", "text": "t"}],
                        },
                    }
                ]
                * 13,
            },
        }
    ],
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_broken_messages_are_refused(fake: FakeLine, case: str) -> None:
    status, answer = await push(fake, BROKEN[case])
    assert status == 400, answer
    assert fake.accepted() == [] and fake.refused()


async def test_a_valid_push_is_accepted_once_per_retry_key(fake: FakeLine) -> None:
    key = str(uuid.uuid4())
    message = [{"type": "text", "text": "hi", "quickReply": quick(postback("menu"))}]
    assert (await push(fake, message, **{"X-Line-Retry-Key": key}))[0] == 200
    assert (await push(fake, message, **{"X-Line-Retry-Key": key}))[0] == 409
    assert (await push(fake, message, **{"X-Line-Retry-Key": "not-a-uuid"}))[0] == 400
    assert len(fake.accepted("push", to=ALICE)) == 1


async def test_wrong_token_and_unknown_reply_token_are_refused(fake: FakeLine) -> None:
    config = Configuration(access_token="wrong", host=fake.url)
    async with AsyncApiClient(config) as client:
        api = AsyncMessagingApi(client)
        with pytest.raises(ApiException) as refused:
            await api.multicast(MulticastRequest(to=[ALICE], messages=[TextMessage(text="hi")]))
    assert refused.value.status == 401
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    body = {"replyToken": "never-issued", "messages": [{"type": "text", "text": "hi"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/v2/bot/message/reply", json=body, headers=headers) as response,
    ):
        assert (response.status, (await response.json())["message"]) == (
            400,
            "Invalid reply token",
        )


async def test_multicast_through_the_sdk(fake: FakeLine) -> None:
    config = Configuration(access_token=ACCESS_TOKEN, host=fake.url)
    key = str(uuid.uuid4())
    request = MulticastRequest(to=[ALICE, user_id("bob")], messages=[TextMessage(text="hi")])
    async with AsyncApiClient(config) as client:
        api = AsyncMessagingApi(client)
        await api.multicast(request, x_line_retry_key=key)
        with pytest.raises(ApiException) as again:
            await api.multicast(request, x_line_retry_key=key)
    assert again.value.status == 409
    assert [c.body["to"] for c in fake.accepted("multicast")] == [[ALICE, user_id("bob")]]

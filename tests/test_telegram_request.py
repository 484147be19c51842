"""The aiohttp transport for python-telegram-bot: bodies, pooling, timeouts, errors, shutdown."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_request import AiohttpRequest
from tests.fake_telegram import TOKEN


class Echo:
    """A local server answering like the Bot API, recording what arrived and from where."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, Any]] = []
        self.peers: set[int] = set()
        self.delay = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.peers.add(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        await asyncio.sleep(self.delay)
        if request.content_type == "application/json":
            self.bodies.append((request.content_type, await request.json()))
        else:
            form = await request.post()
            parts = {
                k: (v.file.read() if isinstance(v, web.FileField) else v) for k, v in form.items()
            }
            self.bodies.append((request.content_type, parts))
        result: Any = True
        if request.match_info["method"] == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "Echo", "username": "echo_bot"}
        elif request.match_info["method"].startswith("send"):
            result = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    server = Echo()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", server.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}"
    yield server
    await runner.cleanup()


def bot_on(url: str, request: AiohttpRequest) -> Bot:
    return Bot(TOKEN, base_url=f"{url}/bot", request=request, get_updates_request=request)


async def test_plain_calls_send_typed_json(echo: Echo) -> None:
    async with bot_on(echo.url, AiohttpRequest()) as bot:
        await bot.set_my_commands([("menu", "Main menu")], language_code="en")
    content_type, body = echo.bodies[-1]
    assert content_type == "application/json"
    assert body == {
        "commands": [{"command": "menu", "description": "Main menu"}],
        "language_code": "en",
    }


async def test_uploads_go_as_multipart(echo: Echo) -> None:
    async with bot_on(echo.url, AiohttpRequest()) as bot:
        await bot.send_document(5, InputFile(b"a,b\n", filename="usage.csv"))
    content_type, parts = echo.bodies[-1]
    assert content_type == "multipart/form-data"
    assert (parts["chat_id"], parts["document"]) == ("5", b"a,b\n")


async def test_connections_are_pooled(echo: Echo) -> None:
    echo.delay = 0.05
    async with bot_on(echo.url, AiohttpRequest(connection_pool_size=4)) as bot:
        echo.peers.clear()
        await asyncio.gather(*(bot.get_me() for _ in range(40)))
    assert 1 <= len(echo.peers) <= 4


async def test_a_slow_answer_times_out(echo: Echo) -> None:
    echo.delay = 1.0
    request = AiohttpRequest(read_timeout=0.1)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{echo.url}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_unreachable_api_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connection refused
        request = AiohttpRequest()
        await request.initialize()
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        await request.shutdown()
    assert not isinstance(caught.value, TimedOut)


async def test_shutdown_closes_and_initialize_reopens(echo: Echo) -> None:
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # twice is harmless
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{echo.url}/bot{TOKEN}/getMe")
    await request.initialize()
    assert (await request.post(f"{echo.url}/bot{TOKEN}/getMe"))["first_name"] == "Echo"
    await request.shutdown()

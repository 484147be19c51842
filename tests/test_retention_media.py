"""Retention purge and media served under expiring, unguessable paths."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.web import build_app
from handlers.jobs import purge_old_rows
from storage import conversation, events, media, outbox
from storage.db import unit_of_work
from storage.models import ConversationState, OutboxMessage, ProcessedEvent


async def count(sessions, model) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_purge_keeps_pending_work_and_drops_old_done_rows(sessions, clock) -> None:
    async with unit_of_work(sessions) as session:
        await events.record(session, channel="test", event_id="old", payload={}, now=clock())
        await events.finish(session, channel="test", event_id="old", now=clock())
        await events.record(
            session, channel="test", event_id="pending", payload={"a": 1}, now=clock()
        )
        await outbox.enqueue(
            session,
            channel="test",
            recipient="r",
            locale="en",
            payload={"replies": []},
            key="k1",
            now=clock(),
        )
        await conversation.save(session, "test", "u", flow="bk", step="x", data={}, now=clock())
    clock.advance(days=31)
    assert await purge_old_rows(sessions, clock()) == 2
    assert await count(sessions, ProcessedEvent) == 1
    assert await count(sessions, OutboxMessage) == 1
    assert await count(sessions, ConversationState) == 0


async def test_media_is_served_by_token_until_it_expires(
    sessions, settings, dispatcher, clock
) -> None:
    from bot.clock import utcnow

    async with unit_of_work(sessions) as session:
        token = await media.store(
            session,
            content=b"\x89PNG...",
            mime_type="image/png",
            now=utcnow(),
            lifetime=timedelta(hours=1),
        )
        expired = await media.store(
            session, content=b"old", mime_type="image/png", now=utcnow() - timedelta(days=8)
        )
    runtime = Runtime(settings, None, sessions, dispatcher)  # type: ignore[arg-type]
    async with TestClient(TestServer(build_app(runtime))) as client:
        ok = await client.get(f"/media/{token}")
        assert (ok.status, await ok.read(), ok.content_type) == (200, b"\x89PNG...", "image/png")
        assert (await client.get(f"/media/{expired}")).status == 404
        assert (await client.get("/media/guess")).status == 404
    assert len(token) >= 40


async def test_readiness_fails_while_the_database_is_unreachable(
    settings, dispatcher, tmp_path
) -> None:
    from storage.db import create_engine, session_factory

    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    runtime = Runtime(settings, broken, session_factory(broken), dispatcher)
    async with TestClient(TestServer(build_app(runtime))) as client:
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 503
    await broken.dispose()


async def test_retention_is_configurable(sessions, clock) -> None:
    from storage.retention import Retention

    async with unit_of_work(sessions) as session:
        await events.record(session, channel="test", event_id="e", payload={}, now=clock())
        await events.finish(session, channel="test", event_id="e", now=clock())
    clock.advance(days=3)
    assert await purge_old_rows(sessions, clock(), Retention(processed_events=5)) == 0
    assert await purge_old_rows(sessions, clock(), Retention(processed_events=2)) == 1

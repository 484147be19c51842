"""Events stored before acknowledging, processed once, recovered after a crash; outbox retries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import metrics
from bot.delivery import OutboxWorker, deliver
from bot.inbox import Inbox
from storage import events
from storage.db import unit_of_work
from storage.models import AuditLog, OutboxMessage, OutboxStatus, ProcessedEvent
from storage.retention import purge
from tests.fake_channel import CHANNEL, FakeSource, RecordingSender


def make_inbox(dispatcher, clock) -> tuple[Inbox, RecordingSender]:
    sender = RecordingSender()
    worker = OutboxWorker(dispatcher.sessions, {CHANNEL: sender}, clock=clock)
    return Inbox(dispatcher, {CHANNEL: FakeSource()}, worker, clock=clock), sender


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_event_is_answered_once_even_when_delivered_twice(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    body = [("e1", {"id": "e1", "user": "u1", "text": "hello"})]
    assert await inbox.accept(CHANNEL, body) == ["e1"]
    assert await inbox.accept(CHANNEL, body) == []
    inbox.schedule(CHANNEL, ["e1"])
    inbox.schedule(CHANNEL, ["e1"])
    await inbox.drain()
    assert sender.keys_for("u1") == [["privacy-notice"]]
    assert sender.sent[0].context == {"reply_to": "e1"}
    async with dispatcher.sessions() as session:
        row = await session.scalar(select(ProcessedEvent))
    assert row.processed_at is not None and row.payload is None


async def test_acknowledged_event_cut_off_by_a_crash_is_processed_at_start(
    dispatcher, clock
) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    await inbox.accept(CHANNEL, [("e2", {"id": "e2", "user": "u2", "text": "hi"})])
    restarted, sender = make_inbox(dispatcher, clock)
    assert await restarted.recover() == 1
    assert sender.keys_for("u2") == [["privacy-notice"]]
    assert await restarted.recover() == 0


async def test_event_without_a_user_is_finished_without_reply(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    await inbox.accept(CHANNEL, [("e3", {"type": "unknown"})])
    await inbox.process(CHANNEL, "e3")
    assert sender.sent == []
    pending = ProcessedEvent.processed_at.is_(None)
    assert await count(dispatcher.sessions, ProcessedEvent, pending) == 0


async def test_failed_send_is_retried_with_backoff_and_not_lost(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    sender.fail_next = 2
    await inbox.accept(CHANNEL, [("e4", {"id": "e4", "user": "u4", "text": "hi"})])
    await inbox.process(CHANNEL, "e4")
    assert sender.sent == [] and sender.attempts == 1
    senders = {CHANNEL: sender}
    assert await deliver(dispatcher.sessions, senders, now=clock()) == 0
    clock.advance(seconds=2)
    assert await deliver(dispatcher.sessions, senders, now=clock()) == 0
    clock.advance(seconds=4)
    assert await deliver(dispatcher.sessions, senders, now=clock()) == 1
    assert sender.keys_for("u4") == [["privacy-notice"]]
    sent = OutboxMessage.status == OutboxStatus.SENT
    assert await count(dispatcher.sessions, OutboxMessage, sent) == 1


async def test_retry_after_is_respected(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    sender.fail_next, sender.retry_after = 1, 30
    await inbox.accept(CHANNEL, [("e5", {"id": "e5", "user": "u5", "text": "hi"})])
    await inbox.process(CHANNEL, "e5")
    clock.advance(seconds=29)
    assert await deliver(dispatcher.sessions, {CHANNEL: sender}, now=clock()) == 0
    clock.advance(seconds=1)
    assert await deliver(dispatcher.sessions, {CHANNEL: sender}, now=clock()) == 1


async def test_already_delivered_counts_as_sent(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    sender.already_delivered_next = 1
    await inbox.accept(CHANNEL, [("e6", {"id": "e6", "user": "u6", "text": "hi"})])
    await inbox.process(CHANNEL, "e6")
    assert sender.sent == []
    sent = OutboxMessage.status == OutboxStatus.SENT
    assert await count(dispatcher.sessions, OutboxMessage, sent) == 1


async def test_a_failing_recipient_does_not_jump_its_own_queue(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    sender.fail_next = 1
    await inbox.accept(
        CHANNEL,
        [
            ("a", {"id": "a", "user": "u7", "text": "one"}),
            ("b", {"id": "b", "user": "u7", "payload": "help"}),
            ("c", {"id": "c", "user": "u8", "text": "x"}),
        ],
    )
    for event_id in ("a", "b", "c"):
        await inbox.process(CHANNEL, event_id)
    assert sender.keys_for("u7") == []
    assert sender.keys_for("u8") == [["privacy-notice"]]
    clock.advance(minutes=5)
    assert await deliver(dispatcher.sessions, {CHANNEL: sender}, now=clock()) == 1
    assert await deliver(dispatcher.sessions, {CHANNEL: sender}, now=clock()) == 1
    assert await deliver(dispatcher.sessions, {CHANNEL: sender}, now=clock()) == 0
    assert sender.keys_for("u7") == [["privacy-notice"], ["help-text"]]


async def test_outbox_gives_up_after_max_attempts(dispatcher, clock) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    sender.fail_next = 100
    await inbox.accept(CHANNEL, [("e9", {"id": "e9", "user": "u9", "text": "hi"})])
    await inbox.process(CHANNEL, "e9")
    for _ in range(15):
        clock.advance(hours=2)
        await deliver(dispatcher.sessions, {CHANNEL: sender}, now=clock())
    dead = OutboxMessage.status == OutboxStatus.DEAD
    assert await count(dispatcher.sessions, OutboxMessage, dead) == 1
    assert sender.attempts == 12


async def test_an_event_that_keeps_failing_is_parked_with_an_alert_then_retried(
    dispatcher, clock, caplog
) -> None:
    inbox, sender = make_inbox(dispatcher, clock)
    real, tries = inbox.dispatcher.handle_event, []

    async def handle_event(channel, event_id, *args, **kwargs):
        if event_id == "bad":
            tries.append(event_id)
            raise RuntimeError("a bug in this turn")
        return await real(channel, event_id, *args, **kwargs)

    inbox.dispatcher.handle_event = handle_event
    await inbox.accept(CHANNEL, [("bad", {"id": "bad", "user": "u7", "text": "hi"})])
    await inbox.accept(CHANNEL, [("ok", {"id": "ok", "user": "u8", "text": "hi"})])
    before = metrics.EVENTS_PARKED.labels(CHANNEL)._value.get()
    assert await inbox.recover() == 1  # the good one goes through; the bad one is skipped
    for _ in range(events.MAX_FAILURES + 2):
        await inbox.recover()
    assert len(tries) == events.MAX_FAILURES  # parked: not tried again
    assert metrics.EVENTS_PARKED.labels(CHANNEL)._value.get() == before + 1
    assert any("parked" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    async with dispatcher.sessions() as session:
        [row] = await events.parked(session)
        assert row.failures == events.MAX_FAILURES and row.payload is not None
        actions = list(await session.scalars(select(AuditLog.action)))
    assert actions.count("event-parked") == 1
    inbox.dispatcher.handle_event = real  # fixed
    async with unit_of_work(dispatcher.sessions) as session:
        assert await events.unpark(session) == 1
    assert await inbox.recover() == 1
    assert sender.keys_for("u7") == [["privacy-notice"]]


async def test_parked_events_go_with_the_retention_window(dispatcher, clock) -> None:
    async with unit_of_work(dispatcher.sessions) as session:
        await events.record(session, channel=CHANNEL, event_id="x", payload={"t": 1}, now=clock())
        for _ in range(events.MAX_FAILURES):
            await events.note_failure(session, channel=CHANNEL, event_id="x", now=clock())
    async with unit_of_work(dispatcher.sessions) as session:
        assert await purge(session, now=clock() + timedelta(days=29)) == 0
        assert len(await events.parked(session)) == 1
    async with unit_of_work(dispatcher.sessions) as session:
        assert await purge(session, now=clock() + timedelta(days=31)) >= 1
        assert await events.parked(session) == []

"""The statements every update runs: prebuilt Core statements, each delivery recorded alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Delivery
from bot.clock import utcnow
from bot.delivery import deliver
from handlers.types import Reply, to_payload
from storage import conversation, events, outbox
from storage.db import unit_of_work
from storage.models import ConversationState, OutboxMessage, OutboxStatus


async def _replies(sessions: async_sessionmaker[AsyncSession], count: int, chat: str) -> list[int]:
    ids = []
    async with unit_of_work(sessions) as session:
        for number in range(count):
            added = await outbox.add_reply(
                session,
                channel="telegram",
                recipient=chat,
                locale="en",
                payload=to_payload([Reply("error-generic")]),
                key=f"reply:{chat}:{number}",
                now=utcnow(),
                leased=True,
            )
            ids.append(added.id)
    return ids


async def test_add_reply_stores_a_leased_pending_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        added = await outbox.add_reply(
            session,
            channel="telegram",
            recipient="7",
            locale="zh-TW",
            payload={"replies": [], "context": {"message_id": 3}},
            key="reply:telegram:e1",
            now=now,
            leased=True,
        )
    async with sessions() as session:
        row = await session.get(OutboxMessage, added.id)
    assert row is not None
    assert (row.status, row.recipient, row.locale, row.attempts) == (
        OutboxStatus.PENDING,
        "7",
        "zh-TW",
        0,
    )
    assert row.retry_key == added.retry_key and len(added.retry_key) == 36
    assert row.payload == {"replies": [], "context": {"message_id": 3}}
    assert row.next_attempt_at.replace(tzinfo=None) == (now + outbox.LEASE).replace(tzinfo=None)


async def test_has_pending_sees_only_the_chats_waiting_messages(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    [first] = await _replies(sessions, 1, "8")
    async with sessions() as session:
        assert await outbox.has_pending(session, channel="telegram", recipient="8")
        assert not await outbox.has_pending(session, channel="telegram", recipient="9")
    async with unit_of_work(sessions) as session:
        await outbox.record_sent(session, first, now=utcnow())
    async with sessions() as session:
        assert not await outbox.has_pending(session, channel="telegram", recipient="8")


async def test_conversation_state_round_trip_and_a_row_gone_meanwhile(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        assert await conversation.load(session, "telegram", "12") == ("", "", {})
        await conversation.save(
            session,
            "telegram",
            "12",
            flow="book",
            step="slot",
            data={"d": 1},
            now=now,
            existed=False,
        )
    async with unit_of_work(sessions) as session:
        assert await conversation.load(session, "telegram", "12") == ("book", "slot", {"d": 1})
        await conversation.save(
            session, "telegram", "12", flow="book", step="note", data={"d": 2}, now=now
        )
    async with unit_of_work(sessions) as session:
        assert await conversation.load(session, "telegram", "12") == ("book", "note", {"d": 2})
        await session.execute(ConversationState.__table__.delete())  # e.g. purged meanwhile
        await conversation.save(
            session, "telegram", "12", flow="book", step="done", data={}, now=now
        )
    async with unit_of_work(sessions) as session:
        assert await conversation.load(session, "telegram", "12") == ("book", "done", {})
        await conversation.save(session, "telegram", "12", flow="", step="", data={}, now=now)
    async with sessions() as session:
        assert await session.scalar(select(ConversationState.flow)) is None


async def test_events_stored_together_and_claimed_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    rows = [("telegram", "1", {"a": 1}), ("telegram", "2", {"a": 2}), ("line", "1", None)]
    async with unit_of_work(sessions) as session:
        assert await events.record_many(session, events=rows, now=now) == {
            ("telegram", "1"),
            ("telegram", "2"),
            ("line", "1"),
        }
    async with unit_of_work(sessions) as session:
        again = [*rows[:1], ("telegram", "3", {"a": 3})]
        assert await events.record_many(session, events=again, now=now) == {("telegram", "3")}
    async with unit_of_work(sessions) as session:
        assert await events.claim_and_finish(session, channel="telegram", event_id="2", now=now)
        assert not await events.claim_and_finish(
            session, channel="telegram", event_id="2", now=now
        )
        assert not await events.claim_and_finish(
            session, channel="telegram", event_id="404", now=now
        )
    async with sessions() as session:
        row = await session.scalar(events.select_event(channel="telegram", event_id="2"))
    assert row is not None and row.payload is None and row.processed_at is not None


@dataclass
class KeptSender:
    """A sender that keeps every delivery it is handed."""

    channel: str = "telegram"
    sent: list[Delivery] = field(default_factory=list)

    async def send(self, delivery: Delivery) -> None:
        """Keep the delivery."""
        self.sent.append(delivery)


async def test_a_delivery_round_records_each_send_and_leaves_later_messages_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, *later = await _replies(sessions, 3, "13")
    [only] = await _replies(sessions, 1, "14")
    sender = KeptSender()
    lease_over = utcnow() + outbox.LEASE + timedelta(seconds=1)
    # One message a chat per round, the oldest first; each recorded in its own transaction.
    assert await deliver(sessions, {"telegram": sender}, now=lease_over) == 2
    assert sorted(d.recipient for d in sender.sent) == ["13", "14"]
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_([first, *later, only]))
            )
        )
        assert await outbox.has_pending(session, channel="telegram", recipient="13")
        assert not await outbox.has_pending(session, channel="telegram", recipient="14")
    assert len(rows) == 4
    for row in rows:
        sent = row.id in (first, only)
        assert row.status == (OutboxStatus.SENT if sent else OutboxStatus.PENDING)
        assert (row.payload == {"sent": True}) is sent
        assert row.attempts == (1 if sent else 0)


def test_the_crisis_phrases_and_catalogs_are_ready_before_the_first_update() -> None:
    from bot import i18n, server
    from handlers import crisis_screen

    crisis_screen._default_phrases.cache_clear()
    i18n.bundle.cache_clear()
    server._warm_up()
    assert crisis_screen._default_phrases.cache_info().currsize == 1
    assert i18n.bundle.cache_info().currsize == len(i18n.SUPPORTED)
